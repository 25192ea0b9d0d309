"""The client's chat in the patient portal (F-CHAT-2,3,4,5,7): /patient/messages/.

A signed-in patient sees each of their clients' channels separately with unread counts, reads a conversation
(which marks it read for them), writes with or without JavaScript, is told why when their practice stopped the
chat or it closed after the consult, always sees the "not for emergencies" notice, and gets a 404 for any
channel that is not theirs.
"""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import Author, Channel, Message
from chat.sealing import open_text
from consult import services as consult_services
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from tests.portal.patient_helpers import make_client, signed_in_patient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    """PIN and posting limits count in the cache: every test starts and ends with it empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


_SLOTS = itertools.count(1)


def appointment_for(org, client, practitioner_key="gp"):
    member = org.people[practitioner_key]
    minutes = 24 * 60 + 60 * next(_SLOTS)  # a free hour of its own
    with scopes_disabled():
        return consult_services.appointment_create(member=org.people["admin"], client=client, practitioner=member,
                                                   starts_at=timezone.now() + timedelta(minutes=minutes))


def channel_for(org, client, practitioner_key="gp"):
    with scopes_disabled():
        return services.channel_ensure_for_appointment(appointment=appointment_for(org, client, practitioner_key))


def staff_says(org, channel, text, who="gp"):
    with scopes_disabled():
        return services.message_post(channel=channel, text=text, member=org.people[who])


def client_messages(channel):
    with scopes_disabled():
        return [open_text(m) for m in Message.objects.filter(channel=channel, author=Author.CLIENT)]


@pytest.fixture
def rosa(alpha):
    return make_client(alpha)


@pytest.fixture
def patient(alpha, rosa, django_capture_on_commit_callbacks):
    return signed_in_patient(alpha, rosa, django_capture_on_commit_callbacks)


def test_the_messages_pages_need_a_signed_in_patient(alpha, rosa):
    from tests.conftest import host_client

    channel = channel_for(alpha, rosa)
    browser = host_client(alpha)
    for url in ("/patient/messages/", "/patient/messages/unread/", f"/patient/messages/{channel.pk}/",
                f"/patient/messages/{channel.pk}/updates/"):
        response = browser.get(url)
        assert response.status_code == 302 and response["Location"] == "/patient/", url
    assert browser.post(f"/patient/messages/{channel.pk}/", {"text": "hello"}).status_code == 302
    assert client_messages(channel) == []


def test_the_list_and_home_page_show_each_channel_with_its_unread_count(alpha, rosa, patient):
    with_gp = channel_for(alpha, rosa, "gp")
    with_physio = channel_for(alpha, rosa, "physio")
    staff_says(alpha, with_gp, "Your results are in.")
    staff_says(alpha, with_gp, "Please call us.")
    staff_says(alpha, with_physio, "See you Monday.")
    page = patient.get("/patient/messages/")
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    # Two practitioners, two separate conversations, each with its own count; no message text in the list.
    assert f'href="/patient/messages/{with_gp.pk}/"' in html and f'href="/patient/messages/{with_physio.pk}/"' in html
    assert "Chat with Gp Alpha" in html and "Chat with Physio Alpha" in html
    assert ">2<span class=\"visually-hidden\"> unread messages</span>" in html
    assert ">1<span class=\"visually-hidden\"> unread message</span>" in html
    assert "Your results are in" not in html
    assert "Not for emergencies." in html
    home = patient.get("/patient/").content.decode()
    assert "You have 3 unread messages." in home and f'href="/patient/messages/{with_gp.pk}/"' in home
    assert "chat with the practice will appear here" not in home
    assert 'data-count-url="/patient/messages/unread/"' in home
    # The home page's badge asks this; reading a conversation brings it down.
    assert patient.get("/patient/messages/unread/").json() == {"total": 3}
    patient.get(f"/patient/messages/{with_gp.pk}/")
    assert patient.get("/patient/messages/unread/").json() == {"total": 1}


def test_the_home_page_says_where_chat_will_appear_without_channels(patient):
    home = patient.get("/patient/").content.decode()
    assert "Your chat with the practice will appear here." in home


def test_several_clients_keep_their_chats_apart(alpha, django_capture_on_commit_callbacks):
    mother = make_client(alpha, email="family@example.com", last_name="Verhoeven")
    son = make_client(alpha, email="family@example.com", last_name="Verhoeven-Jr", date_of_birth="2015-01-01")
    mine, his = channel_for(alpha, mother), channel_for(alpha, son)
    browser = signed_in_patient(alpha, mother, django_capture_on_commit_callbacks)
    html = browser.get("/patient/messages/").content.decode()
    assert "Chats of R. Verhoeven" in html and "Chats of R. Verhoeven-Jr" in html
    assert f"/patient/messages/{mine.pk}/" in html and f"/patient/messages/{his.pk}/" in html
    page = browser.get(f"/patient/messages/{his.pk}/").content.decode()
    assert "For R. Verhoeven-Jr" in page
    browser.post(f"/patient/messages/{his.pk}/", {"text": "From the son's page"})
    with scopes_disabled():
        [message] = Message.objects.filter(channel=his)
    assert message.sender_name == "R. Verhoeven-Jr" and client_messages(mine) == []


def test_reading_the_conversation_marks_it_read_for_the_client_and_is_not_audited(alpha, rosa, patient):
    channel = channel_for(alpha, rosa)
    staff_says(alpha, channel, "Your results are in: see https://example.org/r?a=1&b=2 <b>now</b>")
    with scopes_disabled():
        audited = AuditEvent.objects.count()
    page = patient.get(f"/patient/messages/{channel.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "Chat with Gp Alpha" in html and "data-chat" in html
    assert f'data-ws-path="/ws/chat/{channel.pk}/"' in html
    assert f'data-updates-url="/patient/messages/{channel.pk}/updates/"' in html
    # Plain text: markup is escaped, the web address is a link.
    assert "&lt;b&gt;now&lt;/b&gt;" in html and "<b>now</b>" not in html
    assert '<a href="https://example.org/r?a=1&amp;b=2" rel="noopener noreferrer nofollow"' in html
    assert "Not for emergencies." in html and '<textarea' in html
    channel.refresh_from_db()
    assert channel.client_read_at is not None
    assert "No unread messages." in patient.get("/patient/").content.decode()
    # Their own data: no audit rows for the client reading it.
    with scopes_disabled():
        assert AuditEvent.objects.count() == audited


def test_posting_without_javascript_and_with_it(alpha, rosa, patient):
    channel = channel_for(alpha, rosa)
    url = f"/patient/messages/{channel.pk}/"
    response = patient.post(url, {"text": "  I have a question about my medicine  "})
    assert response.status_code == 302 and response["Location"] == f"{url}#chat-end"
    assert client_messages(channel) == ["I have a question about my medicine"]
    html = patient.get(url).content.decode()
    assert "I have a question about my medicine" in html and "is-mine" in html
    # The chat component posts with fetch and gets the message back as JSON.
    response = patient.post(url, {"text": "And one more"}, HTTP_ACCEPT="application/json",
                            HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 201
    message = response.json()["message"]
    assert message["text"] == "And one more" and message["author"] == "client" and message["mine"] is True
    # Empty or too long: nothing is stored, the reason is given.
    response = patient.post(url, {"text": "   "}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json()["error"]
    response = patient.post(url, {"text": "x" * 4001})
    assert response.status_code == 302 and response["Location"] == f"{url}#chat-form"
    assert "A message can be at most 4000 characters." in patient.get(url).content.decode()
    assert client_messages(channel) == ["I have a question about my medicine", "And one more"]


def test_updates_give_what_is_new_for_the_client(alpha, rosa, patient):
    channel = channel_for(alpha, rosa)
    first = staff_says(alpha, channel, "First")
    second = staff_says(alpha, channel, "Second")
    response = patient.get(f"/patient/messages/{channel.pk}/updates/?after={first.pk}")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    data = response.json()
    assert [m["id"] for m in data["messages"]] == [second.pk]
    assert data["messages"][0]["mine"] is False and data["open"] is True and data["reason"] == ""
    channel.refresh_from_db()
    assert channel.client_read_at >= second.created_at
    assert patient.get(f"/patient/messages/{channel.pk}/updates/?after={second.pk}").json()["messages"] == []
    assert patient.get(f"/patient/messages/{channel.pk}/updates/?after=abc").status_code == 200


def test_a_revoked_client_reads_nothing_new_cannot_write_and_is_told_why(alpha, rosa, patient):
    alpha.contact_phone = "020 123 4567"
    alpha.save()
    channel = channel_for(alpha, rosa)
    before = staff_says(alpha, channel, "Before the stop")
    after = staff_says(alpha, channel, "After the stop")
    with scopes_disabled():
        services.chat_access_set(member=alpha.people["deptadmin"], channel=channel, allowed=False)
    # Nobody posts after a revocation, but a message can land there (a consult's room chat kept when it ends):
    # the client must not read it.
    Channel.objects.with_scopes_disabled().filter(pk=channel.pk).update(
        access_revoked_at=after.created_at - timedelta(microseconds=1))
    url = f"/patient/messages/{channel.pk}/"
    html = patient.get(url).content.decode()
    assert "Your practice has stopped chat for you. Call them at 020 123 4567" in html
    assert "Before the stop" in html and "After the stop" not in html
    assert "<textarea" not in html and "Not for emergencies." in html
    response = patient.post(url, {"text": "Still there?"})
    assert response.status_code == 302 and client_messages(channel) == []
    data = patient.get(f"{url}updates/?after={before.pk}").json()
    assert data["messages"] == [] and data["open"] is False and "stopped chat" in data["reason"]
    listing = patient.get("/patient/messages/").content.decode()
    assert "chat stopped by your practice" in listing


def test_a_chat_closed_after_the_consult_is_read_only_with_the_reason(alpha, rosa, patient):
    channel = channel_for(alpha, rosa)
    staff_says(alpha, channel, "See you next time")
    with scopes_disabled():
        Channel.objects.filter(pk=channel.pk).update(closed_at=timezone.now())
    url = f"/patient/messages/{channel.pk}/"
    html = patient.get(url).content.decode()
    assert "This chat closed when your consult ended." in html and "See you next time" in html
    assert "<textarea" not in html and "Not for emergencies." in html
    response = patient.post(url, {"text": "One more question"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "closed" in response.json()["error"]
    assert client_messages(channel) == []


def test_another_clients_or_organisations_channel_is_a_404(alpha, beta, rosa, patient):
    other = make_client(alpha, email="other@example.com", last_name="Other")
    theirs = channel_for(alpha, other)
    stranger = make_client(beta, email="rosa@example.com")
    foreign = channel_for(beta, stranger)
    for channel in (theirs, foreign):
        for url in (f"/patient/messages/{channel.pk}/", f"/patient/messages/{channel.pk}/updates/"):
            assert patient.get(url).status_code == 404, url
        assert patient.post(f"/patient/messages/{channel.pk}/", {"text": "hi"}).status_code == 404
        assert client_messages(channel) == []
    assert patient.get("/patient/messages/999999/").status_code == 404
    html = patient.get("/patient/messages/").content.decode()
    assert f"/patient/messages/{theirs.pk}/" not in html and f"/patient/messages/{foreign.pk}/" not in html
