"""Shared steps of the consultation-room browser tests: an appointment that is open now, people in the
waiting room and in the room, and checks that media really flows."""

import time as time_module
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from consult import links
from consult.models import AppointmentParticipant
from consult.services import appointment_create, client_create
from orgs.scoping import organization_scope, scopes_disabled
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, login


def appointment_now(org, *, practitioner_key="gp", guests=0, **client_fields):
    """A booked appointment starting now (so its links are open), with `guests` extra participants."""
    admin = org.people["admin"]
    with organization_scope(org):
        client = client_create(member=admin, initials="R.", first_name="Rosa", last_name="Verhoeven",
                               email="rosa@example.com", language="en",
                               department=org.departments_by_name["gp"], **client_fields)
        extra = [client_create(member=admin, is_external=True, initials="K.", first_name=f"Kim{i}",
                               last_name="Jansen", email=f"kim{i}@example.com", language="en")
                 for i in range(guests)]
        appointment = appointment_create(
            member=admin, client=client, practitioner=org.people[practitioner_key],
            starts_at=timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1), guests=extra)
    return appointment


def link_path(appointment, role="client", index=0):
    with scopes_disabled():
        participant = AppointmentParticipant.objects.filter(appointment=appointment, role=role).order_by("pk")[index]
    return f"/c/{links.token_for(participant.token_nonce)}/"


def new_page(browser, locale="en-GB"):
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale=locale)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    page.console_lines = []  # shown when a call does not come up
    page.on("console", lambda message: page.console_lines.append(f"{message.type}: {message.text}"))
    return page


def patient_waits(browser, url_for, org, appointment, role="client", index=0):
    page = new_page(browser)
    page.goto(url_for(org.subdomain, link_path(appointment, role, index)))
    expect(page.locator("[data-waiting-room][data-socket=open]")).to_be_attached()
    return page


def practitioner_in_waiting_room(browser, url_for, org, key="gp"):
    page = new_page(browser)
    login(page, url_for(org.subdomain, "/accounts/login/"), f"{key}@{org.subdomain}.test")
    page.goto(url_for(org.subdomain, "/portal/waiting-room/"))
    return page


def remote_frames(page, count=1, timeout=30):
    """Wait until `count` remote videos play real frames, and return their sizes. Frames must advance:
    a first frame that then freezes fails."""
    script = """() => [...document.querySelectorAll('.tile:not(.tile-local) video')].map(v => ({
        w: v.videoWidth, h: v.videoHeight, frames: v.getVideoPlaybackQuality().totalVideoFrames}))"""
    deadline = time_module.monotonic() + timeout
    first = None
    while time_module.monotonic() < deadline:
        videos = page.evaluate(script)
        playing = [v for v in videos if v["w"] > 0 and v["frames"] > 0]
        if len(playing) >= count:
            if first is None:
                first = playing
            elif all(now["frames"] > before["frames"] + 5 for now, before in zip(playing, first, strict=False)):
                return playing
        time_module.sleep(0.25)
    peers = page.evaluate("""() => [...window.__room.peers.values()].map(p => ({id: p.id, polite: p.polite,
        connection: p.pc.connectionState, ice: p.pc.iceConnectionState, signaling: p.pc.signalingState,
        receivers: p.pc.getReceivers().map(r => r.track && r.track.readyState)}))""")
    console = getattr(page, "console_lines", [])[-20:] + page.evaluate("() => window.__room.log")
    raise AssertionError(f"remote video did not play: {page.evaluate(script)}; peers: {peers}; console: {console}")


def wait_until(condition, timeout=10, message="condition not met"):
    deadline = time_module.monotonic() + timeout
    while time_module.monotonic() < deadline:
        if condition():
            return
        time_module.sleep(0.05)
    raise AssertionError(message)


def close_and_settle(server, *pages):
    """Close the browsers and wait until the server has finished with every connection they had."""
    for page in pages:
        page.context.close()
    server.wait_idle()
