"""Charges on appointments (F-PAY-2): who may set them, which rates, frozen once paid; the portal's form,
payment panel, list badge and receipt download."""

from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from consult import services
from consult.models import Appointment, AppointmentStatus, Client
from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled
from payments import charges
from payments.models import Charge, PaymentStatus, Provider
from tests.conftest import signed_in_client
from tests.payments.factories import charged_appointment, paying_org, payment_make, rate_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha_pay(alpha):
    alpha.rate = paying_org(alpha)
    return alpha


@pytest.fixture
def beta_pay(beta):
    beta.rate = paying_org(beta)
    return beta


@pytest.fixture
def charged(alpha_pay):
    return charged_appointment(alpha_pay, rate=alpha_pay.rate)


def strict(organization):
    organization.strict_departments = True
    organization.save(update_fields=["strict_departments"])
    for member in organization.people.values():
        member.organization = organization


def appointment_with(organization, key="gp", starts_in=timedelta(days=1)):
    practitioner = organization.people[key]
    with organization_scope(organization):
        department = practitioner.departments.first()
        client = Client.objects.create(organization=organization, initials="A.", last_name="Visser",
                                       email="a.visser@example.test", language="nl", department=department)
        return Appointment.objects.create(organization=organization, practitioner=practitioner, client=client,
                                          department=department, starts_at=timezone.now() + starts_in,
                                          duration_minutes=20)


def charge_row(appointment):
    with scopes_disabled():
        return Charge.objects.filter(appointment=appointment).first()


# --- charge_set -----------------------------------------------------------------------------------

def test_department_admin_sets_changes_and_removes_the_charge_audited(alpha_pay):
    appointment = appointment_with(alpha_pay)
    deptadmin = alpha_pay.people["deptadmin"]
    charge = charges.charge_set(member=deptadmin, appointment=appointment, rate=alpha_pay.rate)
    assert (charge.name, charge.amount, charge.currency) == ("Consultation 20 min", Decimal("45.00"), "EUR")
    intake = rate_create(alpha_pay, name="Intake 45 min", amount="90.00")
    charges.charge_set(member=deptadmin, appointment=appointment, rate=intake)
    assert charge_row(appointment).amount == Decimal("90.00")
    assert charges.charge_set(member=deptadmin, appointment=appointment, rate=None) is None
    assert charge_row(appointment) is None
    with scopes_disabled():
        assert AuditEvent.objects.filter(organization=alpha_pay, action="appointment.charge").count() == 3


def payment_status(payment):
    with scopes_disabled():
        payment.refresh_from_db()
    return payment.status


@pytest.mark.parametrize("new_rate", ["other", None])
@responses.activate
def test_changing_or_removing_the_charge_ends_the_open_attempts_and_closes_their_checkout(
        charged, alpha_pay, django_capture_on_commit_callbacks, new_rate):
    """An open checkout for the old amount must not be payable any more."""
    appointment, participant, _charge = charged
    card = payment_make(participant, provider=Provider.STRIPE)
    paypal = payment_make(participant, provider=Provider.PAYPAL)
    expire = responses.add(responses.POST, f"{settings.STRIPE_API_BASE}/v1/checkout/sessions/"
                                           f"{card.provider_checkout_id}/expire",
                           json={"id": card.provider_checkout_id, "object": "checkout.session", "status": "expired"})
    rate = rate_create(alpha_pay, name="Intake 45 min", amount="90.00") if new_rate else None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        charges.charge_set(member=alpha_pay.people["admin"], appointment=appointment, rate=rate)
        # Expired in the transaction that changed the charge: the provider is asked only after it commits.
        assert payment_status(card) == payment_status(paypal) == PaymentStatus.EXPIRED
        assert expire.call_count == 0
    assert callbacks and expire.call_count == 1
    assert payment_status(card) == payment_status(paypal) == PaymentStatus.EXPIRED


