"""Security review of the chat (#9), finding 1: the appointment link is a bearer URL without a PIN, so its chat is
bounded to the appointment. It works from the booking until 24 hours after the link's window closes
(consult.links.Window.closes_at; early, on time and late alike), shows only messages from the appointment's
booking on, and afterwards the link's pages point to the patient portal instead (page, /c/chat/, its updates
JSON and the socket alike)."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.utils import timezone

from chat import services
from chat.models import Message
from config.asgi import application
from consult import links
from consult.models import Appointment, AppointmentParticipant
from orgs.policy import LINK_CHAT_AFTER_WINDOW
from orgs.scoping import scopes_disabled
from portal.patient_links import portal_path
from tests.chat.core_helpers import book, channel_of, make_client, member, switch
from tests.conftest import host_client, make_org

TIMEOUT = 3


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _open_link(org, appointment):
    with scopes_disabled():
        participant = AppointmentParticipant.objects.get(appointment=appointment, role="client")
    browser = host_client(org)
    assert browser.get(f"/c/{links.token_for(participant.token_nonce)}/").status_code == 302
    return browser


def _closes_ago(org, appointment, delta):
    """Move the appointment so that its link's window closed `delta` ago."""
    starts_at = timezone.now() - delta - timedelta(minutes=org.consult_link_closes_minutes)
    with scopes_disabled():
        Appointment.objects.filter(pk=appointment.pk).update(starts_at=starts_at, status="completed")


def _gp_says(org, client, text):
    return services.message_post(channel=channel_of(org, client), text=text, member=member(org, "gp"))


@pytest.mark.django_db
def test_an_old_appointment_link_does_not_open_the_chat(alpha):
    """A 90-day-old appointment email reads nothing, writes nothing, and its page points to the portal."""
    switch(alpha, chat_in_waiting_room=True)
    rosa = make_client(alpha)
    appointment = book(alpha, rosa, minutes=5)
    browser = _open_link(alpha, appointment)
    with scopes_disabled():
        Appointment.objects.filter(pk=appointment.pk).update(starts_at=timezone.now() - timedelta(days=90),
                                                             status="completed")
    _gp_says(alpha, rosa, "Your biopsy result is in")
    response = browser.get("/c/chat/updates/")
    assert response.status_code == 404
    assert "Your biopsy result is in" not in response.content.decode()
    assert browser.post("/c/chat/", {"text": "hello"}).status_code == 404
    assert Message.objects.with_scopes_disabled().filter(channel=channel_of(alpha, rosa)).count() == 1
    html = browser.get("/c/").content.decode()
    assert "data-chat" not in html and "Your biopsy result is in" not in html
    assert "Chatting through this appointment link has ended." in html
    with scopes_disabled():
        assert f'href="{portal_path(rosa)}"' in html


@pytest.mark.django_db
def test_the_link_chat_works_until_a_day_after_the_window_closes(alpha):
    switch(alpha, chat_in_waiting_room=True)
    rosa = make_client(alpha)
    appointment = book(alpha, rosa, minutes=5)
    browser = _open_link(alpha, appointment)
    _closes_ago(alpha, appointment, LINK_CHAT_AFTER_WINDOW - timedelta(minutes=5))
    _gp_says(alpha, rosa, "How is the knee today?")
    assert [m["text"] for m in browser.get("/c/chat/updates/").json()["messages"]] == ["How is the knee today?"]
    assert browser.post("/c/chat/", {"text": "Better"}).status_code == 302
    html = browser.get("/c/").content.decode()
    assert "data-chat" in html and "Better" in html and "Chatting through this appointment link has ended." not in html

    _closes_ago(alpha, appointment, LINK_CHAT_AFTER_WINDOW + timedelta(minutes=5))
    assert browser.get("/c/chat/updates/").status_code == 404
    assert browser.post("/c/chat/", {"text": "Hello?"}).status_code == 404
    html = browser.get("/c/").content.decode()
    assert "data-chat" not in html and "Chatting through this appointment link has ended." in html


@pytest.mark.django_db
def test_the_link_chat_shows_only_messages_since_the_booking(alpha):
    """Older history needs the portal and its PIN: neither the page nor the updates JSON (after=0 or none) show it."""
    switch(alpha, chat_in_waiting_room=True)
    rosa = make_client(alpha)
    first = book(alpha, rosa, minutes=60)
    old = _gp_says(alpha, rosa, "Your blood test was fine")
    Message.objects.with_scopes_disabled().filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    with scopes_disabled():
        Appointment.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=40))
    second = book(alpha, rosa, minutes=5)
    with scopes_disabled():
        Appointment.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(days=1))
    _gp_says(alpha, rosa, "See you at 10")
    browser = _open_link(alpha, second)
    html = browser.get("/c/").content.decode()
    assert "See you at 10" in html and "Your blood test was fine" not in html
    for query in ("", "?after=0"):
        data = browser.get(f"/c/chat/updates/{query}").json()
        assert [m["text"] for m in data["messages"]] == ["See you at 10"]
    # The first appointment's link (booked before that message) does show it.
    assert "Your blood test was fine" in _open_link(alpha, first).get("/c/").content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_link_socket_closes_once_the_link_chat_is_over():
    """The socket re-checks access.link_chat for every event: after the end it hears nothing more."""
    alpha = make_org("alpha", "Alpha Practice")
    switch(alpha, chat_in_waiting_room=True)
    rosa = make_client(alpha)
    appointment = book(alpha, rosa, minutes=5)
    browser = _open_link(alpha, appointment)
    channel = channel_of(alpha, rosa)
    headers = [(b"host", b"alpha.localhost"), (b"origin", b"http://alpha.localhost"),
               (b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode())]

    async def scenario():
        from channels.db import database_sync_to_async

        sock = WebsocketCommunicator(application, f"/ws/chat/{channel.pk}/", headers=headers)
        connected, _ = await sock.connect(timeout=TIMEOUT)
        assert connected
        await database_sync_to_async(_closes_ago)(alpha, appointment, LINK_CHAT_AFTER_WINDOW + timedelta(hours=1))
        await database_sync_to_async(_gp_says)(alpha, rosa, "Your biopsy result is in")
        said = await sock.receive_json_from(timeout=TIMEOUT)
        closed = await sock.receive_output(timeout=TIMEOUT)
        await sock.disconnect()
        return said, closed

    said, closed = async_to_sync(scenario)()
    assert said["type"] == "access" and said["open"] is False
    assert "Chatting through this appointment link has ended." in said["reason"]
    assert closed["type"] == "websocket.close"
