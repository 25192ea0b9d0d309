"""The room keeps the consult going: a cut socket reconnects by itself, and so does a server restart,
with media flowing meanwhile and chat working again afterwards (F-ROOM, issue 4 "Reliability")."""

from channels.layers import channel_layers
from playwright.sync_api import expect

from consult.models import Consult, ConsultStatus
from tests.browser.conftest import LiveASGIServer, _asgi_application

from .room_helpers import (
    appointment_now,
    close_and_settle,
    patient_waits,
    practitioner_in_waiting_room,
    remote_frames,
)


def _call(browser, url_for, org):
    appointment = appointment_now(org)
    staff = practitioner_in_waiting_room(browser, url_for, org)
    patient = patient_waits(browser, url_for, org, appointment)
    staff.get_by_role("button", name="Call in").click()
    expect(patient).to_have_url(url_for(org.subdomain, "/c/room/"))
    remote_frames(staff)
    remote_frames(patient)
    return appointment, staff, patient


def _chat(sender, receiver, text):
    if sender.locator("[data-side]").is_hidden():
        sender.get_by_role("button", name="Chat").click()
    sender.get_by_label("Message").fill(text)
    sender.get_by_role("button", name="Send").click()
    expect(receiver.locator("[data-chat-log] li").filter(has_text=text)).to_have_count(1)


def test_a_cut_socket_reconnects_and_the_call_goes_on(browser, asgi_server, url_for, alpha):
    _appointment, staff, patient = _call(browser, url_for, alpha)
    connections = patient.evaluate("() => [...window.__room.peers.values()].map(p => p.pc)[0].connectionState")
    assert connections == "connected"

    # The patient's socket drops (a network hiccup): the page says so, and comes back by itself.
    patient.evaluate("() => window.__room.socket.close()")
    expect(patient.locator("[data-room-status]")).to_have_text("Connection lost; reconnecting…")
    expect(patient.locator("[data-room][data-connection=open]")).to_be_attached()
    # Media never depended on the socket: the same peer connection still delivers frames both ways.
    remote_frames(staff)
    remote_frames(patient)
    assert patient.evaluate("() => window.__room.peers.size") == 1
    _chat(staff, patient, "Can you hear me again?")
    _chat(patient, staff, "Yes, all good")

    # A network change: ICE restarts on the same connection and media carries on.
    patient.evaluate("() => [...window.__room.peers.values()][0].pc.restartIce()")
    remote_frames(staff)
    remote_frames(patient)
    close_and_settle(asgi_server, staff, patient)


def test_a_server_restart_does_not_end_the_consult(browser, alpha):
    server = LiveASGIServer(_asgi_application())
    server.start()
    port = server.port
    try:
        _appointment, staff, patient = _call(browser, server.url, alpha)
        server.stop()  # every socket drops
        expect(patient.locator("[data-room-status]")).to_have_text("Connection lost; reconnecting…")
        expect(staff.locator("[data-room-status]")).to_have_text("Connection lost; reconnecting…")
        remote_frames(patient)  # peer to peer: the video does not pass through the server

        # A new process in real life: new channel-layer connections (the old ones belonged to the stopped loop).
        channel_layers.backends.clear()
        server = LiveASGIServer(_asgi_application(), port=port)
        server.start()
        expect(patient.locator("[data-room][data-connection=open]")).to_be_attached(timeout=20_000)
        expect(staff.locator("[data-room][data-connection=open]")).to_be_attached(timeout=20_000)
        assert Consult.objects.with_scopes_disabled().get().status == ConsultStatus.OPEN
        _chat(staff, patient, "Still there?")
        _chat(patient, staff, "Yes")
        remote_frames(staff)
        remote_frames(patient)
        close_and_settle(server, staff, patient)
    finally:
        server.stop()
