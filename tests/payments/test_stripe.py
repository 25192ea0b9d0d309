"""Stripe Checkout (F-PAY-3): the session we create (recorded at the HTTP boundary) and the webhook, with payloads
signed in the test by Stripe's own scheme: verified, stale refused, applied exactly once, out-of-order safe."""

import json
import time
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from orgs.models import AuditEvent, TwoFactorPolicy
from orgs.scoping import scopes_disabled
from payments import services
from payments.models import Payment, PaymentSettings, PaymentStatus, Provider, WebhookEvent
from tests.conftest import host_client, signed_in_client
from tests.payments.factories import (
    BILLING_PRIVATE_NL,
    charged_appointment,
    paying_org,
    payment_make,
    reload,
    stripe_session_event,
    stripe_signature,
    stripe_webhook_post,
    stripe_webhook_secret,
)

SESSIONS = f"{settings.STRIPE_API_BASE}/v1/checkout/sessions"


@pytest.fixture
def receipts_sent(monkeypatch):
    sent = []
    monkeypatch.setattr("payments.receipts.receipt_send_on_commit", lambda payment: sent.append(payment.pk))
    return sent


@pytest.fixture
def paying(alpha):
    alpha.rate = paying_org(alpha)
    appointment, participant, charge = charged_appointment(alpha, rate=alpha.rate)
    return alpha, appointment, participant


def payment_of(participant, **fields):
    return payment_make(participant, provider=Provider.STRIPE, **fields)


# --- creating the Checkout Session --------------------------------------------------------------------------

