"""Refunds (F-PAY-3): a cancelled paid appointment is refunded through the provider (queued on commit, the task
run inline by the test settings' synchronous django-q2), a failed refund is retried and never made twice, and a
second payment for an appointment already paid is given back automatically."""

import json
import logging
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_q.models import Schedule

from consult import services as consult_services
from consult.models import AppointmentStatus
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from payments import services, tasks
from payments.models import PaymentStatus, Provider, Refund, RefundReason, RefundStatus
from tests.conftest import host_client, make_org, signed_in_client
from tests.payments.factories import (
    charged_appointment,
    paying_org,
    payment_make,
    reload,
    stripe_session_event,
    stripe_webhook_post,
)

REFUNDS = f"{settings.STRIPE_API_BASE}/v1/refunds"
PAYPAL = settings.PAYPAL_API_BASE_SANDBOX


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


def cancel(alpha, appointment, capture):
    with capture(execute=True):
        consult_services.appointment_cancel(member=alpha.people["admin"], appointment=appointment)


def refund_calls():
    return [call for call in responses.calls if call.request.url.startswith(REFUNDS)]


@responses.activate
def test_cancelling_a_paid_appointment_refunds_it_through_stripe(paying, django_capture_on_commit_callbacks):
    """covers F-PAY-3 (cancelled appointment → refund through the provider, and a record of it)"""
    alpha, appointment, participant = paying
    payment = payment_make(participant, status=PaymentStatus.PAID, provider_payment_id="pi_test_123")
    responses.add(responses.POST, REFUNDS, json={"id": "re_test_1", "object": "refund", "status": "succeeded"})

    cancel(alpha, appointment, django_capture_on_commit_callbacks)

    (call,) = refund_calls()
    assert parse_qs(call.request.body)["payment_intent"] == ["pi_test_123"]
    assert call.request.headers["Idempotency-Key"] == f"refund-{payment.reference}"
    with scopes_disabled():
        refund = Refund.objects.get(payment=payment)
        assert (refund.status, refund.reason, refund.provider_refund_id, refund.amount) == (
            RefundStatus.SUCCEEDED, RefundReason.CANCELLED, "re_test_1", payment.total_amount)
        assert refund.completed_at is not None
        assert reload(payment).status == PaymentStatus.REFUNDED
        actions = set(AuditEvent.objects.filter(organization=alpha, target_type="payment",
                                                      target_id=str(payment.pk))
                      .values_list("action", flat=True))
        assert actions == {"payment.refund_request", "payment.refunded"}


@responses.activate
def test_a_failed_refund_is_retried_later_and_never_made_twice(paying, django_capture_on_commit_callbacks):
    alpha, appointment, participant = paying
    payment = payment_make(participant, status=PaymentStatus.PAID, provider_payment_id="pi_test_123")
    responses.add(responses.POST, REFUNDS, body=requests.ConnectionError("down"))

    cancel(alpha, appointment, django_capture_on_commit_callbacks)

    with scopes_disabled():
        refund = Refund.objects.get(payment=payment)
        assert (refund.status, refund.attempts) == (RefundStatus.FAILED, 1)
        assert "could not be reached" in refund.failure_reason
        assert reload(payment).status == PaymentStatus.PAID  # still paid until the provider gives it back
        assert Schedule.objects.filter(func="payments.tasks.refund_attempt", schedule_type=Schedule.ONCE).count() == 1

    # Asking again (a second cancellation task, a retry by hand) returns the same refund, no new one.
    assert services.refund_request(payment=reload(payment), reason=RefundReason.CANCELLED).pk == refund.pk

    responses.replace(responses.POST, REFUNDS, json={"id": "re_test_1", "object": "refund", "status": "succeeded"})
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.retry_failed_refunds() == 1
        assert tasks.retry_failed_refunds() == 0
        assert tasks.refund_attempt(refund.pk) == RefundStatus.SUCCEEDED  # the scheduled one, late: no call

    refund = reload(refund)
    assert (refund.status, refund.attempts, refund.failure_reason) == (RefundStatus.SUCCEEDED, 2, "")
    assert reload(payment).status == PaymentStatus.REFUNDED
    keys = {call.request.headers["Idempotency-Key"] for call in refund_calls()}
    assert keys == {f"refund-{payment.reference}"}  # every attempt is the same refund at Stripe
    assert sum(1 for call in refund_calls() if getattr(call.response, "status_code", None) == 200) == 1


