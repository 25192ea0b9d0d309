"""Chat from the personal appointment link (F-CHAT-4, F-ORG-6 "chat in the waiting room").

With the organisation's switch on, the client chats from the link whether they come too early, on time or too
late: the pages show the appointment's channel, and /c/chat/ posts to it. Guests on the same appointment, a
cancelled appointment, a replaced link, or the switch off: no chat, and /c/chat/ is a 404.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import Author, Channel, Message
from chat.sealing import open_text
from consult import links
from consult import services as consult_services
from consult.models import Appointment, AppointmentParticipant
from orgs.scoping import scopes_disabled
from tests.conftest import host_client
from tests.portal.patient_helpers import make_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    """PIN and posting limits count in the cache: every test starts and ends with it empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def book(org, *, minutes, guests=(), practitioner="gp"):
    client = make_client(org)
    with scopes_disabled():
        return consult_services.appointment_create(
            member=org.people["admin"], client=client, practitioner=org.people[practitioner],
            starts_at=timezone.now() + timedelta(minutes=minutes), guests=guests)


def open_link(org, appointment, role="client"):
    """A browser that opened the appointment's personal link of its `role` participant."""
    with scopes_disabled():
        participant = AppointmentParticipant.objects.filter(appointment=appointment, role=role).first()
    browser = host_client(org)
    response = browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    assert response.status_code == 302
    return browser


def channel_of(appointment):
    with scopes_disabled():
        return services.channel_ensure_for_appointment(appointment=appointment)


def texts(channel, author=Author.CLIENT):
    with scopes_disabled():
        return [open_text(m) for m in Message.objects.filter(channel=channel, author=author)]


@pytest.fixture
def chatty(alpha):
    alpha.chat_in_waiting_room = True
    alpha.save()
    return alpha


