"""The payment gate in front of the waiting room (F-APPT-6, F-PAY-3): the client of a paid appointment enters
the waiting room, its socket, the consultation room and its file sharing only once paid; extra participants are
not gated; with payments switched off nothing is; a payment reference of someone else is a 404."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from config.asgi import application
from consult import links, room
from consult.models import AppointmentParticipant, ParticipantRole, WaitingEntry
from orgs.scoping import organization_scope, scopes_disabled
from payments.gate import payment_due_for
from payments.models import PaymentStatus
from tests.conftest import host_client
from tests.payments.factories import charged_appointment, paying_org, payment_make, payments_enable

SOON = timedelta(minutes=10)


@pytest.fixture
def org(alpha):
    """alpha with payments on; `org.rate` is its EUR 45.00 rate."""
    alpha.rate = paying_org(alpha)
    return alpha


def open_link(org, participant):
    """A browser that opened `participant`'s personal link (the session now holds them)."""
    browser = host_client(org)
    response = browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    assert response.status_code == 302
    return browser


def guest_of(appointment):
    nonce = links.new_nonce()
    with organization_scope(appointment.organization):
        return AppointmentParticipant.objects.create(
            organization=appointment.organization, appointment=appointment, role=ParticipantRole.GUEST,
            token_nonce=nonce, token_hash=links.token_hash(links.token_for(nonce)))


def socket_close_code(org, path, browser):
    headers = [(b"host", org.hostname.encode()), (b"origin", f"http://{org.hostname}".encode()),
               (b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode())]

    async def scenario():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        message = await communicator.receive_output(timeout=2)
        code = message.get("code") if message["type"] == "websocket.close" else None
        await communicator.disconnect()
        return code

    return async_to_sync(scenario)()


@pytest.mark.django_db
def test_a_client_who_has_not_paid_is_sent_to_the_pay_page(org):
    _appointment, participant, charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    assert payment_due_for(participant) == charge
    browser = open_link(org, participant)
    response = browser.get("/c/")
    assert response.status_code == 302 and response["Location"] == "/pay/"


@pytest.mark.django_db
def test_once_paid_the_link_opens_the_waiting_room(org):
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    payment_make(participant, status=PaymentStatus.PAID)
    assert payment_due_for(participant) is None
    response = open_link(org, participant).get("/c/")
    assert response.status_code == 200 and b"data-waiting-room" in response.content
    # Paid: the pay page has nothing to offer and sends them on.
    assert open_link(org, participant).get("/pay/")["Location"] == "/c/"


@pytest.mark.django_db
def test_failed_and_open_attempts_do_not_open_the_gate(org):
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    payment_make(participant, status=PaymentStatus.FAILED)
    payment_make(participant, status=PaymentStatus.OPEN)
    assert open_link(org, participant).get("/c/")["Location"] == "/pay/"


@pytest.mark.django_db
def test_payments_switched_off_or_no_charge_means_no_gate(org):
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    payments_enable(org, enabled=False)
    assert payment_due_for(participant) is None
    assert open_link(org, participant).get("/c/").status_code == 200


@pytest.mark.django_db
def test_extra_participants_are_not_gated(org):
    appointment, _participant, _charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    guest = guest_of(appointment)
    assert payment_due_for(guest) is None
    browser = open_link(org, guest)
    assert browser.get("/c/").status_code == 200
    assert browser.get("/pay/")["Location"] == "/c/"


@pytest.mark.django_db
def test_too_early_the_link_offers_to_pay_in_advance(org):
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate)  # tomorrow
    browser = open_link(org, participant)
    page = browser.get("/c/").content.decode()
    assert "You are early" in page and 'href="/pay/"' in page and "Pay now" in page
    assert browser.get("/pay/").status_code == 200
    payment_make(participant, status=PaymentStatus.PAID)
    page = browser.get("/c/").content.decode()
    assert "You are early" in page and "Pay now" not in page


@pytest.mark.django_db
def test_cancelled_or_past_appointments_have_no_pay_page(org):
    appointment, participant, _charge = charged_appointment(org, rate=org.rate,
                                                            starts_in=-timedelta(hours=3))
    browser = open_link(org, participant)
    assert browser.get("/pay/")["Location"] == "/c/"
    assert "no longer valid" in browser.get("/c/").content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_waiting_room_socket_refuses_an_unpaid_client_and_takes_a_paid_one(org):
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    browser = open_link(org, participant)
    assert socket_close_code(org, "/ws/waiting/patient/", browser) == 4403
    with scopes_disabled():
        assert not WaitingEntry.objects.exists()
    payment_make(participant, status=PaymentStatus.PAID)
    assert socket_close_code(org, "/ws/waiting/patient/", browser) is None
    with scopes_disabled():
        assert WaitingEntry.objects.filter(participant=participant).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_consultation_room_page_socket_and_files_refuse_an_unpaid_client(org):
    org.force_start = True
    org.save()
    appointment, participant, _charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    gp = org.people["gp"]
    gp.organization = org  # with its force-start switch on
    with scopes_disabled():
        room.consult_start(member=gp, appointment=appointment, force=True)
    browser = open_link(org, participant)
    assert browser.get("/c/room/")["Location"] == "/c/"
    assert browser.post("/c/room/files/", {}).status_code == 404
    assert socket_close_code(org, "/ws/room/", browser) == 4403
    payment_make(participant, status=PaymentStatus.PAID)
    assert browser.get("/c/")["Location"] == "/c/room/"
    assert browser.get("/c/room/").status_code == 200


@pytest.mark.django_db
def test_another_participants_payment_reference_is_a_404(org, beta):
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    _other_appointment, other, _other_charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    _beta_appointment, beta_participant, _beta_charge = charged_appointment(beta, rate=paying_org(beta),
                                                                            starts_in=SOON)
    theirs = payment_make(other)
    beta_payment = payment_make(beta_participant)
    browser = open_link(org, participant)
    for payment in (theirs, beta_payment):
        for path in (f"/pay/return/{payment.reference}/", f"/pay/status/{payment.reference}/",
                     f"/pay/cancelled/{payment.reference}/"):
            assert browser.get(path).status_code == 404, path
    with scopes_disabled():
        assert type(theirs).objects.get(pk=theirs.pk).status == PaymentStatus.OPEN  # cancel did nothing


@pytest.mark.django_db
def test_questionnaires_from_the_waiting_room_wait_for_the_payment_too(org):
    from portal.views.patient_forms import _waiting_room_participant

    org.questionnaire_in_waiting_room = True
    org.save()
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    browser = open_link(org, participant)
    request = type("Request", (), {"organization": org, "session": browser.session})()
    with organization_scope(org):
        assert _waiting_room_participant(request) is None
    payment_make(participant, status=PaymentStatus.PAID)
    with organization_scope(org):
        assert _waiting_room_participant(request) == participant


