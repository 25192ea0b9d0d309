"""The client's page after the consult (consult/room_ended.html): when the organisation keeps the chat open after
the consult (and does not delete it), it says the chat goes on in the patient portal, with the client's portal
link; never to an extra participant, never when it would not be true."""

import pytest

from chat import services as chat_services
from chat.selectors import channel_of_appointment
from consult import room
from consult.models import AppointmentParticipant
from orgs.scoping import scopes_disabled
from portal.patient_links import portal_path
from tests.consult.test_room_services import appointment_now, client_participant, member, patient_client, switch

pytestmark = pytest.mark.django_db

GOES_ON = "The chat with your practice stays open."


def ended(org, appointment):
    gp = member(org, "gp")
    room.consult_end(member=gp, consult=room.consult_start(member=gp, appointment=appointment))


def ended_page(org, participant):
    page = patient_client(org, participant).get("/c/room/ended/")
    assert page.status_code == 200
    return page.content.decode()


def test_the_client_reads_that_the_chat_goes_on_in_the_portal(alpha):
    switch(alpha, chat_open_after_consult=True, delete_chat_after_consult=False)
    appointment = appointment_now(alpha)
    ended(alpha, appointment)
    html = ended_page(alpha, client_participant(appointment))
    assert GOES_ON in html and f'href="{portal_path(appointment.client)}"' in html


def test_an_extra_participant_is_not_sent_to_the_clients_portal(alpha):
    switch(alpha, chat_open_after_consult=True, delete_chat_after_consult=False)
    appointment = appointment_now(alpha, guests=1)
    ended(alpha, appointment)
    guest = AppointmentParticipant.objects.with_scopes_disabled().select_related("appointment").get(
        appointment=appointment, role="guest")
    html = ended_page(alpha, guest)
    assert GOES_ON not in html and portal_path(appointment.client) not in html


@pytest.mark.parametrize("retention", [
    {"chat_open_after_consult": False, "delete_chat_after_consult": False},
    {"chat_open_after_consult": False, "delete_chat_after_consult": True},
])
def test_no_word_of_the_chat_when_it_does_not_stay_open(alpha, retention):
    switch(alpha, **retention)
    appointment = appointment_now(alpha)
    ended(alpha, appointment)
    html = ended_page(alpha, client_participant(appointment))
    assert GOES_ON not in html and portal_path(appointment.client) not in html


def test_no_word_of_the_chat_when_the_clients_access_is_revoked(alpha):
    switch(alpha, chat_open_after_consult=True, delete_chat_after_consult=False)
    appointment = appointment_now(alpha)
    with scopes_disabled():
        chat_services.chat_access_set(member=member(alpha, "admin"), channel=channel_of_appointment(appointment),
                                      allowed=False)
    ended(alpha, appointment)
    assert GOES_ON not in ended_page(alpha, client_participant(appointment))
