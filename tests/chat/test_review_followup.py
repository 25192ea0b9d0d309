"""Live review of the chat (#9): a consult's end does not close the chat when the client already has the next
appointment of the same pair booked (the client would read "closed… opens again with your next appointment"
while looking at that appointment). The end of that appointment's consult closes it then."""

from chat import services
from consult import room
from consult import services as consult_services
from consult.models import Consult
from orgs.scoping import scopes_disabled
from tests.chat.core_helpers import book, channel_of, make_client, member, messages_of, reload, switch


def held(org, appointment, key="gp"):
    """The appointment's consult, started and ended by `key`."""
    holder = member(org, key)
    consult = room.consult_start(member=holder, appointment=appointment, force=True)
    room.consult_end(member=holder, consult=Consult.objects.with_scopes_disabled().get(pk=consult.pk))


def test_a_follow_up_with_the_same_practitioner_keeps_the_chat_open_until_its_own_end(alpha):
    switch(alpha, chat_open_after_consult=False, force_start=True)
    rosa = make_client(alpha)
    first, follow_up = book(alpha, rosa, minutes=1), book(alpha, rosa, minutes=60 * 24 * 7)
    held(alpha, first)
    channel = reload(channel_of(alpha, rosa))
    assert channel.closed_at is None
    assert services.client_may_post(channel) == (True, "")
    services.message_post(channel=channel, text="See you next week", client=rosa)
    held(alpha, follow_up)
    assert reload(channel).closed_at is not None


def test_only_a_scheduled_later_appointment_of_the_same_pair_keeps_it_open(alpha):
    switch(alpha, chat_open_after_consult=False, force_start=True)
    rosa = make_client(alpha)
    first = book(alpha, rosa, minutes=1)
    book(alpha, rosa, practitioner_key="physio", minutes=60 * 24)  # another practitioner: another channel
    cancelled = book(alpha, rosa, minutes=60 * 48)
    with scopes_disabled():
        consult_services.appointment_cancel(member=member(alpha, "admin"), appointment=cancelled)
    held(alpha, first)
    assert reload(channel_of(alpha, rosa)).closed_at is not None


def test_delete_after_the_consult_still_deletes_but_keeps_a_booked_pair_open(alpha):
    switch(alpha, chat_open_after_consult=False, delete_chat_after_consult=True, force_start=True)
    rosa = make_client(alpha)
    first = book(alpha, rosa, minutes=1)
    book(alpha, rosa, minutes=60 * 24)
    services.message_post(channel=channel_of(alpha, rosa), text="Before the consult", client=rosa)
    held(alpha, first)
    channel = reload(channel_of(alpha, rosa))
    assert messages_of(channel) == [] and channel.closed_at is None


def test_a_department_follow_up_keeps_the_department_channel_open(alpha):
    switch(alpha, chat_open_after_consult=False, force_start=True, strict_departments=True)
    rosa = make_client(alpha)
    first = book(alpha, rosa, practitioner_key=None, department="gp", minutes=1)
    book(alpha, rosa, minutes=60 * 24)  # with a practitioner: not the department's pair
    held(alpha, first, key="admin")
    assert reload(channel_of(alpha, rosa, practitioner_key=None)).closed_at is not None
    second = book(alpha, rosa, practitioner_key=None, department="gp", minutes=60 * 48)
    book(alpha, rosa, practitioner_key=None, department="gp", minutes=60 * 72)
    held(alpha, second, key="admin")
    assert reload(channel_of(alpha, rosa, practitioner_key=None)).closed_at is None
