"""Retention when a consult ends (F-CHAT-5, F-ORG-6): the room's chat moves into the client's channel, the
channel closes when the chat does not stay open, everything is deleted when the organisation says so; the
settings refuse "delete" together with "stays open"."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chat import selectors, services
from chat.models import Author, ReadMarker
from chat.sealing import open_text
from consult import room
from consult.models import AppointmentParticipant, Consult, ConsultStatus
from orgs.models import Organization
from tests.chat.core_helpers import book, channel_of, make_client, member, messages_of, reload, switch


def consult_with_chat(org, minutes=1, earlier=""):
    """A consult of gp with Rosa in the room, with a line from each side (after Rosa's `earlier` message)."""
    rosa = make_client(org)
    appointment = book(org, rosa, minutes=minutes)
    if earlier:
        services.message_post(channel=channel_of(org, rosa), text=earlier, client=rosa)
    participant = AppointmentParticipant.objects.with_scopes_disabled().get(appointment=appointment, role="client")
    gp = member(org, "gp")
    consult = room.consult_start(member=gp, appointment=appointment)
    room.presence_enter(consult=consult, peer_id=f"m{gp.pk}", role="staff", display_name="Gp Alpha",
                        channel_name="specific.x!1", membership=gp)
    room.presence_enter(consult=consult, peer_id=f"p{participant.pk}", role="client", display_name="Rosa",
                        channel_name="specific.x!2", participant=participant)
    room.chat_post(consult=consult, peer_id=f"p{participant.pk}", sender_name="Rosa Verhoeven", text="My knee hurts")
    room.chat_post(consult=consult, peer_id=f"m{gp.pk}", sender_name="Gp Alpha", text="Rest it for a week")
    return rosa, appointment, consult, channel_of(org, rosa)


def test_by_default_the_room_chat_is_kept_in_the_open_channel(alpha):
    rosa, appointment, consult, channel = consult_with_chat(alpha, earlier="Earlier question")
    gp = member(alpha, "gp")
    room.consult_end(member=gp, consult=consult)
    stored = reload(channel)
    assert stored.closed_at is None
    kept = messages_of(channel)
    assert [(m.author, m.sender_name, open_text(m)) for m in kept] == [
        (Author.CLIENT, "Rosa Verhoeven", "Earlier question"),
        (Author.CLIENT, "Rosa Verhoeven", "My knee hurts"),
        (Author.STAFF, "Gp Alpha", "Rest it for a week"),
    ]
    assert [m.appointment_id for m in kept] == [None, appointment.pk, appointment.pk]
    assert kept[2].sender_id == gp.pk
    # Seen in the room: not unread for the practitioner who was there, and no unread email for the client.
    assert ReadMarker.objects.with_scopes_disabled().get(channel=channel, member=gp).read_at >= kept[2].created_at
    assert stored.client_read_at >= kept[2].created_at
    assert [c.unread for c in selectors.channels_for_client(rosa)] == [0]
    assert stored.last_message_at == kept[2].created_at
    services.message_post(channel=stored, text="Thank you", client=rosa)  # still open


def test_chat_not_staying_open_closes_the_channel_until_the_next_appointment(alpha):
    switch(alpha, chat_open_after_consult=False)
    rosa, _appointment, consult, channel = consult_with_chat(alpha)
    room.consult_end(member=member(alpha, "gp"), consult=consult)
    stored = reload(channel)
    assert stored.closed_at is not None
    # The history stays readable, writing is refused with the reason.
    assert [m["text"] for m in selectors.messages_for(stored, for_client=True)] == [
        "My knee hurts", "Rest it for a week"]
    allowed, reason = services.client_may_post(stored)
    assert not allowed and reason.startswith("This chat closed when your consult ended.")
    with pytest.raises(ValidationError, match="This chat closed when your consult ended"):
        services.message_post(channel=stored, text="One more thing", client=rosa)
    services.message_post(channel=stored, text="Call us if needed", member=member(alpha, "gp"))
    book(alpha, rosa, minutes=600)
    assert reload(channel).closed_at is None
    services.message_post(channel=reload(channel), text="One more thing", client=rosa)


def test_deleting_after_the_consult_deletes_the_channels_messages_and_closes_it(alpha):
    switch(alpha, chat_open_after_consult=False, delete_chat_after_consult=True)
    _rosa, _appointment, consult, channel = consult_with_chat(alpha, earlier="Earlier question")
    assert len(messages_of(channel)) == 1
    room.consult_end(member=member(alpha, "gp"), consult=consult)
    stored = reload(channel)
    assert messages_of(channel) == [] and stored.closed_at is not None and stored.last_message_at is None
    assert selectors.messages_for(stored, for_client=True) == []


def test_the_cleanup_job_applies_retention_to_consults_it_ends(alpha):
    switch(alpha, chat_open_after_consult=False)
    _rosa, _appointment, consult, channel = consult_with_chat(alpha)
    from consult.models import ConsultPresence

    old = timezone.now() - room.ABANDONED_AFTER * 2
    ConsultPresence.objects.with_scopes_disabled().filter(consult=consult).update(connected=False, last_seen_at=old)
    Consult.objects.with_scopes_disabled().filter(pk=consult.pk).update(started_at=old)
    ended, _files = room.consults_cleanup()
    assert ended == 1
    assert Consult.objects.with_scopes_disabled().get(pk=consult.pk).status == ConsultStatus.ENDED
    assert reload(channel).closed_at is not None and len(messages_of(channel)) == 2


def test_ending_twice_copies_the_chat_once(alpha):
    _rosa, _appointment, consult, channel = consult_with_chat(alpha)
    gp = member(alpha, "gp")
    room.consult_end(member=gp, consult=consult)
    room.consult_end(member=gp, consult=Consult.objects.with_scopes_disabled().get(pk=consult.pk))
    assert len(messages_of(channel)) == 2


def test_delete_after_the_consult_cannot_stay_open(alpha):
    organization = Organization.objects.get(pk=alpha.pk)
    organization.chat_open_after_consult, organization.delete_chat_after_consult = True, True
    with pytest.raises(ValidationError) as error:
        organization.full_clean()
    assert "delete_chat_after_consult" in error.value.message_dict
    organization.chat_open_after_consult = False
    organization.full_clean()
