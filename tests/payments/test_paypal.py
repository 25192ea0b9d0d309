"""PayPal Orders (F-PAY-3) against recorded HTTP responses at the boundary: the order we create, the token cache,
capture (completed, declined), and the webhook verified by PayPal's verify API plus our own staleness check."""

import json
from datetime import timedelta

import pytest
import requests
import responses
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from orgs.scoping import scopes_disabled
from payments import services
from payments.models import PaymentStatus, Provider, WebhookEvent
from tests.conftest import host_client
from tests.payments.factories import (
    BILLING_PRIVATE_NL,
    charged_appointment,
    paying_org,
    payment_make,
    paypal_credentials,
    reload,
)

BASE = settings.PAYPAL_API_BASE_SANDBOX
TOKEN = f"{BASE}/v1/oauth2/token"
ORDERS = f"{BASE}/v2/checkout/orders"
VERIFY = f"{BASE}/v1/notifications/verify-webhook-signature"


@pytest.fixture(autouse=True)
def _no_cached_tokens():
    cache.clear()
    yield
    cache.clear()


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


def token_ok(token="A21AA-test-token", expires_in=32400):
    responses.add(responses.POST, TOKEN, json={"access_token": token, "token_type": "Bearer",
                                               "expires_in": expires_in})


def order_created(order_id="5O190127TN364715T"):
    responses.add(responses.POST, ORDERS, json={
        "id": order_id, "status": "PAYER_ACTION_REQUIRED",
        "links": [{"href": f"{ORDERS}/{order_id}", "rel": "self", "method": "GET"},
                  {"href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}", "rel": "payer-action",
                   "method": "GET"}]})


def completed_order(payment, *, status="COMPLETED", value=None, capture_id="3C679366HH908993F"):
    return {
        "id": payment.provider_checkout_id, "status": "COMPLETED",
        "purchase_units": [{"reference_id": str(payment.reference), "payments": {"captures": [{
            "id": capture_id, "status": status, "custom_id": str(payment.reference),
            "amount": {"currency_code": payment.currency, "value": value or f"{payment.total_amount:.2f}"},
        }]}}],
    }


def paypal_payment(participant, **fields):
    return payment_make(participant, provider=Provider.PAYPAL, **fields)


@responses.activate
def test_payment_start_creates_an_order_with_vat_breakdown(paying):
    """covers F-PAY-3"""
    alpha, appointment, participant = paying
    token_ok()
    order_created()

    payment = services.payment_start(participant=participant, provider=Provider.PAYPAL, billing=BILLING_PRIVATE_NL,
                                     base_url="https://alpha.example.test")

    assert (payment.status, payment.provider_checkout_id) == (PaymentStatus.OPEN, "5O190127TN364715T")
    assert payment.checkout_url == "https://www.sandbox.paypal.com/checkoutnow?token=5O190127TN364715T"
    token_call, order_call = responses.calls
    client_id, secret, _ = paypal_credentials(alpha)
    assert token_call.request.headers["Authorization"].startswith("Basic ")
    assert "grant_type=client_credentials" in token_call.request.body
    assert order_call.request.headers["Authorization"] == "Bearer A21AA-test-token"
    assert order_call.request.headers["PayPal-Request-Id"] == f"order-{payment.reference}"
    reference = str(payment.reference)
    body = json.loads(order_call.request.body)
    assert body["intent"] == "CAPTURE"
    (unit,) = body["purchase_units"]
    assert (unit["reference_id"], unit["custom_id"], unit["invoice_id"]) == (reference, reference, reference)
    assert unit["amount"] == {"currency_code": "EUR", "value": "54.45", "breakdown": {
        "item_total": {"currency_code": "EUR", "value": "45.00"},
        "tax_total": {"currency_code": "EUR", "value": "9.45"}}}
    (item,) = unit["items"]
    assert (item["quantity"], item["unit_amount"]["value"], item["tax"]["value"]) == ("1", "45.00", "9.45")
    context = body["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"] == f"https://alpha.example.test/pay/return/{reference}/"
    assert context["cancel_url"] == f"https://alpha.example.test/pay/cancelled/{reference}/"
    assert (context["user_action"], context["shipping_preference"], context["locale"]) == (
        "PAY_NOW", "NO_SHIPPING", "en-US")
    # Card as a guest (F-PAY-3): PayPal may show its card form, not only its login page; in the payment
    # source's experience_context (application_context is deprecated in Orders v2), not beside it.
    assert context["landing_page"] == "NO_PREFERENCE"
    assert "application_context" not in body