@responses.activate
def test_payment_start_creates_a_checkout_session_for_the_total_with_vat(paying):
    """covers F-PAY-3"""
    alpha, appointment, participant = paying
    responses.add(responses.POST, SESSIONS, json={
        "id": "cs_test_abc", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_test_abc"})

    payment = services.payment_start(participant=participant, provider=Provider.STRIPE, billing=BILLING_PRIVATE_NL,
                                     base_url="https://alpha.example.test")

    assert (payment.status, payment.provider_checkout_id, payment.checkout_url) == (
        PaymentStatus.OPEN, "cs_test_abc", "https://checkout.stripe.com/c/pay/cs_test_abc")
    assert (payment.net_amount, payment.vat_percent, payment.vat_amount, payment.total_amount) == (
        Decimal("45.00"), Decimal("21.00"), Decimal("9.45"), Decimal("54.45"))
    (call,) = responses.calls
    assert call.request.headers["Authorization"] == "Bearer sk_test_alpha_0123456789"
    assert call.request.headers["Idempotency-Key"] == f"checkout-{payment.reference}"
    body = {key: values[0] for key, values in parse_qs(call.request.body).items()}
    reference = str(payment.reference)
    assert body["mode"] == "payment"
    assert body["line_items[0][price_data][unit_amount]"] == "5445"
    assert body["line_items[0][price_data][currency]"] == "eur"
    assert body["line_items[0][quantity]"] == "1"
    assert body["line_items[0][price_data][product_data][name]"].startswith("Consult")
    assert "VAT" in body["line_items[0][price_data][product_data][name]"]
    assert body["customer_email"] == "client@example.test"
    assert body["client_reference_id"] == reference
    assert body["metadata[payment]"] == reference
    assert body["metadata[organization]"] == str(alpha.pk)
    assert body["success_url"] == (f"https://alpha.example.test/pay/return/{reference}/"
                                   "?session_id={CHECKOUT_SESSION_ID}")
    assert body["cancel_url"] == f"https://alpha.example.test/pay/cancelled/{reference}/"
    assert body["locale"] == "en"
    expires_in = int(body["expires_at"]) - time.time()
    assert settings.PAYMENTS_CHECKOUT_MINUTES * 60 - 30 < expires_in <= settings.PAYMENTS_CHECKOUT_MINUTES * 60


@responses.activate
def test_a_new_attempt_expires_the_clients_earlier_open_one(paying, django_capture_on_commit_callbacks):
    alpha, appointment, participant = paying
    earlier = payment_of(participant)
    responses.add(responses.POST, SESSIONS, json={"id": "cs_test_new", "url": "https://checkout.stripe.com/new"})
    responses.add(responses.POST, f"{SESSIONS}/{earlier.provider_checkout_id}/expire",
                  json={"id": earlier.provider_checkout_id, "status": "expired"})

    with django_capture_on_commit_callbacks(execute=True):
        services.payment_start(participant=participant, provider=Provider.STRIPE, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")

    assert reload(earlier).status == PaymentStatus.EXPIRED
    assert [call.request.url for call in responses.calls][-1].endswith("/expire")


@responses.activate
def test_provider_down_fails_the_attempt_and_changes_nothing_else(paying):
    """covers F-PAY-3 (provider down: a clear message, retry)"""
    alpha, appointment, participant = paying
    earlier = payment_of(participant)
    responses.add(responses.POST, SESSIONS, body=requests.ConnectionError("connection refused"))

    with pytest.raises(services.PaymentError) as caught:
        services.payment_start(participant=participant, provider=Provider.STRIPE, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")

    assert caught.value.retry is True
    assert "could not be reached" in str(caught.value.message)
    assert "Nothing was charged" in str(caught.value.message)
    with scopes_disabled():
        failed = Payment.objects.exclude(pk=earlier.pk).get()
        assert (failed.status, failed.provider_checkout_id) == (PaymentStatus.FAILED, "")
        assert "could not be reached" in failed.failure_reason
        # Starting again ended the earlier attempt first (one open attempt per client, two tabs serialised);
        # paid at Stripe anyway, it would still be applied.
        assert reload(earlier).status == PaymentStatus.EXPIRED
        assert not Payment.objects.filter(status=PaymentStatus.PAID).exists()


@responses.activate
def test_rejected_credentials_say_to_contact_the_organisation(paying):
    alpha, appointment, participant = paying
    responses.add(responses.POST, SESSIONS, status=401, json={
        "error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})

    with pytest.raises(services.PaymentError) as caught:
        services.payment_start(participant=participant, provider=Provider.STRIPE, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")

    assert caught.value.retry is False
    assert str(caught.value.message) == "Online payment is not set up correctly; please contact Alpha Practice."


@pytest.mark.parametrize("billing, field", [
    ({"client_type": "robot"}, "client_type"),
    ({"country": "XX"}, "country"),
    ({"name": "  "}, "name"),
    ({"email": "not-an-address"}, "email"),
    ({"client_type": "business", "country": "DE", "vat_number": "NL123456789B01"}, "vat_number"),
])
def test_bad_billing_details_are_refused_by_field_and_nothing_is_written(paying, billing, field):
    alpha, appointment, participant = paying
    with pytest.raises(ValidationError) as caught:
        services.payment_start(participant=participant, provider=Provider.STRIPE,
                               billing={**BILLING_PRIVATE_NL, **billing}, base_url="https://alpha.example.test")
    assert field in caught.value.message_dict
    with scopes_disabled():
        assert not Payment.objects.exists()


def test_a_provider_not_offered_is_refused(paying):
    alpha, appointment, participant = paying
    with scopes_disabled():
        PaymentSettings.objects.filter(organization=alpha).update(stripe_secret_key_sealed=b"")
    with pytest.raises(ValidationError) as caught:
        services.payment_start(participant=participant, provider=Provider.STRIPE, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")
    assert "provider" in caught.value.message_dict


# --- the webhook --------------------------------------------------------------------------------------------

def test_signed_completed_event_marks_paid_once_with_a_receipt_number(paying, receipts_sent):
    """covers F-PAY-3 (the webhook is the source of truth)"""
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    event = stripe_session_event(payment)

    response = stripe_webhook_post(host_client(alpha), alpha, event)

    assert response.status_code == 200
    payment = reload(payment)
    assert payment.status == PaymentStatus.PAID
    assert payment.receipt_number.endswith("-00001")
    assert payment.provider_payment_id == event["data"]["object"]["payment_intent"]
    assert receipts_sent == [payment.pk]
    with scopes_disabled():
        (row,) = WebhookEvent.objects.all()
        assert (row.event_id, row.payment_id, row.outcome, row.organization_id) == (
            event["id"], payment.pk, "paid", alpha.pk)
        assert AuditEvent.objects.filter(organization=alpha, action="payment.paid", actor=None,
                                         target_id=str(payment.pk)).count() == 1


def test_async_payment_succeeded_marks_paid_and_unpaid_completion_waits(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    client = host_client(alpha)
    stripe_webhook_post(client, alpha, stripe_session_event(payment, payment_status="unpaid"))
    assert reload(payment).status == PaymentStatus.OPEN
    succeeded = stripe_session_event(payment, event_type="checkout.session.async_payment_succeeded")
    stripe_webhook_post(client, alpha, succeeded)
    assert reload(payment).status == PaymentStatus.PAID
    assert receipts_sent == [payment.pk]


def test_bad_signature_is_refused_and_changes_nothing(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = payment_of(participant)

    response = stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(payment), secret="whsec_wrong")

    assert response.status_code == 400
    assert reload(payment).status == PaymentStatus.OPEN
    assert receipts_sent == []
    with scopes_disabled():
        assert not WebhookEvent.objects.exists()


def test_missing_signature_is_refused(paying):
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    response = host_client(alpha).post(reverse("payments:stripe_webhook"), data=json.dumps(
        stripe_session_event(payment)), content_type="application/json")
    assert response.status_code == 400
    assert reload(payment).status == PaymentStatus.OPEN


def test_stale_timestamp_is_refused(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    stale = int(time.time()) - settings.PAYMENTS_WEBHOOK_TOLERANCE_SECONDS - 5

    response = stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(payment), timestamp=stale)

    assert response.status_code == 400
    assert reload(payment).status == PaymentStatus.OPEN
    assert receipts_sent == []


def test_duplicate_delivery_changes_nothing_the_second_time(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    event = stripe_session_event(payment)
    client = host_client(alpha)

    first = stripe_webhook_post(client, alpha, event)
    paid = reload(payment)
    second = stripe_webhook_post(client, alpha, event)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == b"duplicate"
    assert reload(payment).updated_at == paid.updated_at
    assert receipts_sent == [payment.pk]
    with scopes_disabled():
        assert WebhookEvent.objects.count() == 1
        assert PaymentSettings.objects.get(organization=alpha).receipt_sequence == 1


def test_expired_after_completed_changes_nothing(paying, receipts_sent):
    """Out of order: Stripe does not promise the order of its events."""
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    client = host_client(alpha)
    stripe_webhook_post(client, alpha, stripe_session_event(payment))

    response = stripe_webhook_post(client, alpha, stripe_session_event(payment, event_type="checkout.session.expired",
                                                                        payment_status="unpaid"))

    assert response.status_code == 200
    assert reload(payment).status == PaymentStatus.PAID
    assert receipts_sent == [payment.pk]


def test_expired_event_expires_an_open_attempt(paying):
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(
        payment, event_type="checkout.session.expired", payment_status="unpaid"))
    assert reload(payment).status == PaymentStatus.EXPIRED


@pytest.mark.parametrize("changes", [{"amount_total": 100}, {"currency": "usd"}])
def test_amount_or_currency_other_than_ours_is_not_paid(paying, receipts_sent, changes):
    alpha, appointment, participant = paying
    payment = payment_of(participant)

    response = stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(payment, **changes))

    assert response.status_code == 200
    payment = reload(payment)
    assert payment.status == PaymentStatus.REFUND_PENDING  # nobody keeps it: given back in full
    assert "not the EUR 54.45 asked for" in payment.failure_reason
    assert receipts_sent == []


def test_event_sent_to_another_organisations_host_is_refused(paying, beta, receipts_sent):
    alpha, appointment, participant = paying
    paying_org(beta)
    payment = payment_of(participant)

    response = stripe_webhook_post(host_client(beta), beta, stripe_session_event(payment),
                                   secret=stripe_webhook_secret(alpha))

    assert response.status_code == 400
    assert reload(payment).status == PaymentStatus.OPEN


def test_a_foreign_payment_reference_is_ignored(paying, beta, receipts_sent):
    """Signed by alpha's secret, but naming beta's payment: not alpha's to change."""
    alpha, appointment, participant = paying
    paying_org(beta)
    _, beta_participant, _ = charged_appointment(beta)
    beta_payment = payment_of(beta_participant)

    response = stripe_webhook_post(host_client(alpha), alpha,
                                   stripe_session_event(beta_payment, organization_id=alpha.pk))
    assert (response.status_code, response.content) == (200, b"not our payment")

    response = stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(beta_payment))
    assert (response.status_code, response.content) == (200, b"foreign organisation")

    assert reload(beta_payment).status == PaymentStatus.OPEN
    assert receipts_sent == []
    with scopes_disabled():
        assert set(WebhookEvent.objects.values_list("organization_id", "outcome")) == {
            (alpha.pk, "not our payment"), (alpha.pk, "foreign organisation")}


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'{"id": "evt_1"}', b'{"id": 1, "type": "x"}',
                                     b"\xff\xfe", b'{"id": "evt_1", "type": "checkout.session.completed", '
                                     b'"data": {"object": "nope"}}'])
def test_malformed_payload_with_a_valid_signature_is_a_400_never_a_500(paying, payload):
    alpha, appointment, participant = paying
    text = payload.decode("utf-8", errors="replace")
    header = stripe_signature(text, stripe_webhook_secret(alpha))
    response = host_client(alpha).post(reverse("payments:stripe_webhook"), data=payload,
                                       content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400


def test_unknown_event_types_and_payments_are_recorded_and_answered_200(paying):
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    client = host_client(alpha)
    other = stripe_session_event(payment, event_type="charge.succeeded")
    assert stripe_webhook_post(client, alpha, other).content == b"ignored"
    unknown = stripe_session_event(payment, reference="00000000-0000-0000-0000-000000000000")
    assert stripe_webhook_post(client, alpha, unknown).content == b"not our payment"
    assert reload(payment).status == PaymentStatus.OPEN


def test_webhook_is_post_only_and_needs_an_organisation_host(paying):
    alpha, appointment, participant = paying
    assert host_client(alpha).get(reverse("payments:stripe_webhook")).status_code == 405
    assert host_client(None).post(reverse("payments:stripe_webhook"), data="{}",
                                  content_type="application/json").status_code == 404


def test_webhook_passes_the_two_factor_gate_and_idle_sign_out_untouched(paying, receipts_sent):
    """A provider has no session; even a browser's stale staff cookie must not turn a webhook into a redirect."""
    alpha, appointment, participant = paying
    alpha.two_factor_policy = TwoFactorPolicy.REQUIRED
    alpha.session_idle_minutes = 1
    alpha.save()
    payment = payment_of(participant)
    response = stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(payment))
    assert response.status_code == 200

    second = payment_of(charged_appointment(alpha, rate=alpha.rate)[1])
    staff = signed_in_client(alpha.people["admin"].user, alpha)  # must set up two-factor: the portal would refuse
    response = stripe_webhook_post(staff, alpha, stripe_session_event(second))
    assert response.status_code == 200
    assert reload(second).status == PaymentStatus.PAID
    assert receipts_sent == [payment.pk, second.pk]


# --- the client's return and cancel -------------------------------------------------------------------------

@responses.activate
def test_refresh_applies_a_completed_session_when_the_webhook_is_late(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    session = stripe_session_event(payment)["data"]["object"]
    responses.add(responses.GET, f"{SESSIONS}/{payment.provider_checkout_id}", json=session)

    refreshed = services.payment_refresh(payment=payment)

    assert refreshed.status == PaymentStatus.PAID
    assert receipts_sent == [payment.pk]
    # The webhook arriving afterwards changes nothing.
    stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(payment))
    assert receipts_sent == [payment.pk]


@responses.activate
def test_abandon_expires_the_session_then_the_attempt(paying):
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    responses.add(responses.POST, f"{SESSIONS}/{payment.provider_checkout_id}/expire",
                  json={"id": payment.provider_checkout_id, "status": "expired"})
    assert services.payment_abandon(payment=payment).status == PaymentStatus.EXPIRED


@responses.activate
def test_abandon_of_a_session_paid_meanwhile_applies_the_payment(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = payment_of(participant)
    responses.add(responses.POST, f"{SESSIONS}/{payment.provider_checkout_id}/expire", status=400, json={
        "error": {"type": "invalid_request_error", "message": "Only Checkout Sessions with a status of open can be "
                                                              "expired."}})
    responses.add(responses.GET, f"{SESSIONS}/{payment.provider_checkout_id}",
                  json=stripe_session_event(payment)["data"]["object"])
    assert services.payment_abandon(payment=payment).status == PaymentStatus.PAID
    assert receipts_sent == [payment.pk]