@responses.activate
def test_cancelling_a_paypal_paid_appointment_refunds_the_capture(paying, django_capture_on_commit_callbacks):
    alpha, appointment, participant = paying
    payment = payment_make(participant, provider=Provider.PAYPAL, status=PaymentStatus.PAID,
                           provider_payment_id="2GG279541U471931P")
    responses.add(responses.POST, f"{PAYPAL}/v1/oauth2/token", json={"access_token": "tok", "expires_in": 32400})
    responses.add(responses.POST, f"{PAYPAL}/v2/payments/captures/2GG279541U471931P/refund",
                  json={"id": "1JU08902781691411", "status": "COMPLETED"})

    cancel(alpha, appointment, django_capture_on_commit_callbacks)

    call = responses.calls[-1]
    assert call.request.headers["PayPal-Request-Id"] == f"refund-{payment.reference}"
    assert json.loads(call.request.body)["amount"] == {"currency_code": "EUR", "value": f"{payment.total_amount}"}
    with scopes_disabled():
        refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.provider_refund_id) == (RefundStatus.SUCCEEDED, "1JU08902781691411")
    assert reload(payment).status == PaymentStatus.REFUNDED


@responses.activate
def test_cancelling_an_unpaid_appointment_ends_open_attempts_and_refunds_nothing(
        paying, django_capture_on_commit_callbacks):
    alpha, appointment, participant = paying
    payment = payment_make(participant)
    responses.add(responses.POST, f"{settings.STRIPE_API_BASE}/v1/checkout/sessions/{payment.provider_checkout_id}"
                                  "/expire", json={"id": payment.provider_checkout_id, "status": "expired"})

    cancel(alpha, appointment, django_capture_on_commit_callbacks)

    assert reload(payment).status == PaymentStatus.EXPIRED
    assert refund_calls() == []
    with scopes_disabled():
        assert not Refund.objects.exists()


@responses.activate
def test_a_second_payment_for_a_paid_appointment_is_refunded_automatically(
        paying, receipts_sent, django_capture_on_commit_callbacks):
    """Two tabs: both completed at Stripe. The appointment counts as paid once; the client gets one back."""
    alpha, appointment, participant = paying
    first = payment_make(participant, status=PaymentStatus.PAID, provider_payment_id="pi_first")
    second = payment_make(participant)
    responses.add(responses.POST, REFUNDS, json={"id": "re_dup", "object": "refund", "status": "succeeded"})

    with django_capture_on_commit_callbacks(execute=True):
        response = stripe_webhook_post(host_client(alpha), alpha,
                                       stripe_session_event(second, payment_intent="pi_second"))

    assert response.status_code == 200
    assert reload(first).status == PaymentStatus.PAID
    second = reload(second)
    assert (second.status, second.provider_payment_id, second.receipt_number) == (
        PaymentStatus.REFUNDED, "pi_second", "")
    with scopes_disabled():
        refund = Refund.objects.get(payment=second)
    assert (refund.reason, refund.status) == (RefundReason.DUPLICATE, RefundStatus.SUCCEEDED)
    (call,) = refund_calls()
    assert parse_qs(call.request.body)["payment_intent"] == ["pi_second"]
    assert receipts_sent == []


@responses.activate
def test_a_payment_confirmed_after_the_cancellation_is_refunded(
        alpha, receipts_sent, django_capture_on_commit_callbacks):
    alpha.rate = paying_org(alpha)
    appointment, participant, charge = charged_appointment(alpha, rate=alpha.rate)
    payment = payment_make(participant)
    responses.add(responses.POST, f"{settings.STRIPE_API_BASE}/v1/checkout/sessions/{payment.provider_checkout_id}"
                                  "/expire", status=400, json={"error": {"type": "invalid_request_error",
                                                                         "message": "already complete"}})
    responses.add(responses.GET, f"{settings.STRIPE_API_BASE}/v1/checkout/sessions/{payment.provider_checkout_id}",
                  json={"id": payment.provider_checkout_id, "status": "open", "payment_status": "unpaid"})
    cancel(alpha, appointment, django_capture_on_commit_callbacks)
    responses.add(responses.POST, REFUNDS, json={"id": "re_late", "object": "refund", "status": "succeeded"})

    with django_capture_on_commit_callbacks(execute=True):
        stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(payment))

    with scopes_disabled():
        refund = Refund.objects.get(payment=payment)
    assert (refund.reason, refund.status) == (RefundReason.CANCELLED, RefundStatus.SUCCEEDED)
    assert reload(payment).status == PaymentStatus.REFUNDED
    assert receipts_sent == []