@responses.activate
def test_the_token_is_cached_and_renewed_once_when_paypal_no_longer_accepts_it(paying):
    alpha, appointment, participant = paying
    token_ok("first")
    order_created("ORDER1")
    services.payment_start(participant=participant, provider=Provider.PAYPAL, billing=BILLING_PRIVATE_NL,
                           base_url="https://alpha.example.test")
    order_created("ORDER2")
    services.payment_start(participant=participant, provider=Provider.PAYPAL, billing=BILLING_PRIVATE_NL,
                           base_url="https://alpha.example.test")
    assert [call.request.url for call in responses.calls].count(TOKEN) == 1

    responses.reset()
    responses.add(responses.POST, ORDERS, status=401, json={"error": "invalid_token"})
    token_ok("second")
    order_created("ORDER3")
    payment = services.payment_start(participant=participant, provider=Provider.PAYPAL, billing=BILLING_PRIVATE_NL,
                                     base_url="https://alpha.example.test")
    assert payment.provider_checkout_id == "ORDER3"
    assert [call.request.headers.get("Authorization") for call in responses.calls if call.request.url == ORDERS] == [
        "Bearer first", "Bearer second"]


@responses.activate
def test_paypal_unreachable_fails_the_attempt_with_a_retry_message(paying):
    alpha, appointment, participant = paying
    responses.add(responses.POST, TOKEN, body=requests.ConnectionError("down"))
    with pytest.raises(services.PaymentError) as caught:
        services.payment_start(participant=participant, provider=Provider.PAYPAL, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")
    assert caught.value.retry is True
    with scopes_disabled():
        assert participant.appointment.payments.get().status == PaymentStatus.FAILED


@responses.activate
def test_capture_completed_marks_paid(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = paypal_payment(participant)
    token_ok()
    responses.add(responses.POST, f"{ORDERS}/{payment.provider_checkout_id}/capture", json=completed_order(payment))

    captured = services.payment_capture(payment=payment)

    assert captured.status == PaymentStatus.PAID
    assert captured.provider_payment_id == "3C679366HH908993F"
    assert responses.calls[-1].request.headers["PayPal-Request-Id"] == f"capture-{payment.reference}"
    assert receipts_sent == [payment.pk]


@responses.activate
def test_capture_declined_fails_with_a_retry_message(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = paypal_payment(participant)
    token_ok()
    responses.add(responses.POST, f"{ORDERS}/{payment.provider_checkout_id}/capture",
                  json=completed_order(payment, status="DECLINED"))

    with pytest.raises(services.PaymentError) as caught:
        services.payment_capture(payment=payment)

    assert caught.value.retry is True
    assert "declined" in str(caught.value.message)
    assert reload(payment).status == PaymentStatus.FAILED
    assert receipts_sent == []


@responses.activate
def test_capture_instrument_declined_fails_with_a_retry_message(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = paypal_payment(participant)
    token_ok()
    responses.add(responses.POST, f"{ORDERS}/{payment.provider_checkout_id}/capture", status=422, json={
        "name": "UNPROCESSABLE_ENTITY", "details": [{"issue": "INSTRUMENT_DECLINED",
                                                     "description": "The instrument presented was declined."}]})

    with pytest.raises(services.PaymentError) as caught:
        services.payment_capture(payment=payment)

    assert caught.value.retry is True
    payment = reload(payment)
    assert payment.status == PaymentStatus.FAILED
    assert "PayPal declined" in payment.failure_reason
    assert receipts_sent == []


@responses.activate
def test_capture_with_an_amount_other_than_ours_is_not_paid(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = paypal_payment(participant)
    token_ok()
    responses.add(responses.POST, f"{ORDERS}/{payment.provider_checkout_id}/capture",
                  json=completed_order(payment, value="1.00"))
    services.payment_capture(payment=payment)
    assert reload(payment).status == PaymentStatus.REFUND_PENDING  # given back (tests/payments/test_review_fixes)
    assert receipts_sent == []


@responses.activate
def test_refresh_captures_an_approved_order(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = paypal_payment(participant)
    token_ok()
    responses.add(responses.GET, f"{ORDERS}/{payment.provider_checkout_id}",
                  json={"id": payment.provider_checkout_id, "status": "APPROVED"})
    responses.add(responses.POST, f"{ORDERS}/{payment.provider_checkout_id}/capture", json=completed_order(payment))

    assert services.payment_refresh(payment=payment).status == PaymentStatus.PAID
    assert receipts_sent == [payment.pk]


# --- the webhook --------------------------------------------------------------------------------------------

def capture_event(payment, *, event_id="WH-2WR32451HC0233532-67976317FL4543714", value=None):
    return {
        "id": event_id, "event_version": "1.0", "create_time": timezone.now().isoformat(),
        "resource_type": "capture", "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "resource": {
            "id": "3C679366HH908993F", "status": "COMPLETED", "custom_id": str(payment.reference),
            "invoice_id": str(payment.reference),
            "amount": {"currency_code": payment.currency, "value": value or f"{payment.total_amount:.2f}"},
            "supplementary_data": {"related_ids": {"order_id": payment.provider_checkout_id}},
        },
    }


def paypal_post(organization, event, *, sent_at=None):
    sent_at = sent_at or timezone.now()
    return host_client(organization).post(
        reverse("payments:paypal_webhook"), data=json.dumps(event), content_type="application/json",
        HTTP_PAYPAL_TRANSMISSION_ID="69cd13f0-d67a-11e5-baa3-778b53f4ae55",
        HTTP_PAYPAL_TRANSMISSION_TIME=sent_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        HTTP_PAYPAL_TRANSMISSION_SIG="c2lnbmF0dXJl", HTTP_PAYPAL_AUTH_ALGO="SHA256withRSA",
        HTTP_PAYPAL_CERT_URL="https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42",
    )


@responses.activate
def test_verified_capture_completed_webhook_marks_paid(paying, receipts_sent):
    """covers F-PAY-3 (PayPal's webhook, verified by PayPal)"""
    alpha, appointment, participant = paying
    payment = paypal_payment(participant)
    token_ok()
    responses.add(responses.POST, VERIFY, json={"verification_status": "SUCCESS"})
    event = capture_event(payment)

    response = paypal_post(alpha, event)

    assert response.status_code == 200
    assert reload(payment).status == PaymentStatus.PAID
    assert receipts_sent == [payment.pk]
    verify = json.loads(responses.calls[-1].request.body)
    assert verify["webhook_id"] == paypal_credentials(alpha)[2]
    assert verify["webhook_event"] == event
    assert (verify["transmission_id"], verify["auth_algo"], verify["transmission_sig"]) == (
        "69cd13f0-d67a-11e5-baa3-778b53f4ae55", "SHA256withRSA", "c2lnbmF0dXJl")
    with scopes_disabled():
        assert WebhookEvent.objects.get().payment_id == payment.pk


@responses.activate
def test_verification_failure_is_refused(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = paypal_payment(participant)
    token_ok()
    responses.add(responses.POST, VERIFY, json={"verification_status": "FAILURE"})

    assert paypal_post(alpha, capture_event(payment)).status_code == 400
    assert reload(payment).status == PaymentStatus.OPEN
    with scopes_disabled():
        assert not WebhookEvent.objects.exists()


@responses.activate
def test_stale_transmission_time_is_refused_without_asking_paypal(paying):
    alpha, appointment, participant = paying
    payment = paypal_payment(participant)
    stale = timezone.now() - timedelta(seconds=settings.PAYMENTS_WEBHOOK_TOLERANCE_SECONDS + 5)

    assert paypal_post(alpha, capture_event(payment), sent_at=stale).status_code == 400
    assert len(responses.calls) == 0
    assert reload(payment).status == PaymentStatus.OPEN


@responses.activate
def test_verification_unreachable_asks_paypal_to_deliver_again(paying):
    alpha, appointment, participant = paying
    payment = paypal_payment(participant)
    token_ok()
    responses.add(responses.POST, VERIFY, body=requests.ConnectionError("down"))
    assert paypal_post(alpha, capture_event(payment)).status_code == 503
    assert reload(payment).status == PaymentStatus.OPEN


@responses.activate
def test_duplicate_webhook_changes_nothing(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = paypal_payment(participant)
    token_ok()
    responses.add(responses.POST, VERIFY, json={"verification_status": "SUCCESS"})
    event = capture_event(payment)

    assert paypal_post(alpha, event).status_code == 200
    paid = reload(payment)
    second = paypal_post(alpha, event)

    assert (second.status_code, second.content) == (200, b"duplicate")
    assert reload(payment).updated_at == paid.updated_at
    assert receipts_sent == [payment.pk]
    with scopes_disabled():
        assert WebhookEvent.objects.count() == 1


@responses.activate
def test_malformed_paypal_payload_is_a_400(paying):
    alpha, appointment, participant = paying
    response = host_client(alpha).post(reverse("payments:paypal_webhook"), data=b"{not json",
                                       content_type="application/json",
                                       HTTP_PAYPAL_TRANSMISSION_TIME=timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert response.status_code == 400
    assert len(responses.calls) == 0