@responses.activate
def test_the_same_rate_again_leaves_the_open_attempt_alone(charged, alpha_pay, django_capture_on_commit_callbacks):
    appointment, participant, _charge = charged
    card = payment_make(participant, provider=Provider.STRIPE)
    with django_capture_on_commit_callbacks(execute=True):
        charges.charge_set(member=alpha_pay.people["admin"], appointment=appointment, rate=alpha_pay.rate)
    assert payment_status(card) == PaymentStatus.OPEN and len(responses.calls) == 0


def test_org_admin_may_and_practitioner_may_not(alpha_pay):
    appointment = appointment_with(alpha_pay)
    charges.charge_set(member=alpha_pay.people["admin"], appointment=appointment, rate=alpha_pay.rate)
    with pytest.raises(PermissionDenied):
        charges.charge_set(member=alpha_pay.people["gp"], appointment=appointment, rate=None)
    assert charge_row(appointment) is not None


def test_department_admin_may_not_charge_another_departments_appointment(alpha_pay):
    strict(alpha_pay)
    appointment = appointment_with(alpha_pay, "physio")
    with pytest.raises(PermissionDenied):
        charges.charge_set(member=alpha_pay.people["deptadmin"], appointment=appointment, rate=alpha_pay.rate)
    assert charge_row(appointment) is None


def test_another_organisations_rate_or_an_inactive_one_is_refused(alpha_pay, beta_pay):
    appointment = appointment_with(alpha_pay)
    with pytest.raises(ValidationError) as refused:
        charges.charge_set(member=alpha_pay.people["admin"], appointment=appointment, rate=beta_pay.rate)
    assert "rate" in refused.value.error_dict
    old = rate_create(alpha_pay, name="Old rate")
    with scopes_disabled():
        old.is_active = False
        old.save()
    with pytest.raises(ValidationError):
        charges.charge_set(member=alpha_pay.people["admin"], appointment=appointment, rate=old)
    assert charge_row(appointment) is None


def test_another_organisations_appointment_is_refused(alpha_pay, beta_pay):
    theirs = appointment_with(beta_pay)
    with pytest.raises(PermissionDenied):
        charges.charge_set(member=alpha_pay.people["admin"], appointment=theirs, rate=alpha_pay.rate)


def test_a_paid_appointment_keeps_its_charge(charged, alpha_pay):
    appointment, participant, _charge = charged
    payment_make(participant, status=PaymentStatus.PAID)
    for rate in (None, rate_create(alpha_pay, name="Other")):
        with pytest.raises(ValidationError, match="already paid"):
            charges.charge_set(member=alpha_pay.people["admin"], appointment=appointment, rate=rate)
    assert charge_row(appointment).amount == Decimal("45.00")


def test_a_cancelled_appointment_is_refused(alpha_pay):
    appointment = appointment_with(alpha_pay)
    with scopes_disabled():
        Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.CANCELLED)
    with pytest.raises(ValidationError):
        charges.charge_set(member=alpha_pay.people["admin"], appointment=appointment, rate=alpha_pay.rate)


def test_payments_off_refuses_a_rate(alpha):
    rate = rate_create(alpha)
    appointment = appointment_with(alpha)
    with pytest.raises(ValidationError, match="switched off"):
        charges.charge_set(member=alpha.people["admin"], appointment=appointment, rate=rate)


def test_book_with_a_bad_rate_writes_no_appointment(alpha_pay, beta_pay):
    admin = alpha_pay.people["admin"]
    with organization_scope(alpha_pay):
        client = Client.objects.create(organization=alpha_pay, initials="B.", last_name="Bakker",
                                       email="b@example.test")
    with pytest.raises(ValidationError):
        services.appointment_create(member=admin, client=client, practitioner=alpha_pay.people["gp"],
                                    starts_at=timezone.now() + timedelta(days=2), rate=beta_pay.rate)
    with pytest.raises(ValidationError):  # a practitioner cannot make paid appointments
        services.appointment_create(member=alpha_pay.people["gp"], client=client,
                                    practitioner=alpha_pay.people["gp"],
                                    starts_at=timezone.now() + timedelta(days=2), rate=alpha_pay.rate)
    with scopes_disabled():
        assert not Appointment.objects.filter(client=client).exists()


