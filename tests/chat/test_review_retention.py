"""Security review of the chat (#9): deleting really deletes, and anonymising really unlinks.

Finding 3: once chat.services.consult_ended copied the room's lines into the channel, the ConsultMessage originals
are deleted in the same transaction (the channel is the one place they are kept), so "delete history" deletes all.
Finding 4: anonymise_old_appointments unlinks chat messages from the anonymised appointments and deletes their
room chat lines."""


from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import Message
from consult import room
from consult.jobs import anonymise_old_appointments
from consult.models import Appointment, AppointmentParticipant, ConsultMessage
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


# --- anonymisation ----------------------------------------------------------------------------------

def _age(appointment, days):
    with scopes_disabled():
        Appointment.objects.filter(pk=appointment.pk).update(starts_at=timezone.now() - timedelta(days=days))


@pytest.mark.django_db
def test_anonymising_an_appointment_unlinks_its_chat_messages(alpha):
    """Chat messages sent from the waiting room (Message.appointment) must not tie an anonymised appointment to its
    client's channel; the messages themselves stay in the channel (the conversation is the client's)."""
    switch(alpha, anonymise_after_days=30)
    rosa = make_client(alpha)
    appointment = book(alpha, rosa, minutes=5)
    recent = book(alpha, rosa, minutes=90)
    channel = channel_of(alpha, rosa)
    services.message_post(channel=channel, text="I am in the waiting room", client=rosa, appointment=appointment)
    services.message_post(channel=channel, text="See you soon", client=rosa, appointment=recent)
    _age(appointment, 60)
    anonymise_old_appointments()
    with scopes_disabled():
        assert Appointment.objects.get(pk=appointment.pk).client_id is None
        assert not Message.objects.filter(appointment_id=appointment.pk).exists(), \
            "an anonymised appointment is still tied to its client through chat messages"
        assert Message.objects.filter(channel=channel).count() == 2
        assert Message.objects.filter(appointment_id=recent.pk).count() == 1  # not anonymised: untouched


@pytest.mark.django_db
def test_anonymising_an_appointment_leaves_no_room_chat(alpha):
    """Room chat lines of an anonymised appointment (here: a consult without a client channel to keep them in,
    as after retention "keep" before the fix) keep the client's name and words: they are deleted."""
    switch(alpha, anonymise_after_days=30)
    rosa, appointment, consult = _consult_with_room_chat(alpha)
    _age(appointment, 60)
    _same_rosa, _recent, recent_consult = _consult_with_room_chat(alpha, client=rosa)
    anonymise_old_appointments()
    with scopes_disabled():
        names = list(ConsultMessage.objects.filter(consult__appointment=appointment).values_list("sender_name",
                                                                                                 flat=True))
    assert names == [], f"room chat lines of an anonymised appointment are kept: {names}"
    assert _room_lines(recent_consult) == 1