@pytest.mark.parametrize("minutes, page_text", [
    (3 * 60, "You are early"),
    (5, "You are on time."),
    (-90, "This link is no longer valid"),
])
def test_the_client_chats_from_the_link_early_on_time_and_late(chatty, minutes, page_text):
    appointment = book(chatty, minutes=max(minutes, 5))
    if minutes < 0:  # the link was made before; the appointment has since passed
        with scopes_disabled():
            Appointment.objects.filter(pk=appointment.pk).update(starts_at=timezone.now() + timedelta(minutes=minutes))
    channel = channel_of(appointment)
    with scopes_disabled():
        services.message_post(channel=channel, text="We are running 10 minutes late", member=chatty.people["gp"])
    browser = open_link(chatty, appointment)
    html = browser.get("/c/").content.decode()
    assert page_text in html
    assert "data-chat" in html and "We are running 10 minutes late" in html and "Not for emergencies." in html
    assert 'data-post-url="/c/chat/"' in html and 'data-updates-url="/c/chat/updates/"' in html
    assert f'data-ws-path="/ws/chat/{channel.pk}/"' in html and "<textarea" in html
    channel.refresh_from_db()
    assert channel.client_read_at is not None
    response = browser.post("/c/chat/", {"text": "Fine, I will wait"})
    assert response.status_code == 302 and response["Location"] == "/c/#chat-end"
    assert texts(channel) == ["Fine, I will wait"]
    with scopes_disabled():
        message = Message.objects.get(channel=channel, author=Author.CLIENT)
    assert message.appointment_id == appointment.pk  # sent from the waiting room: retention applies
    response = browser.post("/c/chat/", {"text": "And again"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 201 and response.json()["message"]["mine"] is True
    data = browser.get(f"/c/chat/updates/?after={message.pk}").json()
    assert [m["text"] for m in data["messages"]] == ["And again"] and data["open"] is True
    assert browser.get("/c/chat/").status_code == 302  # the page lives at /c/
    # Without JavaScript a refused message comes back with the reason on the page.
    response = browser.post("/c/chat/", {"text": " "})
    assert response["Location"] == "/c/#chat-form" and "Type a message first." in browser.get("/c/").content.decode()


def test_switched_off_there_is_no_chat_on_the_link(alpha):
    appointment = book(alpha, minutes=5)
    channel = channel_of(appointment)
    browser = open_link(alpha, appointment)
    html = browser.get("/c/").content.decode()
    assert "You are on time." in html and "data-chat" not in html
    assert browser.post("/c/chat/", {"text": "hello"}).status_code == 404
    assert browser.get("/c/chat/updates/").status_code == 404
    assert texts(channel) == []


def test_a_guest_on_the_appointment_does_not_see_the_clients_chat(chatty):
    with scopes_disabled():
        guest = consult_services.client_create(member=chatty.people["admin"], is_external=True, initials="N.",
                                               last_name="Nurse", email="nurse@example.com")
    appointment = book(chatty, minutes=5, guests=[guest])
    channel = channel_of(appointment)
    with scopes_disabled():
        services.message_post(channel=channel, text="Private to the client", member=chatty.people["gp"])
    browser = open_link(chatty, appointment, role="guest")
    html = browser.get("/c/").content.decode()
    assert "data-chat" not in html and "Private to the client" not in html
    assert browser.post("/c/chat/", {"text": "hello"}).status_code == 404
    assert browser.get("/c/chat/updates/").status_code == 404
    assert texts(channel) == []


def test_a_cancelled_appointment_or_replaced_link_has_no_chat(chatty):
    appointment = book(chatty, minutes=5)
    channel = channel_of(appointment)
    browser = open_link(chatty, appointment)
    with scopes_disabled():
        consult_services.appointment_cancel(member=chatty.people["admin"], appointment=appointment)
    html = browser.get("/c/").content.decode()
    assert "This appointment has been cancelled" in html and "data-chat" not in html
    assert browser.post("/c/chat/", {"text": "hello"}).status_code == 404

    moved = book(chatty, minutes=10)
    browser = open_link(chatty, moved)
    with scopes_disabled():
        AppointmentParticipant.objects.filter(appointment=moved).update(token_hash="replaced")
    assert browser.post("/c/chat/", {"text": "hello"}).status_code == 404
    assert browser.get("/c/chat/updates/").status_code == 404
    assert texts(channel) == [] and texts(channel_of(moved)) == []


def test_a_revoked_client_reads_up_to_the_revocation_on_the_link(chatty):
    appointment = book(chatty, minutes=5)
    channel = channel_of(appointment)
    with scopes_disabled():
        services.message_post(channel=channel, text="Before", member=chatty.people["gp"])
        after = services.message_post(channel=channel, text="After", member=chatty.people["gp"])
        services.chat_access_set(member=chatty.people["deptadmin"], channel=channel, allowed=False)
    # Nobody posts after a revocation, but a message can land there (a consult's room chat kept when it ends).
    Channel.objects.with_scopes_disabled().filter(pk=channel.pk).update(
        access_revoked_at=after.created_at - timedelta(microseconds=1))
    browser = open_link(chatty, appointment)
    html = browser.get("/c/").content.decode()
    assert "Your practice has stopped chat for you." in html and "Before" in html and "After" not in html
    assert "<textarea" not in html
    response = browser.post("/c/chat/", {"text": "Hello?"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and texts(channel) == []


def test_the_link_channel_is_the_appointments_own(chatty):
    """A client with channels of two practitioners chats, from a link, in the one of that appointment."""
    appointment = book(chatty, minutes=5)
    with scopes_disabled():
        other = consult_services.appointment_create(
            member=chatty.people["admin"], client=appointment.client, practitioner=chatty.people["physio"],
            starts_at=timezone.now() + timedelta(days=3))
    mine, theirs = channel_of(appointment), channel_of(other)
    browser = open_link(chatty, appointment)
    browser.post("/c/chat/", {"text": "For the GP"})
    assert texts(mine) == ["For the GP"] and texts(theirs) == []