# --- the portal -----------------------------------------------------------------------------------

def form_data(client, practitioner, **extra):
    return {"practitioner": practitioner.pk, "client": client.pk, "date": "2027-06-15", "time": "14:00",
            "duration_minutes": 20, **extra}


def test_new_appointment_form_round_trip_with_a_rate(alpha_pay):
    admin = alpha_pay.people["deptadmin"]
    browser = signed_in_client(admin.user, alpha_pay)
    with organization_scope(alpha_pay):
        client = Client.objects.create(organization=alpha_pay, initials="C.", last_name="de Vries",
                                       email="c@example.test", department=alpha_pay.departments_by_name["gp"])
    page = browser.get("/portal/appointments/new/").content.decode()
    assert "Paid consult" in page and "Consultation 20 min" in page
    missing = browser.post("/portal/appointments/new/", form_data(client, alpha_pay.people["gp"], paid="on"))
    assert missing.status_code == 200 and "Choose the rate of this paid consult." in missing.content.decode()
    response = browser.post("/portal/appointments/new/", form_data(client, alpha_pay.people["gp"], paid="on",
                                                                    rate=alpha_pay.rate.pk))
    assert response.status_code == 302
    with scopes_disabled():
        appointment = Appointment.objects.get(client=client)
        assert appointment.charge.amount == Decimal("45.00")


def test_practitioners_and_organisations_without_payments_get_no_rate_choice(alpha_pay, alpha):
    page = signed_in_client(alpha_pay.people["gp"].user, alpha_pay).get("/portal/appointments/new/")
    assert "Paid consult" not in page.content.decode()


def test_detail_panel_shows_attempts_and_the_charge_form_to_admins_only(charged, alpha_pay):
    appointment, participant, _charge = charged
    payment_make(participant, status=PaymentStatus.FAILED, failure_reason="card declined")
    paid = payment_make(participant, provider=Provider.PAYPAL, status=PaymentStatus.PAID,
                        receipt_number="2026-00003")
    url = f"/portal/appointments/{appointment.pk}/"
    admin_page = signed_in_client(alpha_pay.people["deptadmin"].user, alpha_pay).get(url).content.decode()
    assert "data-payment-panel" in admin_page
    assert "Paid on" in admin_page and "receipt 2026-00003" in admin_page and "PayPal" in admin_page
    assert "card declined" in admin_page and paid.provider_payment_id in admin_page
    assert "EUR 54.45" in admin_page  # 45.00 + 21 % VAT
    assert "Save the payment" not in admin_page  # paid: the charge is frozen
    gp_page = signed_in_client(alpha_pay.people["gp"].user, alpha_pay).get(url).content.decode()
    assert "data-payment-panel" in gp_page and "Save the payment" not in gp_page


def test_practitioner_who_may_not_view_the_appointment_sees_no_payments(charged, alpha_pay):
    appointment, participant, _charge = charged
    payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00001")
    strict(alpha_pay)
    physio = signed_in_client(alpha_pay.people["physio"].user, alpha_pay)
    assert physio.get(f"/portal/appointments/{appointment.pk}/").status_code == 404
    with scopes_disabled():
        reference = appointment.payments.get().reference
    assert physio.get(f"/portal/appointments/{appointment.pk}/receipts/{reference}/").status_code == 404


def test_charge_form_on_the_detail_page(alpha_pay):
    appointment = appointment_with(alpha_pay)
    browser = signed_in_client(alpha_pay.people["deptadmin"].user, alpha_pay)
    page = browser.get(f"/portal/appointments/{appointment.pk}/").content.decode()
    assert "Save the payment" in page
    browser.post(f"/portal/appointments/{appointment.pk}/charge/", {"paid": "on", "rate": alpha_pay.rate.pk})
    assert charge_row(appointment).name == "Consultation 20 min"
    gp = signed_in_client(alpha_pay.people["gp"].user, alpha_pay)
    assert gp.post(f"/portal/appointments/{appointment.pk}/charge/", {}).status_code == 404
    assert charge_row(appointment) is not None
    browser.post(f"/portal/appointments/{appointment.pk}/charge/", {})
    assert charge_row(appointment) is None


