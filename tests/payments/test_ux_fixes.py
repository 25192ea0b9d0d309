"""What a walk-through of paid consultations found on the client's and the admin's side: the pay page keeps
what the client entered, the settings page says what is wrong, refunds and amounts incl. VAT are told, the
"paid" notice, paid widgets, the admin's "Try it", the CSV export and the rate choices."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from consult import links
from consult.emails import build_message
from consult.models import DeliveryStatus, EmailDelivery, EmailKind, EmailTemplate, ParticipantRole
from orgs.scoping import organization_scope, scopes_disabled
from payments.models import ClientType, PaymentSettings, PaymentStatus, Provider
from tests.conftest import host_client, signed_in_client
from tests.payments.factories import charged_appointment, paying_org, payment_make

pytestmark = pytest.mark.django_db

SOON = timedelta(minutes=10)
BUSINESS_DE = {"client_type": ClientType.BUSINESS, "country": "DE", "name": "Erika Muster",
               "company_name": "Muster GmbH", "vat_number": "DE123456789", "email": "erika@muster.example"}


@pytest.fixture
def org(alpha):
    alpha.rate = paying_org(alpha)
    return alpha


def opened_link(org, *, starts_in=SOON):
    """(browser with the client's link opened, appointment, participant)."""
    appointment, participant, _charge = charged_appointment(org, rate=org.rate, starts_in=starts_in)
    browser = host_client(org)
    browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    return browser, appointment, participant


def selected(page, value):
    return f'<option value="{value}" selected>' in page


# --- 1. the pay page keeps what the client entered ---------------------------------------------------------

@pytest.mark.parametrize("status", [PaymentStatus.FAILED, PaymentStatus.EXPIRED])
def test_the_pay_page_is_prefilled_from_the_latest_attempt(org, status):
    browser, _appointment, participant = opened_link(org)
    payment_make(participant, status=status, billing=BUSINESS_DE)
    page = browser.get("/pay/").content.decode()
    assert selected(page, "DE") and not selected(page, "NL")
    assert 'value="business" checked' in page or re.search(r'value="business"[^>]*checked', page)
    for value in ("Erika Muster", "Muster GmbH", "DE123456789", "erika@muster.example"):
        assert f'value="{value}"' in page, value
    assert "VAT reverse charged" in page  # quoted as the business it is, not as a private client in NL


def test_after_cancel_at_the_provider_the_pay_page_keeps_the_business_details(org, monkeypatch):
    from payments import services

    browser, _appointment, participant = opened_link(org)
    payment = payment_make(participant, billing=BUSINESS_DE)

    def abandon(*, payment):
        with organization_scope(org):
            payment.status = PaymentStatus.EXPIRED
            payment.save(update_fields=["status"])

    monkeypatch.setattr(services, "payment_abandon", abandon)
    response = browser.get(reverse("payments:cancelled", args=[payment.reference]), follow=True)
    page = response.content.decode()
    assert "Payment cancelled" in page and selected(page, "DE") and 'value="Muster GmbH"' in page


def test_without_an_earlier_attempt_the_page_starts_from_the_client_and_the_seller_country(org):
    browser, _appointment, _participant = opened_link(org)
    page = browser.get("/pay/").content.decode()
    assert selected(page, "NL") and 'value="client@example.test"' in page


def test_the_country_comes_before_the_vat_number_and_the_provider_error_stands_alone(org, monkeypatch):
    from payments import services

    browser, _appointment, _participant = opened_link(org)
    page = browser.get("/pay/").content.decode()
    assert page.index('name="country"') < page.index('name="vat_number"')

    def down(**kwargs):
        raise services.PaymentError("The payment service could not be reached. Nothing was charged; please try "
                                    "again in a moment.", retry=True)

    monkeypatch.setattr(services, "payment_start", down)
    page = browser.post("/pay/start/", {**BUSINESS_DE, "client_type": "private", "country": "NL",
                                        "provider": "stripe"}).content.decode()
    assert "could not be reached" in page and "Please try again." not in page


# --- 2. Settings → Payments -----------------------------------------------------------------------------

SETTINGS_URL = "/admin/payments/settings/"


def settings_form(**overrides):
    data = {"seller_name": "Alpha Practice B.V.", "seller_country": "NL", "seller_vat_number": "",
            "paypal_client_id": "", "paypal_mode": "sandbox", "paypal_webhook_id": "", "stripe_secret_key": "",
            "stripe_webhook_secret": "", "paypal_secret": ""}
    data.update(overrides)
    return data


@pytest.fixture
def admin_browser(alpha):
    return signed_in_client(alpha.people["admin"].user, alpha)


def test_a_truncated_webhook_secret_is_called_incomplete(alpha, admin_browser):
    page = admin_browser.post(SETTINGS_URL, settings_form(stripe_webhook_secret="whsec_abc")).content.decode()
    assert "looks incomplete: copy the whole signing secret" in page
    assert "starts with whsec_." not in page.replace("(starts with whsec_).", "")
    assert "typed secret keys are not shown again" in page


def test_the_retype_notice_only_after_errors(alpha, admin_browser):
    assert "typed secret keys are not shown again" not in admin_browser.get(SETTINGS_URL).content.decode()


def test_help_texts_point_to_the_addresses_above(alpha, admin_browser):
    page = admin_browser.get(SETTINGS_URL).content.decode()
    assert "address below" not in page and "environment below" not in page
    assert page.index('data-webhook-url="stripe"') < page.index('name="stripe_webhook_secret"')
    assert page.index('name="paypal_mode"') < page.index('name="paypal_secret"')


def test_payments_on_without_own_vat_number_warns(org):
    browser = signed_in_client(org.people["admin"].user, org)
    assert "data-missing-vat-number" not in browser.get(SETTINGS_URL).content.decode()
    with scopes_disabled():
        PaymentSettings.objects.filter(organization=org).update(seller_vat_number="")
    page = browser.get(SETTINGS_URL).content.decode()
    assert "data-missing-vat-number" in page and "must carry your VAT number" in page


# --- 3. and 4. refunds and amounts incl. VAT are told -----------------------------------------------------

def email_body(appointment, kind, *, role=ParticipantRole.CLIENT):
    with scopes_disabled():
        participant = appointment.participants.get(role=role)
    return build_message(appointment, participant, kind).body


def test_the_confirmation_gives_the_amount_incl_vat_at_the_standard_rule(org):
    appointment, _participant, _charge = charged_appointment(org, rate=org.rate)
    body = email_body(appointment, EmailKind.CONFIRMATION)
    assert "This is a paid consultation: Consultation 20 min, €54.45 incl. VAT." in body
    # The default texts carry the code: the sentence stands before the greeting, not after the signature.
    assert body.index("€54.45") < body.index("Kind regards")
    assert "\n\n\n" not in body


def test_a_paid_payment_is_told_with_what_was_paid(org):
    appointment, participant, _charge = charged_appointment(org, rate=org.rate)
    payment_make(participant, status=PaymentStatus.PAID, billing=BUSINESS_DE)
    body = email_body(appointment, EmailKind.REMINDER)
    assert "€45.00 incl. VAT. You have paid it already" in body


def test_the_cancellation_email_says_the_payment_is_refunded(org):
    appointment, participant, _charge = charged_appointment(org, rate=org.rate)
    payment_make(participant, status=PaymentStatus.PAID)
    body = email_body(appointment, EmailKind.CANCELLATION)
    assert "You paid €54.45 for this consultation; it will be refunded to you." in body
    assert body.index("refunded") < body.index("Kind regards")


def test_a_customised_cancellation_text_gets_the_refund_sentence_appended(org):
    appointment, participant, _charge = charged_appointment(org, rate=org.rate)
    payment_make(participant, status=PaymentStatus.PAID)
    with scopes_disabled():
        EmailTemplate.objects.filter(organization=org, kind=EmailKind.CANCELLATION).update(
            body="Dear *|client_name|*, it is off.")
    body = email_body(appointment, EmailKind.CANCELLATION)
    assert body.rstrip().endswith("You paid €54.45 for this consultation; it will be refunded to you.")


def test_a_cancellation_without_payment_says_nothing_about_money(org):
    appointment, _participant, _charge = charged_appointment(org, rate=org.rate)
    body = email_body(appointment, EmailKind.CANCELLATION)
    assert "€" not in body and "refund" not in body and "\n\n\n" not in body


def test_the_staff_cancel_section_says_the_client_is_refunded(org):
    appointment, participant, _charge = charged_appointment(org, rate=org.rate)
    browser = signed_in_client(org.people["admin"].user, org)
    url = reverse("portal:appointment_detail", args=[appointment.pk])
    assert "data-refund-notice" not in browser.get(url).content.decode()
    payment_make(participant, status=PaymentStatus.PAID, provider=Provider.STRIPE)
    page = browser.get(url).content.decode()
    assert "The client paid €54.45; it will be refunded to them through Stripe." in page


# --- 5. "Paid" stays on the appointment's pages -------------------------------------------------------------

def paid_notice_of(browser):
    page = browser.get(reverse("consult:appointment")).content.decode()
    found = re.search(r'role="status" data-paid-notice>([^<]*)<', page)
    return found and found.group(1)


def receipt_row(payment, status):
    from payments.selectors import receipt_once_key

    with scopes_disabled():
        EmailDelivery.objects.create(organization=payment.organization, appointment_id=payment.appointment_id,
                                     kind=EmailKind.RECEIPT, to=payment.billing_email,
                                     once_key=receipt_once_key(payment), status=status)


@pytest.mark.parametrize("starts_in", [timedelta(days=1), SOON])
def test_the_too_early_page_and_the_waiting_room_say_paid(org, starts_in):
    browser, _appointment, participant = opened_link(org, starts_in=starts_in)
    payment = payment_make(participant, status=PaymentStatus.PAID, billing={"email": "you@example.com"})
    # Right after paying the receipt is only queued: the page must not claim it was sent.
    assert paid_notice_of(browser) == "Paid · €54.45 · a receipt is on its way to you@example.com"
    receipt_row(payment, DeliveryStatus.SENT)
    assert paid_notice_of(browser) == "Paid · €54.45 · receipt sent to you@example.com"


@pytest.mark.parametrize("status", [DeliveryStatus.SENDING, DeliveryStatus.FAILED])
def test_a_receipt_still_sending_or_failed_is_not_called_sent(org, status):
    browser, _appointment, participant = opened_link(org, starts_in=timedelta(days=1))
    receipt_row(payment_make(participant, status=PaymentStatus.PAID, billing={"email": "you@example.com"}), status)
    assert paid_notice_of(browser) == "Paid · €54.45 · a receipt is on its way to you@example.com"


def test_with_emails_off_the_paid_notice_promises_no_receipt(org):
    org.do_not_send_emails = True
    org.save(update_fields=["do_not_send_emails"])
    browser, _appointment, participant = opened_link(org, starts_in=timedelta(days=1))
    payment_make(participant, status=PaymentStatus.PAID, billing={"email": "you@example.com"})
    assert paid_notice_of(browser) == "Paid · €54.45"


def test_no_paid_notice_before_paying_or_for_a_guest(org):
    browser, appointment, participant = opened_link(org, starts_in=timedelta(days=1))
    assert "data-paid-notice" not in browser.get(reverse("consult:appointment")).content.decode()
    from payments.templatetags.payment_format import paid_notice

    payment_make(participant, status=PaymentStatus.PAID)
    participant.role = ParticipantRole.GUEST
    assert paid_notice(participant) == {"paid": None}


# --- 6. paid widgets say how and when ---------------------------------------------------------------------

HOW_BOOKING = "You pay online before the consultation, with the link in your confirmation email."


def test_the_booking_widget_says_how_and_when_to_pay(org):
    from tests.widgets.conftest import make_booking

    widget = make_booking(org, rate=org.rate)
    page = host_client(org).get(widget.get_absolute_url()).content.decode()
    assert "Paid consultation: €45.00 + VAT" in page and HOW_BOOKING in page
    free = make_booking(org, name="Free")
    assert "You pay online" not in host_client(org).get(free.get_absolute_url()).content.decode()


def test_the_booked_page_repeats_it(org):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from tests.widgets.conftest import make_booking

    widget = make_booking(org, rate=org.rate)
    appointment, _participant, _charge = charged_appointment(org, rate=org.rate)
    page = render_to_string("widgets/booking_done.html", {
        "widget": widget, "organization": org, "appointment": appointment, "practitioner": "Dr. Alpha",
        "starts_at": appointment.starts_at, "emailed": True, "link": ""}, request=RequestFactory().get("/"))
    assert page.count(HOW_BOOKING) == 1 and "Your appointment is booked" in page


def test_the_paid_walk_in_widget_continues_to_payment_and_requires_an_email(org):
    from tests.widgets.conftest import make_walk_in
    from widgets.forms import WalkInForm
    from widgets.models import IntakeChoice

    widget = make_walk_in(org, rate=org.rate, ask_email=IntakeChoice.OFF)
    page = host_client(org).get(widget.get_absolute_url()).content.decode()
    assert "Continue to payment" in page and "Go to the waiting room" not in page
    form = WalkInForm({"given_name": "Jan", "last_name": "de Boer", "practitioner": "1:1", "token": "x"},
                      widget=widget)
    assert not form.is_valid()
    assert "your receipt and the link to your appointment are sent there" in form.errors["email"][0]
    free = make_walk_in(org, name="Free walk-in", ask_email=IntakeChoice.OFF)
    assert "email" not in WalkInForm(widget=free).fields
    assert "Go to the waiting room" in host_client(org).get(free.get_absolute_url()).content.decode()


# --- 8. "Try it" starts in the seller's country, in the admin's language ----------------------------------

def test_try_it_defaults_to_the_seller_country(org):
    with scopes_disabled():
        PaymentSettings.objects.filter(organization=org).update(seller_country="BE", seller_vat_number="")
    browser = signed_in_client(org.people["admin"].user, org)
    page = browser.get("/admin/payments/vat-rules-preview/").content.decode()
    assert selected(page, "BE") and not selected(page, "NL")


def test_try_it_names_the_countries_in_the_active_language(org):
    from payments.forms import VatPreviewForm
    from payments.models import Rate

    with translation.override("nl"):
        dutch = dict(VatPreviewForm(rates=Rate.objects.none()).fields["country"].choices)
    with translation.override("de"):
        german = dict(VatPreviewForm(rates=Rate.objects.none()).fields["country"].choices)
    assert str(dutch["DE"]) == "Duitsland" and str(german["DE"]) == "Deutschland"


# --- 9. the export speaks one language; "Paid only" -------------------------------------------------------

def test_the_export_is_in_the_admins_language_throughout(org, monkeypatch):
    from payments import bookkeeping

    _appointment, participant, _charge = charged_appointment(org, rate=org.rate)
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-0001")
    languages = []
    header, row = bookkeeping.csv_header, bookkeeping.csv_row
    monkeypatch.setattr(bookkeeping, "csv_header", lambda: languages.append(translation.get_language()) or header())
    monkeypatch.setattr(bookkeeping, "csv_row",
                        lambda *args: languages.append(translation.get_language()) or row(*args))
    # Made where another language is active (a streaming response's thread): still the language asked for.
    with translation.override("en"):
        head = bookkeeping.csv_head("nl")
        rows = bookkeeping.csv_text_of(org, [payment.pk], "nl")
    assert languages == ["nl", "nl"]
    assert next(csv.reader(io.StringIO(head.lstrip("\ufeff"))))[1] and "2026-0001" in rows


def test_the_export_view_takes_the_admins_language_along(org, monkeypatch):
    from payments import bookkeeping
    from payments.views import admin as admin_views

    seen = []
    monkeypatch.setattr(bookkeeping, "csv_head", lambda language: seen.append(language) or "")
    with translation.override("de"):
        chunks = admin_views._stream(type("Request", (), {})(), org, bookkeeping.PaymentFilter())
    with translation.override("en"):
        list(chunks)
    assert seen == ["de"]


def test_the_list_shows_all_statuses_by_default_and_offers_paid_only(org):
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate)
    payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-0001")
    payment_make(participant, status=PaymentStatus.EXPIRED)
    browser = signed_in_client(org.people["admin"].user, org)
    page = browser.get("/admin/payments/").content.decode()
    assert page.count("data-payment=") == 2
    assert re.search(r'href="/admin/payments/\?status=paid"[^>]*data-paid-only>Paid only<', page)
    paid_only = browser.get("/admin/payments/?status=paid").content.decode()
    assert paid_only.count("data-payment=") == 1 and 'aria-current="page" data-paid-only' in paid_only


# --- 10. the staff's rate choices say the amount excl. VAT ------------------------------------------------

def test_rate_choices_read_name_amount_excl_vat(org):
    from consult.forms import rate_label

    assert rate_label(org.rate) == "Consultation 20 min — €45.00 excl. VAT"
    with translation.override("nl"):
        assert "€45,00" in rate_label(org.rate)
