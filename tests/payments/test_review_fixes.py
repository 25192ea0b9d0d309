"""The security review's payments findings (issue #8): money the provider confirms is PAID only for the price and
appointment it was asked for and while the appointment can still be attended, otherwise given back (REFUND_PENDING
until the provider confirms, then REFUNDED); refunds the provider reports, pending refunds retried, stale checkouts
swept; the client is sent only to the provider's own checkout page; provider data read defensively and not logged."""

import json
import logging
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import requests
import responses
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consult import services as consult_services
from consult.models import AppointmentStatus
from orgs.scoping import scopes_disabled
from payments import services, tasks
from payments.models import Charge, Payment, PaymentStatus, Provider, Refund, RefundReason, RefundStatus
from payments.providers import stripe as stripe_provider
from payments.views.client import _checkout_origins
from tests.conftest import host_client
from tests.payments.factories import (
    BILLING_PRIVATE_NL,
    charged_appointment,
    paying_org,
    payment_make,
    reload,
    stripe_session_event,
    stripe_webhook_post,
)
from tests.payments.standin import StripeStandIn
from tests.payments.test_paypal import VERIFY, capture_event, completed_order, paypal_post, token_ok

STRIPE = settings.STRIPE_API_BASE
SESSIONS = f"{STRIPE}/v1/checkout/sessions"
REFUNDS = f"{STRIPE}/v1/refunds"
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


def refund_of(payment):
    with scopes_disabled():
        return Refund.objects.get(payment=payment)


def refund_ok(status="succeeded", refund_id="re_1"):
    responses.add(responses.POST, REFUNDS, json={"id": refund_id, "object": "refund", "status": status})


def past_window(appointment):
    """Move the appointment so its link window closed an hour ago."""
    organization = appointment.organization
    with scopes_disabled():
        appointment.starts_at = timezone.now() - timedelta(minutes=organization.consult_link_closes_minutes + 60)
        appointment.save(update_fields=["starts_at"])


# --- H1: the price changed while the client was at the provider ------------------------------------------------

@responses.activate
@pytest.mark.parametrize("change", ["amount", "currency", "removed"])
def test_a_payment_for_a_price_changed_meanwhile_is_given_back_never_paid(
        paying, receipts_sent, django_capture_on_commit_callbacks, change):
    alpha, appointment, participant = paying
    payment = payment_make(participant)
    with scopes_disabled():
        charge = Charge.objects.get(appointment=appointment)
        if change == "removed":
            charge.delete()
        else:
            setattr(charge, change, Decimal("60.00") if change == "amount" else "USD")
            charge.save()
    refund_ok()

    with django_capture_on_commit_callbacks(execute=True):
        response = stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(payment))

    assert response.content.decode() == "paid, refunding (charge_changed)"
    assert reload(payment).status == PaymentStatus.REFUNDED
    refund = refund_of(payment)
    assert (refund.reason, refund.status) == (RefundReason.CHARGE_CHANGED, RefundStatus.SUCCEEDED)
    assert refund.get_reason_display() == "Price changed after the checkout opened"
    assert receipts_sent == []


@pytest.fixture
def lock_order(monkeypatch):
    """The tables whose rows the code locks, in the order it asks the ORM for the locks: SQLite takes no row
    locks (its SQL has no FOR UPDATE), so the order is read from the calls on every database."""
    from django.db.models import QuerySet

    asked = []
    select_for_update = QuerySet.select_for_update

    def recording(queryset, *args, **kwargs):
        asked.append(queryset.model._meta.db_table)
        return select_for_update(queryset, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "select_for_update", recording)
    return asked


def locked_tables(queries):
    """On PostgreSQL, the tables of the FOR UPDATE statements, in order (the SQL the calls became)."""
    return [sql.split('FROM "', 1)[1].split('"', 1)[0] for sql in (q["sql"] for q in queries) if "FOR UPDATE" in sql]