def test_list_shows_paid_and_due_badges(alpha_pay):
    due, _p, _c = charged_appointment(alpha_pay, rate=alpha_pay.rate)
    paid_appointment, participant, _c = charged_appointment(alpha_pay, rate=alpha_pay.rate, email="x@example.test")
    payment_make(participant, status=PaymentStatus.PAID)
    sek = rate_create(alpha_pay, name="Konsultation", amount="450.00", currency="SEK")
    charged_appointment(alpha_pay, rate=sek, email="sek@example.test")
    page = signed_in_client(alpha_pay.people["admin"].user, alpha_pay).get("/portal/appointments/").content.decode()
    assert page.count("badge-due") == 2 and page.count("badge-paid") == 1
    # Each badge names its charge's currency, not always euros.
    assert '<span class="badge badge-paid">EUR paid</span>' in page
    assert '<span class="badge badge-due">EUR due</span>' in page
    assert '<span class="badge badge-due">SEK due</span>' in page and "€ due" not in page


def test_receipt_download_is_a_pdf_and_audited(charged, alpha_pay):
    appointment, participant, _charge = charged
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00007")
    browser = signed_in_client(alpha_pay.people["admin"].user, alpha_pay)
    response = browser.get(f"/portal/appointments/{appointment.pk}/receipts/{payment.reference}/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert "receipt-2026-00007.pdf" in response["Content-Disposition"]
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="payment.receipt_download").count() == 1


# --- emails ---------------------------------------------------------------------------------------

def confirmation_text(appointment, django_capture_on_commit_callbacks):
    from consult.emails import build_message
    from consult.models import EmailKind

    with scopes_disabled():
        participant = appointment.participants.get()
        return build_message(appointment, participant, EmailKind.CONFIRMATION).body


@pytest.mark.parametrize("language, expected", [
    ("en", "This is a paid consultation: Consultation 20 min, €54.45 incl. VAT. You pay online before the "
           "waiting room opens."),
    ("nl", "€54,45"),
])
def test_confirmation_of_a_paid_appointment_says_the_amount(alpha_pay, language, expected,
                                                            django_capture_on_commit_callbacks):
    appointment, _participant, _charge = charged_appointment(alpha_pay, rate=alpha_pay.rate, language=language)
    body = confirmation_text(appointment, django_capture_on_commit_callbacks)
    assert expected in body
    assert body.count("€") == 1
    # (The sentence is gettext'd with the client's language active; its Dutch text comes with the .po files.)


def test_the_payment_codes_replace_the_appended_sentence(alpha_pay, django_capture_on_commit_callbacks):
    from consult.models import EmailKind, EmailTemplate

    appointment, _participant, _charge = charged_appointment(alpha_pay, rate=alpha_pay.rate)
    with scopes_disabled():
        EmailTemplate.objects.filter(organization=alpha_pay, kind=EmailKind.CONFIRMATION, language="en").update(
            body="Hello *|client_name|*, you pay *|payment_amount|*.")
    body = confirmation_text(appointment, django_capture_on_commit_callbacks)
    assert "you pay €45.00." in body and "This is a paid consultation" not in body


def test_free_appointments_and_payments_off_say_nothing_about_paying(alpha_pay, django_capture_on_commit_callbacks):
    from consult.models import ParticipantRole
    from consult.services import _add_participant
    from payments.models import PaymentSettings

    free = appointment_with(alpha_pay)
    with organization_scope(alpha_pay):
        _add_participant(free, free.client, ParticipantRole.CLIENT)
    assert "paid consultation" not in confirmation_text(free, django_capture_on_commit_callbacks)
    appointment, _participant, _charge = charged_appointment(alpha_pay, rate=alpha_pay.rate)
    with scopes_disabled():
        PaymentSettings.objects.filter(organization=alpha_pay).update(enabled=False)
    assert "paid consultation" not in confirmation_text(appointment, django_capture_on_commit_callbacks)
