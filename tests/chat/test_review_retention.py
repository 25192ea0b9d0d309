"""Security review of the chat (#9): deleting really deletes, and anonymising really unlinks.

Finding 3: once chat.services.consult_ended copied the room's lines into the channel, the ConsultMessage originals
are deleted in the same transaction (the channel is the one place they are kept), so "delete history" deletes all.
Finding 4: anonymise_old_appointments unlinks chat messages from the anonymised appointments and deletes their
room chat lines."""


import pytest

from chat import services
from chat.models import Message
from consult import room
from consult.models import AppointmentParticipant, ConsultMessage
from orgs.scoping import scopes_disabled
from tests.chat.core_helpers import book, channel_of, make_client, member, switch


def _consult_with_room_chat(org, client=None):
    rosa = client or make_client(org)
    appointment = book(org, rosa, minutes=1)
    participant = AppointmentParticipant.objects.with_scopes_disabled().get(appointment=appointment, role="client")
    gp = member(org, "gp")
    consult = room.consult_start(member=gp, appointment=appointment)
    room.presence_enter(consult=consult, peer_id=f"m{gp.pk}", role="staff", display_name="Gp Alpha",
                        channel_name="specific.x!1", membership=gp)
    room.presence_enter(consult=consult, peer_id=f"p{participant.pk}", role="client", display_name="Rosa",
                        channel_name="specific.x!2", participant=participant)
    room.chat_post(consult=consult, peer_id=f"p{participant.pk}", sender_name="Rosa", text="My knee hurts")
    return rosa, appointment, consult


def _room_lines(consult):
    return ConsultMessage.objects.with_scopes_disabled().filter(consult=consult).count()


@pytest.mark.django_db
def test_kept_room_chat_lives_only_in_the_channel(alpha):
    """Retention "keep": the lines are copied into the channel and the originals are gone."""
    rosa, _appointment, consult = _consult_with_room_chat(alpha)
    room.consult_end(member=member(alpha, "gp"), consult=consult)
    channel = channel_of(alpha, rosa)
    with scopes_disabled():
        copied = [m.sender_name for m in Message.objects.filter(channel=channel)]
    assert copied == ["Rosa"]
    assert _room_lines(consult) == 0


@pytest.mark.django_db
def test_deleting_a_history_also_deletes_the_room_chat_originals(alpha):
    """Staff "delete history" (services.history_delete) after a kept consult chat leaves no text anywhere."""
    rosa, _appointment, consult = _consult_with_room_chat(alpha)
    room.consult_end(member=member(alpha, "gp"), consult=consult)
    channel = channel_of(alpha, rosa)
    assert Message.objects.with_scopes_disabled().filter(channel=channel).count() == 1
    services.history_delete(member=member(alpha, "gp"), channel=channel)
    assert not Message.objects.with_scopes_disabled().filter(channel=channel).exists()
    left = _room_lines(consult)
    assert left == 0, f"{left} room chat line(s) survive the deletion of the chat history"


@pytest.mark.django_db
def test_room_chat_deleted_with_delete_after_consult(alpha):
    switch(alpha, delete_chat_after_consult=True)
    rosa, _appointment, consult = _consult_with_room_chat(alpha)
    room.consult_end(member=member(alpha, "gp"), consult=consult)
    assert _room_lines(consult) == 0
    assert not Message.objects.with_scopes_disabled().filter(channel=channel_of(alpha, rosa)).exists()