def test_mark_paid_locks_the_appointment_before_the_payment(paying, lock_order):
    alpha, appointment, participant = paying
    payment = payment_make(participant)
    del lock_order[:]
    with CaptureQueriesContext(connection) as queries:
        stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(payment))
    assert lock_order[:2] == ["consult_appointment", "payments_payment"]
    if connection.features.has_select_for_update:
        assert locked_tables(queries.captured_queries)[:2] == ["consult_appointment", "payments_payment"]


# --- H2: Stripe's expires_at -------------------------------------------------------------------------------

def test_the_stand_in_refuses_an_expiry_under_thirty_minutes_like_stripe():
    with StripeStandIn() as stand_in:
        body = urlencode({"mode": "payment", "expires_at": int(time.time()) + 29 * 60})
        answer = requests.post(f"{stand_in.url}/v1/checkout/sessions", data=body, timeout=5,
                               headers={"Authorization": "Bearer sk_test_x",
                                        "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "expires_at"
    assert "at least 30 minutes" in answer.json()["error"]["message"]


@pytest.mark.parametrize("minutes, expected", [(5, 31), (30, 31), (35, 35), (3000, 1435)])
def test_the_checkout_expiry_is_kept_within_what_stripe_accepts(paying, settings, minutes, expected):
    alpha, appointment, participant = paying
    settings.PAYMENTS_CHECKOUT_MINUTES = minutes
    with StripeStandIn() as stand_in:
        settings.STRIPE_API_BASE = stand_in.url
        payment = services.payment_start(participant=participant, provider=Provider.STRIPE,
                                         billing=BILLING_PRIVATE_NL, base_url="https://alpha.example.test")
        expires_in = stand_in.sessions[payment.provider_checkout_id]["expires_at"] - time.time()
    assert payment.status == PaymentStatus.OPEN
    assert expected * 60 - 30 < expires_in <= expected * 60


def test_the_default_checkout_time_is_35_minutes():
    from config.settings import base

    assert base.PAYMENTS_CHECKOUT_MINUTES == 35


# --- M2: paid when the appointment can no longer be attended --------------------------------------------------

@responses.activate
@pytest.mark.parametrize("how", ["window closed", "completed", "anonymised"])
def test_a_payment_confirmed_too_late_is_refunded_never_paid(
        paying, receipts_sent, django_capture_on_commit_callbacks, how):
    alpha, appointment, participant = paying
    payment = payment_make(participant)
    with scopes_disabled():
        if how == "window closed":
            past_window(appointment)
        elif how == "completed":
            appointment.status = AppointmentStatus.COMPLETED
            appointment.save(update_fields=["status"])
        else:
            appointment.anonymised_at = timezone.now()
            appointment.save(update_fields=["anonymised_at"])
    refund_ok()

    with django_capture_on_commit_callbacks(execute=True):
        stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(payment))

    assert reload(payment).status == PaymentStatus.REFUNDED
    refund = refund_of(payment)
    assert (refund.reason, refund.get_reason_display()) == (RefundReason.TOO_LATE, "Paid after the appointment's time")
    assert receipts_sent == []


def test_starting_a_payment_after_the_window_closed_is_refused(paying):
    alpha, appointment, participant = paying
    past_window(appointment)
    with pytest.raises(ValidationError) as caught:
        services.payment_start(participant=reload(participant), provider=Provider.STRIPE,
                               billing=BILLING_PRIVATE_NL, base_url="https://alpha.example.test")
    assert not hasattr(caught.value, "error_dict")
    assert "can no longer be paid" in caught.value.messages[0]
    with scopes_disabled():
        assert not Payment.objects.exists()


@responses.activate
def test_paypal_does_not_capture_once_the_window_closed(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = payment_make(participant, provider=Provider.PAYPAL)
    past_window(appointment)
    token_ok()
    responses.add(responses.GET, f"{PAYPAL}/v2/checkout/orders/{payment.provider_checkout_id}",
                  json={"id": payment.provider_checkout_id, "status": "APPROVED"})

    with pytest.raises(services.PaymentError):
        services.payment_capture(payment=reload(payment))
    services.payment_refresh(payment=reload(payment))

    assert not [call for call in responses.calls if call.request.url.endswith("/capture")]
    assert reload(payment).status == PaymentStatus.EXPIRED
    assert receipts_sent == []


@responses.activate
def test_the_sweep_expires_stale_open_attempts_and_a_late_confirmation_still_counts(paying, receipts_sent):
    alpha, appointment, participant = paying
    stale = payment_make(participant)
    fresh = payment_make(participant)
    with scopes_disabled():
        Payment.objects.filter(pk=stale.pk).update(
            created_at=timezone.now() - timedelta(minutes=settings.PAYMENTS_CHECKOUT_MINUTES + 16))
        Payment.objects.filter(pk=fresh.pk).update(
            created_at=timezone.now() - timedelta(minutes=settings.PAYMENTS_CHECKOUT_MINUTES + 14))

    assert tasks.expire_stale_checkouts() == 1
    assert (reload(stale).status, reload(fresh).status) == (PaymentStatus.EXPIRED, PaymentStatus.OPEN)
    assert tasks.expire_stale_checkouts() == 0

    stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(stale))
    assert reload(stale).status == PaymentStatus.PAID  # the money confirmed is never lost
    assert receipts_sent == [stale.pk]


# --- M3: refund states ---------------------------------------------------------------------------------------

@responses.activate
def test_a_duplicate_is_refund_pending_until_stripe_confirms_the_refund(
        paying, receipts_sent, django_capture_on_commit_callbacks):
    alpha, appointment, participant = paying
    payment_make(participant, status=PaymentStatus.PAID)
    second = payment_make(participant)
    refund_ok(status="pending", refund_id="re_pending")

    with django_capture_on_commit_callbacks(execute=True):
        stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(second))

    assert reload(second).status == PaymentStatus.REFUND_PENDING
    assert reload(second).get_status_display() == "Being refunded"
    refund = refund_of(second)
    assert (refund.status, refund.provider_refund_id, refund.attempts) == (RefundStatus.PENDING, "re_pending", 1)

    assert tasks.retry_failed_refunds() == 0  # pending for less than ten minutes: not asked again yet
    with scopes_disabled():
        Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    responses.replace(responses.POST, REFUNDS, json={"id": "re_pending", "object": "refund", "status": "succeeded"})
    assert tasks.retry_failed_refunds() == 1
    assert (reload(refund).status, reload(second).status) == (RefundStatus.SUCCEEDED, PaymentStatus.REFUNDED)


