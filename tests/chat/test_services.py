"""The chat's writes (chat/services.py): channels from every booking and by hand, joining, posting with its
rules and live events (ids only, never text), reading, access, deleting a history, public conversations, and
the channel lock that keeps a post from outliving a revocation."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from chat import selectors, services
from chat.models import Author, Channel, ChannelKind, ChannelMember, ReadMarker
from chat.sealing import open_text
from chat.widget_access import visitor_token_hash
from consult import services as consult_services
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from tests.chat.core_helpers import (
    book,
    channel_of,
    make_client,
    member,
    messages_of,
    reload,
    switch,
)
from tests.conftest import make_org


class RecordingLayer:
    """A channel layer that records what the services send."""

    def __init__(self):
        self.sent = []

    async def group_send(self, group, event):
        self.sent.append((group, event))


@pytest.fixture
def layer(monkeypatch):
    recording = RecordingLayer()
    monkeypatch.setattr(services, "get_channel_layer", lambda: recording)
    return recording


def audit(org, action):
    return list(AuditEvent.objects.with_scopes_disabled().filter(organization=org, action=action))


def channels_of(org, client):
    return list(Channel.objects.with_scopes_disabled().filter(organization=org, client=client))


# --- channels from appointments ------------------------------------------------------------------

def test_the_first_appointment_makes_the_channel_and_later_ones_reuse_it(alpha):
    rosa = make_client(alpha)
    book(alpha, rosa)
    book(alpha, rosa, minutes=120)
    [channel] = channels_of(alpha, rosa)
    assert (channel.kind, channel.practitioner_id, channel.department_id) == (
        ChannelKind.CLIENT, alpha.people["gp"].pk, alpha.departments_by_name["gp"].pk)
    assert channel.client_access and channel.closed_at is None
    book(alpha, rosa, "physio", minutes=180)  # another practitioner: another pair, another channel
    assert {c.practitioner_id for c in channels_of(alpha, rosa)} == {alpha.people["gp"].pk, alpha.people["physio"].pk}


def test_an_appointment_with_a_department_makes_the_department_channel(alpha):
    switch(alpha, strict_departments=True)
    rosa = make_client(alpha)
    book(alpha, rosa, practitioner_key=None, department="gp")
    book(alpha, rosa, practitioner_key=None, department="gp", minutes=120)
    [channel] = channels_of(alpha, rosa)
    assert channel.practitioner_id is None and channel.department_id == alpha.departments_by_name["gp"].pk


def test_quick_consults_and_widget_bookings_make_the_channel_too(alpha):
    rosa = make_client(alpha)
    with scopes_disabled():
        consult_services.quick_consult_create(member=member(alpha, "physio"), client=rosa)
        piet = make_client(alpha, "Piet")
        # The public widgets book through consult.services.book with no member (the visitor is none).
        consult_services.book(organization=alpha, client=piet, practitioner=alpha.people["gp"],
                              starts_at=timezone.now() + timedelta(hours=2))
    assert [c.practitioner_id for c in channels_of(alpha, rosa)] == [alpha.people["physio"].pk]
    assert [c.practitioner_id for c in channels_of(alpha, piet)] == [alpha.people["gp"].pk]


def test_a_refused_booking_leaves_no_channel(alpha):
    rosa = make_client(alpha)
    appointment = book(alpha, rosa)
    other = make_client(alpha, "Other")
    with pytest.raises(ValidationError), scopes_disabled():
        consult_services.appointment_create(member=member(alpha, "admin"), client=other,
                                            practitioner=alpha.people["gp"], starts_at=appointment.starts_at)
    assert channels_of(alpha, other) == []


def test_a_new_appointment_opens_a_channel_retention_closed(alpha, layer, django_capture_on_commit_callbacks):
    rosa = make_client(alpha)
    book(alpha, rosa)
    channel = channel_of(alpha, rosa)
    Channel.objects.with_scopes_disabled().filter(pk=channel.pk).update(closed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        book(alpha, rosa, minutes=120)
    assert reload(channel).closed_at is None
    assert (services.channel_group(channel.pk), {"type": "chat.access", "channel_id": channel.pk}) in layer.sent


def test_no_client_no_channel(alpha):
    rosa = make_client(alpha)
    appointment = book(alpha, rosa)
    appointment.client = None
    appointment.client_id = None
    assert services.channel_ensure_for_appointment(appointment=appointment) is None


# --- by hand, joining -----------------------------------------------------------------------------

def test_a_practitioner_starts_a_channel_by_hand_once(alpha):
    rosa = make_client(alpha)
    gp = member(alpha, "gp")
    channel = services.channel_create(member=gp, client=rosa, practitioner=alpha.people["gp"])
    assert channel.created_by_id == gp.pk and channel.department_id == rosa.department_id
    [event] = audit(alpha, "chat.channel_create")
    assert event.target_id == str(channel.pk) and event.actor_id == gp.user_id
    with pytest.raises(ValidationError, match="already have a chat"):
        services.channel_create(member=gp, client=rosa, practitioner=alpha.people["gp"])
    with pytest.raises(ValidationError):
        services.channel_create(member=gp, client=rosa, practitioner=alpha.people["physio"])
    assert len(channels_of(alpha, rosa)) == 1


def test_joining_is_audited_and_only_for_those_allowed(alpha):
    rosa = make_client(alpha)
    book(alpha, rosa)
    channel = channel_of(alpha, rosa)
    with pytest.raises(PermissionDenied):
        services.channel_join(member=member(alpha, "gp"), channel=channel)
    physio = member(alpha, "physio")
    services.channel_join(member=physio, channel=channel)
    assert ChannelMember.objects.with_scopes_disabled().filter(channel=channel, member=physio).count() == 1
    assert [e.actor_id for e in audit(alpha, "chat.channel_join")] == [physio.user_id]


# --- posting --------------------------------------------------------------------------------------

@pytest.fixture
def rosa_channel(alpha):
    rosa = make_client(alpha)
    book(alpha, rosa)
    return rosa, channel_of(alpha, rosa)


def test_texts_are_stripped_and_limited(alpha, rosa_channel):
    rosa, channel = rosa_channel
    for bad in ("", "   \n ", None, "x" * 4001):
        with pytest.raises(ValidationError):
            services.message_post(channel=channel, text=bad, client=rosa)
    services.message_post(channel=channel, text="  hello \n", client=rosa)
    services.message_post(channel=channel, text="y" * 4000, client=rosa)
    assert [open_text(m) for m in messages_of(channel)] == ["hello", "y" * 4000]


def test_exactly_one_author(alpha, rosa_channel):
    rosa, channel = rosa_channel
    with pytest.raises(TypeError):
        services.message_post(channel=channel, text="hi")
    with pytest.raises(TypeError):
        services.message_post(channel=channel, text="hi", client=rosa, member=member(alpha, "gp"))
    with pytest.raises(TypeError):
        services.message_post(channel=channel, text="hi", client=rosa, visitor=True)


def test_authors_names_and_what_posting_marks_read(alpha, rosa_channel):
    rosa, channel = rosa_channel
    gp = member(alpha, "gp")
    client_message = services.message_post(channel=channel, text="Question", client=rosa)
    stored = reload(channel)
    assert stored.client_read_at == client_message.created_at == stored.last_message_at
    staff_message = services.message_post(channel=channel, text="Answer", member=gp)
    assert (client_message.author, client_message.sender_name) == (Author.CLIENT, "Rosa Verhoeven")
    assert (staff_message.author, staff_message.sender_id, staff_message.sender_name) == (
        Author.STAFF, gp.pk, "Gp Alpha")
    marker = ReadMarker.objects.with_scopes_disabled().get(channel=channel, member=gp)
    assert marker.read_at == staff_message.created_at == reload(channel).last_message_at
    assert selectors.unread_total(gp) == 0 and selectors.unread_total(member(alpha, "admin")) == 1


def test_who_may_not_post(alpha, beta, rosa_channel):
    rosa, channel = rosa_channel
    with pytest.raises(ValidationError):
        services.message_post(channel=channel, text="hi", member=member(alpha, "physio"))  # not in the team
    with pytest.raises(ValidationError):
        services.message_post(channel=channel, text="hi", member=member(beta, "admin"))
    support = member(alpha, "gp")
    support.is_remote_support = True
    with pytest.raises(ValidationError):
        services.message_post(channel=channel, text="hi", member=support)
    other = make_client(alpha, "Other")
    with pytest.raises(ValidationError):
        services.message_post(channel=channel, text="hi", client=other)  # not this channel's client
    with pytest.raises(ValidationError):
        services.message_post(channel=channel, text="hi", visitor=True)  # no visitor in a client channel
    assert messages_of(channel) == []


def test_a_closed_channel_tells_the_client_why_and_staff_still_answer(alpha, rosa_channel):
    rosa, channel = rosa_channel
    Channel.objects.with_scopes_disabled().filter(pk=channel.pk).update(closed_at=timezone.now())
    with pytest.raises(ValidationError, match="This chat closed when your consult ended"):
        services.message_post(channel=channel, text="hi", client=rosa)
    services.message_post(channel=channel, text="We are here", member=member(alpha, "gp"))
    assert len(messages_of(channel)) == 1


def test_posting_sends_ids_never_text_after_the_commit(alpha, rosa_channel, layer,
                                                       django_capture_on_commit_callbacks):
    rosa, channel = rosa_channel
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = services.message_post(channel=channel, text="secret words", client=rosa)
        assert layer.sent == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert layer.sent == [
        (f"chat-channel-{channel.pk}", {"type": "chat.message", "message_id": message.pk}),
        (f"chat-org-{alpha.pk}", {"type": "chat.changed", "channel_id": channel.pk}),
    ]
    assert "secret" not in repr(layer.sent)


# --- reading --------------------------------------------------------------------------------------

def test_marking_read(alpha, rosa_channel, layer, django_capture_on_commit_callbacks):
    rosa, channel = rosa_channel
    admin = member(alpha, "admin")
    services.message_post(channel=channel, text="Question", client=rosa)
    assert selectors.unread_total(admin) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.channel_mark_read(channel=channel, member=admin)
    assert selectors.unread_total(admin) == 0
    assert (f"chat-org-{alpha.pk}", {"type": "chat.changed", "channel_id": channel.pk}) in layer.sent
    layer.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.channel_mark_read(channel=channel, member=admin)  # nothing was unread: nobody is told
    assert layer.sent == []
    with pytest.raises(PermissionDenied):
        services.channel_mark_read(channel=channel, member=member(alpha, "physio"))
    services.message_post(channel=channel, text="Answer", member=member(alpha, "gp"))
    assert [c.unread for c in selectors.channels_for_client(rosa)] == [1]
    services.channel_mark_read_by_client(channel=channel)
    assert [c.unread for c in selectors.channels_for_client(rosa)] == [0]


# --- access ---------------------------------------------------------------------------------------

def test_revoking_and_granting_access(alpha, rosa_channel, layer, django_capture_on_commit_callbacks):
    rosa, channel = rosa_channel
    deptadmin = member(alpha, "deptadmin")
    for role in ("gp", "physio"):
        with pytest.raises(PermissionDenied):
            services.chat_access_set(member=member(alpha, role), channel=channel, allowed=False)
    services.message_post(channel=channel, text="Before", member=member(alpha, "gp"))
    with django_capture_on_commit_callbacks(execute=True):
        services.chat_access_set(member=deptadmin, channel=channel, allowed=False)
    stored = reload(channel)
    assert not stored.client_access and stored.access_revoked_at is not None
    assert stored.access_changed_by_id == deptadmin.pk
    assert (f"chat-channel-{channel.pk}", {"type": "chat.access", "channel_id": channel.pk}) in layer.sent
    with pytest.raises(ValidationError, match="Your practice has stopped chat for you"):
        services.message_post(channel=stored, text="hi", client=rosa)
    # Staff cannot write either (policy.can_post_in_channel): the client would never read it.
    for role in ("gp", "deptadmin", "admin"):
        with pytest.raises(ValidationError):
            services.message_post(channel=stored, text="After", member=member(alpha, role))
    assert [m["text"] for m in selectors.messages_for(reload(channel), for_client=True)] == ["Before"]
    assert [m["text"] for m in selectors.messages_for(reload(channel))] == ["Before"]
    services.chat_access_set(member=deptadmin, channel=stored, allowed=False)  # again: no second row
    assert len(audit(alpha, "chat.access_revoke")) == 1

    Channel.objects.with_scopes_disabled().filter(pk=channel.pk).update(closed_at=timezone.now())
    services.chat_access_set(member=member(alpha, "admin"), channel=reload(channel), allowed=True)
    stored = reload(channel)
    assert stored.client_access and stored.access_revoked_at is None and stored.closed_at is None
    assert len(audit(alpha, "chat.access_grant")) == 1
    services.message_post(channel=stored, text="Thanks", client=rosa)


def test_a_revoked_client_is_told_the_same_words_live_and_on_the_page(alpha, rosa_channel):
    """One wording for a revocation: client_may_post (the socket's access event and a refused send) says what
    the page says, with the practice's phone number when it has one."""
    from chat.access import client_side_state

    rosa, channel = rosa_channel
    services.chat_access_set(member=member(alpha, "admin"), channel=channel, allowed=False)
    switch(alpha, contact_phone="")
    assert services.client_may_post(reload(channel)) == (
        False, "Your practice has stopped chat for you. Call them if you have a question.")
    switch(alpha, contact_phone="020 123 4567")
    stored = reload(channel)
    assert services.client_may_post(stored) == client_side_state(stored) == (
        False, "Your practice has stopped chat for you. Call them at 020 123 4567 if you have a question.")
    with pytest.raises(ValidationError) as refused:
        services.message_post(channel=stored, text="Hello?", client=rosa)
    assert refused.value.messages == [services.client_may_post(stored)[1]]


# --- deleting a history ---------------------------------------------------------------------------

def test_deleting_a_history(alpha, rosa_channel):
    rosa, channel = rosa_channel
    services.message_post(channel=channel, text="one", client=rosa)
    services.message_post(channel=channel, text="two", member=member(alpha, "gp"))
    with pytest.raises(PermissionDenied):
        services.history_delete(member=member(alpha, "physio"), channel=channel)
    assert services.history_delete(member=member(alpha, "gp"), channel=channel) == 2
    assert messages_of(channel) == [] and reload(channel).last_message_at is None
    [event] = audit(alpha, "chat.history_delete")
    assert event.changes == {"count": [None, 2]} and event.target_id == str(channel.pk)
    assert selectors.unread_total(member(alpha, "admin")) == 0


# --- public conversations -------------------------------------------------------------------------

def test_a_visitor_starts_a_conversation(alpha):
    with pytest.raises(ValidationError):
        services.public_conversation_start(organization=alpha, name="Vera", email="", text="Hi", language="en")
    switch(alpha, public_chat_widget=True)
    for name, email, text in (("", "", "Hi"), ("Vera", "not an address", "Hi"), ("Vera", "", " "),
                              ("V" * 121, "", "Hi")):
        with pytest.raises(ValidationError):
            services.public_conversation_start(organization=alpha, name=name, email=email, text=text, language="en")
    assert not Channel.objects.with_scopes_disabled().filter(organization=alpha).exists()
    channel, token = services.public_conversation_start(
        organization=alpha, name="  Vera  de Wit ", email="vera@example.test", text="Do you take new patients?",
        language="nl")
    stored = reload(channel)
    assert (stored.kind, stored.visitor_name, stored.visitor_email, stored.visitor_language) == (
        ChannelKind.PUBLIC, "Vera de Wit", "vera@example.test", "nl")
    assert stored.visitor_token_hash == visitor_token_hash(token) and token not in stored.visitor_token_hash
    [message] = messages_of(channel)
    assert (message.author, message.sender_name, open_text(message)) == (
        Author.VISITOR, "Vera de Wit", "Do you take new patients?")
    services.message_post(channel=stored, text="Yes", member=member(alpha, "deptadmin"))
    services.message_post(channel=stored, text="Great", visitor=True)
    switch(alpha, public_chat_widget=False)
    with pytest.raises(ValidationError):
        services.message_post(channel=reload(channel), text="Still there?", visitor=True)


# --- the channel lock -----------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_post_racing_with_a_revocation_does_not_survive_it(monkeypatch):
    """The revocation holds the channel's row lock; the client's post waits for it, then sees the channel
    revoked. (Without the lock the post reads the old row and is written after the revocation.)"""
    alpha = make_org("alpha", "Alpha Practice")
    rosa = make_client(alpha)
    book(alpha, rosa)
    channel = channel_of(alpha, rosa)
    locked, release = threading.Event(), threading.Event()
    real_audit = services.audit_record

    def slow_audit(**kwargs):
        locked.set()
        release.wait(10)
        return real_audit(**kwargs)

    monkeypatch.setattr(services, "audit_record", slow_audit)
    outcome = []

    def revoke():
        try:
            services.chat_access_set(member=member(alpha, "admin"), channel=reload(channel), allowed=False)
        finally:
            connection.close()

    def post():
        try:
            locked.wait(10)
            services.message_post(channel=reload(channel), text="Are you there?", client=rosa)
            outcome.append("posted")
        except Exception as error:  # noqa: BLE001 - a refusal or (SQLite) a locked database
            outcome.append(error)
        finally:
            connection.close()

    revoker, poster = threading.Thread(target=revoke), threading.Thread(target=post)
    revoker.start()
    poster.start()
    locked.wait(10)
    time.sleep(0.5)  # the post is now waiting for the lock (or has failed against it)
    release.set()
    revoker.join(20)
    poster.join(20)
    assert not reload(channel).client_access
    assert outcome and outcome[0] != "posted", outcome
    assert messages_of(channel) == []


# --- the demo -------------------------------------------------------------------------------------

def test_the_demo_gives_every_client_a_chat_and_eva_one_unread_message(db):
    from django.core.management import call_command

    from chat import selectors
    from chat.models import Message
    from orgs.models import Membership, Organization

    call_command("demo")
    demo = Organization.objects.get(subdomain="demo")
    channels = list(Channel.objects.with_scopes_disabled().filter(organization=demo, kind=ChannelKind.CLIENT))
    clients = {c.client_id for c in channels}
    assert len(clients) == 5  # every demo client (the extra participant has no channel)
    assert all(Message.objects.with_scopes_disabled().filter(channel=c).exists() for c in channels)
    eva = Membership.objects.with_scopes_disabled().select_related("organization", "user").get(
        organization=demo, user__email="eva@demo.test")
    assert selectors.unread_total(eva) == 1
    count = Message.objects.with_scopes_disabled().filter(organization=demo).count()
    call_command("demo")
    assert Message.objects.with_scopes_disabled().filter(organization=demo).count() == count
    assert selectors.unread_total(eva) == 1