def test_only_a_paid_payment_can_be_refunded(paying):
    alpha, appointment, participant = paying
    payment = payment_make(participant)
    with pytest.raises(ValidationError):
        services.refund_request(payment=payment, reason=RefundReason.CANCELLED)
    with scopes_disabled():
        assert not Refund.objects.exists()


# --- refunds whose task cannot be queued -----------------------------------------------------------------

@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("django_q.tasks.async_task", refuse)


def retried_later(refund):
    """refund_retry takes a PENDING refund up once it is older than REFUND_PENDING_RETRY_AFTER."""
    with scopes_disabled():
        Refund.objects.filter(pk=refund.pk).update(
            created_at=timezone.now() - services.REFUND_PENDING_RETRY_AFTER - timedelta(minutes=1))
    return tasks.retry_failed_refunds()


@responses.activate
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_broker_down_when_staff_cancel_a_paid_appointment_does_not_fail_it_and_the_retry_refunds(
        broker_down, caplog):
    """covers F-PAY-3: cancelled appointment → refund, even when its task cannot be queued"""
    alpha = make_org("alpha", "Alpha Practice")
    appointment, participant, charge = charged_appointment(alpha, rate=paying_org(alpha))
    payment = payment_make(participant, status=PaymentStatus.PAID, provider_payment_id="pi_test_down")
    web = signed_in_client(alpha.people["admin"].user, alpha)

    with caplog.at_level(logging.WARNING, logger="payments.services"):
        response = web.post(f"/portal/appointments/{appointment.pk}/cancel/", {"message": ""})

    assert response.status_code == 302
    assert reload(appointment).status == AppointmentStatus.CANCELLED
    with scopes_disabled():
        refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.reason, refund.attempts) == (RefundStatus.PENDING, RefundReason.CANCELLED, 0)
    assert reload(payment).status == PaymentStatus.PAID
    assert refund_calls() == []
    assert any("refund_for_cancelled_appointment" in record.getMessage() for record in caplog.records)

    responses.add(responses.POST, REFUNDS, json={"id": "re_down", "object": "refund", "status": "succeeded"})
    assert retried_later(refund) == 1
    assert (reload(refund).status, reload(payment).status) == (RefundStatus.SUCCEEDED, PaymentStatus.REFUNDED)
    (call,) = refund_calls()
    assert parse_qs(call.request.body)["payment_intent"] == ["pi_test_down"]


@responses.activate
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_broker_down_when_a_duplicate_payment_is_confirmed_does_not_fail_the_webhook_and_the_retry_refunds(
        broker_down, receipts_sent, caplog):
    alpha = make_org("alpha", "Alpha Practice")
    appointment, participant, charge = charged_appointment(alpha, rate=paying_org(alpha))
    first = payment_make(participant, status=PaymentStatus.PAID, provider_payment_id="pi_first")
    second = payment_make(participant)

    with caplog.at_level(logging.WARNING, logger="payments.services"):
        response = stripe_webhook_post(host_client(alpha), alpha,
                                       stripe_session_event(second, payment_intent="pi_second"))

    assert response.status_code == 200
    assert (reload(first).status, reload(second).status) == (PaymentStatus.PAID, PaymentStatus.REFUND_PENDING)
    with scopes_disabled():
        refund = Refund.objects.get(payment=second)
    assert (refund.status, refund.reason) == (RefundStatus.PENDING, RefundReason.DUPLICATE)
    assert refund_calls() == []
    assert any("refund_attempt" in record.getMessage() for record in caplog.records)

    responses.add(responses.POST, REFUNDS, json={"id": "re_dup", "object": "refund", "status": "succeeded"})
    assert retried_later(refund) == 1
    assert (reload(refund).status, reload(second).status) == (RefundStatus.SUCCEEDED, PaymentStatus.REFUNDED)
    (call,) = refund_calls()
    assert parse_qs(call.request.body)["payment_intent"] == ["pi_second"]
    assert reload(first).status == PaymentStatus.PAID