@responses.activate
def test_the_refund_of_a_cancellation_is_recorded_with_it_and_survives_a_lost_task(
        paying, django_capture_on_commit_callbacks):
    alpha, appointment, participant = paying
    payment = payment_make(participant, status=PaymentStatus.PAID)
    refund_ok()

    with django_capture_on_commit_callbacks(execute=False):  # the queued task is lost
        consult_services.appointment_cancel(member=alpha.people["admin"], appointment=appointment)

    refund = refund_of(payment)
    assert (refund.status, refund.reason, refund.attempts) == (RefundStatus.PENDING, RefundReason.CANCELLED, 0)
    assert reload(payment).status == PaymentStatus.PAID  # until the provider has given it back
    assert not responses.calls

    with scopes_disabled():
        Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    assert tasks.retry_failed_refunds() == 1
    assert (reload(refund).status, reload(payment).status) == (RefundStatus.SUCCEEDED, PaymentStatus.REFUNDED)
    assert len(responses.calls) == 1


@responses.activate
def test_the_cancellation_task_asks_the_provider_for_the_recorded_refund(
        paying, django_capture_on_commit_callbacks):
    alpha, appointment, participant = paying
    payment = payment_make(participant, status=PaymentStatus.PAID)
    refund_ok(status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        consult_services.appointment_cancel(member=alpha.people["admin"], appointment=appointment)
    assert (refund_of(payment).status, reload(payment).status) == (RefundStatus.PENDING, PaymentStatus.PAID)


# --- M4: two tabs ---------------------------------------------------------------------------------------------

@responses.activate
def test_payment_start_locks_the_participant_first(paying, lock_order):
    alpha, appointment, participant = paying
    responses.add(responses.POST, SESSIONS, json={"id": "cs_test_a", "url": "https://checkout.stripe.com/c/pay/a"})
    with CaptureQueriesContext(connection) as queries:
        services.payment_start(participant=participant, provider=Provider.STRIPE, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")
    assert lock_order[0] == "consult_appointmentparticipant"
    if connection.features.has_select_for_update:
        assert locked_tables(queries.captured_queries)[0] == "consult_appointmentparticipant"


@responses.activate
def test_an_attempt_superseded_while_stripe_answered_is_closed_and_not_offered(
        paying, monkeypatch, django_capture_on_commit_callbacks):
    alpha, appointment, participant = paying
    responses.add(responses.POST, f"{SESSIONS}/cs_test_old/expire", json={"id": "cs_test_old", "status": "expired"})

    def create(self, payment, **urls):
        # Meanwhile a second tab starts its own attempt, which ends this one.
        with scopes_disabled():
            Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.EXPIRED)
        return "cs_test_old", "https://checkout.stripe.com/c/pay/old"

    monkeypatch.setattr(stripe_provider.StripeCheckout, "session_create", create)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.PaymentError):
        services.payment_start(participant=participant, provider=Provider.STRIPE, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")
    assert [call.request.url for call in responses.calls] == [f"{SESSIONS}/cs_test_old/expire"]


# --- L1: only the provider's checkout page ----------------------------------------------------------------------

@responses.activate
@pytest.mark.parametrize("url", ["https://evil.example/c/pay", "http://checkout.stripe.com/c/pay",
                                 "https://checkout.stripe.com.evil.example/c", "https://user@checkout.stripe.com/c",
                                 "javascript:alert(1)"])
def test_a_stripe_checkout_url_elsewhere_fails_the_attempt(paying, url, caplog):
    alpha, appointment, participant = paying
    responses.add(responses.POST, SESSIONS, json={"id": "cs_test_x", "url": url})
    responses.add(responses.POST, f"{SESSIONS}/cs_test_x/expire", json={"id": "cs_test_x", "status": "expired"})
    with caplog.at_level(logging.ERROR), pytest.raises(services.PaymentError):
        services.payment_start(participant=participant, provider=Provider.STRIPE, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")
    with scopes_disabled():
        assert Payment.objects.get().status == PaymentStatus.FAILED
    assert "checkout address" in caplog.text


@responses.activate
def test_a_paypal_approve_link_elsewhere_fails_the_attempt(paying):
    alpha, appointment, participant = paying
    token_ok()
    responses.add(responses.POST, f"{PAYPAL}/v2/checkout/orders", json={
        "id": "ORDER1", "links": [{"rel": "payer-action", "href": "https://www.paypal.com/checkoutnow?token=ORDER1"}]})
    with pytest.raises(services.PaymentError):  # live page for a sandbox account
        services.payment_start(participant=participant, provider=Provider.PAYPAL, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")
    with scopes_disabled():
        assert Payment.objects.get().status == PaymentStatus.FAILED


def test_the_pay_page_form_action_names_only_the_checkout_pages(paying):
    alpha, appointment, participant = paying
    from payments.selectors import settings_for

    row = settings_for(alpha)
    assert _checkout_origins(row, [Provider.STRIPE, Provider.PAYPAL]) == [
        "https://checkout.stripe.com", "https://www.sandbox.paypal.com"]


# --- L2: PayPal return page reloads ----------------------------------------------------------------------------

def test_reloading_the_paypal_return_page_does_not_ask_paypal_each_time(alpha, monkeypatch):
    from consult import links

    alpha.rate = paying_org(alpha)
    _appointment, participant, _charge = charged_appointment(alpha, rate=alpha.rate, starts_in=timedelta(minutes=10))
    browser = host_client(alpha)
    browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    payment = payment_make(participant, provider=Provider.PAYPAL)
    asked = []
    monkeypatch.setattr(services, "payment_refresh", lambda *, payment: asked.append(payment.pk) or payment)
    for _ in range(3):
        browser.get(f"/pay/return/{payment.reference}/?token={payment.provider_checkout_id}&PayerID=X")
    assert asked == [payment.pk]


# --- L3: capture events need the order; refunds made at the provider ---------------------------------------------

@responses.activate
def test_a_paypal_capture_without_its_order_id_is_not_applied(paying, receipts_sent):
    alpha, appointment, participant = paying
    payment = payment_make(participant, provider=Provider.PAYPAL)
    token_ok()
    responses.add(responses.POST, VERIFY, json={"verification_status": "SUCCESS"})
    event = capture_event(payment)
    del event["resource"]["supplementary_data"]

    response = paypal_post(alpha, event)

    assert (response.status_code, response.content.decode()) == (200, "not our payment")
    assert reload(payment).status == PaymentStatus.OPEN and receipts_sent == []


def stripe_refund_event(payment, *, event_type="charge.refunded", refunded=True, event_id=None):
    obj = ({"id": "ch_1", "object": "charge", "payment_intent": payment.provider_payment_id, "refunded": refunded,
            "amount": 5445, "amount_refunded": 5445 if refunded else 100}
           if event_type == "charge.refunded" else
           {"id": "re_dash", "object": "refund", "payment_intent": payment.provider_payment_id,
            "status": "succeeded", "amount": int(payment.total_amount * 100)})
    return {"id": event_id or f"evt_{payment.pk}_{event_type}", "object": "event", "created": int(time.time()),
            "type": event_type, "data": {"object": obj}}


def test_a_refund_made_in_the_stripe_dashboard_is_recorded_once(paying):
    alpha, appointment, participant = paying
    payment = payment_make(participant, status=PaymentStatus.PAID)

    response = stripe_webhook_post(host_client(alpha), alpha, stripe_refund_event(payment))
    again = stripe_webhook_post(host_client(alpha), alpha, stripe_refund_event(payment, event_id="evt_other"))

    assert (response.content.decode(), again.content.decode()) == ("refunded", "already refunded")
    refund = refund_of(payment)
    assert (refund.reason, refund.status, refund.get_reason_display()) == (
        RefundReason.PROVIDER, RefundStatus.SUCCEEDED, "Refunded at the provider")
    assert reload(payment).status == PaymentStatus.REFUNDED


def test_a_partial_stripe_refund_is_not_recorded_as_the_whole(paying):
    alpha, appointment, participant = paying
    payment = payment_make(participant, status=PaymentStatus.PAID)
    stripe_webhook_post(host_client(alpha), alpha, stripe_refund_event(payment, refunded=False))
    assert reload(payment).status == PaymentStatus.PAID
    with scopes_disabled():
        assert not Refund.objects.exists()


def test_a_stripe_refund_update_confirms_our_pending_refund(paying):
    alpha, appointment, participant = paying
    payment = payment_make(participant, status=PaymentStatus.REFUND_PENDING, provider_payment_id="pi_pending")
    with scopes_disabled():
        refund = Refund.objects.create(organization=alpha, payment=payment, reason=RefundReason.DUPLICATE,
                                       amount=payment.total_amount, currency=payment.currency)

    stripe_webhook_post(host_client(alpha), alpha, stripe_refund_event(payment, event_type="refund.updated"))

    refund = reload(refund)
    assert (refund.status, refund.reason, refund.provider_refund_id) == (
        RefundStatus.SUCCEEDED, RefundReason.DUPLICATE, "re_dash")
    assert reload(payment).status == PaymentStatus.REFUNDED


@responses.activate
def test_a_refund_made_in_the_paypal_dashboard_is_recorded(paying):
    alpha, appointment, participant = paying
    payment = payment_make(participant, provider=Provider.PAYPAL, status=PaymentStatus.PAID,
                           provider_payment_id="CAPTURE1")
    token_ok()
    responses.add(responses.POST, VERIFY, json={"verification_status": "SUCCESS"})
    event = {"id": "WH-REFUND-1", "event_type": "PAYMENT.CAPTURE.REFUNDED", "create_time": timezone.now().isoformat(),
             "resource": {"id": "REFUND1", "status": "COMPLETED",
                          "amount": {"currency_code": "EUR", "value": f"{payment.total_amount:.2f}"},
                          "links": [{"rel": "up", "href": f"{PAYPAL}/v2/payments/captures/CAPTURE1"}]}}

    response = paypal_post(alpha, event)

    assert response.content.decode() == "refunded"
    refund = refund_of(payment)
    assert (refund.reason, refund.status, refund.provider_refund_id) == (
        RefundReason.PROVIDER, RefundStatus.SUCCEEDED, "REFUND1")
    assert reload(payment).status == PaymentStatus.REFUNDED


# --- L4: provider data read defensively; an amount other than ours is given back -------------------------------

@responses.activate
@pytest.mark.parametrize("resource", [
    {"supplementary_data": "x", "custom_id": "REF"}, {"custom_id": ["x"]}, {"amount": "12", "status": "COMPLETED"},
    {"links": "x"}])
@pytest.mark.parametrize("event_type", ["PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.REFUNDED",
                                        "CHECKOUT.ORDER.APPROVED"])
def test_odd_paypal_resources_never_give_a_500(paying, resource, event_type):
    alpha, appointment, participant = paying
    payment = payment_make(participant, provider=Provider.PAYPAL)
    token_ok()
    responses.add(responses.POST, VERIFY, json={"verification_status": "SUCCESS"})
    resource = {key: (str(payment.reference) if value == "REF" else value) for key, value in resource.items()}
    if event_type == "CHECKOUT.ORDER.APPROVED":
        resource = {"id": payment.provider_checkout_id, "purchase_units": [resource, "x"]}
    response = paypal_post(alpha, {"id": f"WH-{event_type}-{len(resource)}", "event_type": event_type,
                                   "create_time": timezone.now().isoformat(), "resource": resource})
    assert response.status_code == 200
    assert reload(payment).status == PaymentStatus.OPEN


@pytest.mark.parametrize("changes", [{"currency": 978}, {"payment_intent": 5}, {"amount_total": True},
                                     {"metadata": "x"}, {"client_reference_id": 7, "metadata": {}}])
def test_odd_stripe_sessions_never_give_a_500(paying, receipts_sent, changes):
    alpha, appointment, participant = paying
    payment = payment_make(participant)
    event = stripe_session_event(payment)
    event["data"]["object"].update(changes)
    response = stripe_webhook_post(host_client(alpha), alpha, event)
    assert response.status_code == 200
    assert reload(payment).status != PaymentStatus.PAID or "payment_intent" in changes or "metadata" in changes


@responses.activate
@pytest.mark.parametrize("answer", [{"body": "not json"}, {"json": ["x"]}, {"json": {"access_token": 5}},
                                    {"json": {"token_type": "Bearer"}}])
def test_a_malformed_paypal_token_answer_is_a_payment_error_or_a_503(paying, answer):
    alpha, appointment, participant = paying
    payment = payment_make(participant, provider=Provider.PAYPAL)
    responses.add(responses.POST, f"{PAYPAL}/v1/oauth2/token", **answer)
    with pytest.raises(services.PaymentError):
        services.payment_start(participant=participant, provider=Provider.PAYPAL, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")
    response = paypal_post(alpha, capture_event(payment))
    assert response.status_code == 503


@responses.activate
def test_a_paypal_order_answer_that_is_not_an_object_is_a_payment_error(paying):
    alpha, appointment, participant = paying
    payment = payment_make(participant, provider=Provider.PAYPAL)
    token_ok()
    responses.add(responses.POST, f"{PAYPAL}/v2/checkout/orders/{payment.provider_checkout_id}/capture",
                  json=["COMPLETED"])
    with pytest.raises(services.PaymentError):
        services.payment_capture(payment=payment)
    assert reload(payment).status == PaymentStatus.OPEN


@responses.activate
def test_an_amount_other_than_ours_is_refunded_in_full(paying, receipts_sent, django_capture_on_commit_callbacks,
                                                       caplog):
    alpha, appointment, participant = paying
    payment = payment_make(participant, provider=Provider.PAYPAL)
    token_ok()
    responses.add(responses.POST, f"{PAYPAL}/v2/checkout/orders/{payment.provider_checkout_id}/capture",
                  json=completed_order(payment, value="1.00", capture_id="CAPTURE9"))
    responses.add(responses.POST, f"{PAYPAL}/v2/payments/captures/CAPTURE9/refund",
                  json={"id": "REFUND9", "status": "COMPLETED"})

    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        services.payment_capture(payment=payment)

    assert reload(payment).status == PaymentStatus.REFUNDED
    refund = refund_of(payment)
    assert (refund.reason, refund.status, refund.amount) == (
        RefundReason.AMOUNT_MISMATCH, RefundStatus.SUCCEEDED, Decimal("1.00"))
    assert "amount" not in json.loads(responses.calls[-1].request.body)  # the whole capture, whatever it was
    assert "we asked" in caplog.text
    assert receipts_sent == []


# --- L6: no provider bodies or payer data in the logs -------------------------------------------------------------

@responses.activate
def test_paypal_errors_are_logged_without_the_body(paying, caplog):
    alpha, appointment, participant = paying
    token_ok()
    responses.add(responses.POST, f"{PAYPAL}/v2/checkout/orders", status=422, json={
        "name": "UNPROCESSABLE_ENTITY", "debug_id": "dbg123",
        "details": [{"issue": "PAYEE_ACCOUNT_INVALID", "description": "payer client@example.test Jan Jansen"}]})
    with caplog.at_level(logging.WARNING), pytest.raises(services.PaymentError):
        services.payment_start(participant=participant, provider=Provider.PAYPAL, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")
    assert "422" in caplog.text and "UNPROCESSABLE_ENTITY" in caplog.text and "dbg123" in caplog.text
    assert "client@example.test" not in caplog.text and "Jan Jansen" not in caplog.text


@responses.activate
def test_stripe_errors_are_logged_without_the_message(paying, caplog):
    alpha, appointment, participant = paying
    responses.add(responses.POST, SESSIONS, status=400, json={"error": {
        "type": "invalid_request_error", "code": "email_invalid",
        "message": "Invalid email address: client@example.test"}})
    with caplog.at_level(logging.WARNING), pytest.raises(services.PaymentError):
        services.payment_start(participant=participant, provider=Provider.STRIPE, billing=BILLING_PRIVATE_NL,
                               base_url="https://alpha.example.test")
    assert "email_invalid" in caplog.text and "400" in caplog.text
    assert "client@example.test" not in caplog.text


def test_a_payment_being_refunded_does_not_keep_the_client_waiting(alpha):
    from consult import links

    alpha.rate = paying_org(alpha)
    _appointment, participant, _charge = charged_appointment(alpha, rate=alpha.rate, starts_in=timedelta(minutes=10))
    browser = host_client(alpha)
    browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    payment = payment_make(participant, status=PaymentStatus.REFUND_PENDING)
    answer = browser.get(f"/pay/status/{payment.reference}/").json()
    assert answer["state"] == "expired"
