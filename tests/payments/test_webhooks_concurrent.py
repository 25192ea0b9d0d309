"""Webhooks exactly once under concurrent delivery (F-PAY-3): providers retry and may deliver one event to several
workers at the same moment.

Real threads with their own database connections against a committed database (transaction=True), so the
database's own guarantees (the unique event row, the payment and appointment row locks) are what is tested. Like
the concurrent-bookings test it runs on SQLite (the default test database, a file, IMMEDIATE transactions) and
in the PostgreSQL stage of .ci/run (DATABASE_URL=postgres://...), where the row locks really race.
"""

import pytest
import responses
from django.conf import settings
from django.db import transaction

from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from payments.models import Payment, PaymentSettings, PaymentStatus, Refund, RefundReason, WebhookEvent
from tests.concurrency import race
from tests.conftest import host_client, make_org
from tests.payments.factories import (
    charged_appointment,
    paying_org,
    payment_make,
    stripe_session_event,
    stripe_webhook_post,
)

THREADS = 8


@pytest.fixture
def receipts_sent(monkeypatch):
    """Receipts that would go out: only those of transactions that committed."""
    sent = []
    monkeypatch.setattr("payments.receipts.receipt_send_on_commit",
                        lambda payment: transaction.on_commit(lambda: sent.append(payment.pk)))
    return sent


def deliver_all(organization, events):
    """POST events[i] from thread i, all released at once; returns (status, body) per thread."""
    def deliver(index, client):
        response = stripe_webhook_post(client, organization, events[index])
        return response.status_code, response.content.decode()

    return race(len(events), deliver, prepare=lambda index: host_client(organization))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_event_delivered_by_eight_workers_at_once_is_applied_once(receipts_sent):
    """covers F-PAY-3 (concurrent deliveries change nothing twice)"""
    alpha = make_org("alpha", "Alpha Practice")
    paying_org(alpha)
    _, participant, _ = charged_appointment(alpha)
    payment = payment_make(participant)
    event = stripe_session_event(payment)

    results = deliver_all(alpha, [event] * THREADS)

    assert all(result[0] == 200 for result in results), results
    assert sorted(body for _, body in results) == ["duplicate"] * (THREADS - 1) + ["paid"]
    with scopes_disabled():
        assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1
        paid = Payment.objects.get(pk=payment.pk)
        assert paid.status == PaymentStatus.PAID
        assert paid.receipt_number.endswith("-00001")
        assert PaymentSettings.objects.get(organization=alpha).receipt_sequence == 1
        assert AuditEvent.objects.filter(organization=alpha, action="payment.paid").count() == 1
    assert receipts_sent == [payment.pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_different_paid_events_for_one_payment_at_once_make_one_transition(receipts_sent):
    alpha = make_org("alpha", "Alpha Practice")
    paying_org(alpha)
    _, participant, _ = charged_appointment(alpha)
    payment = payment_make(participant)
    events = [stripe_session_event(payment, event_type=("checkout.session.completed" if index % 2 else
                                                        "checkout.session.async_payment_succeeded"))
              for index in range(THREADS)]

    results = deliver_all(alpha, events)

    assert all(result[0] == 200 for result in results), results
    assert sorted(body for _, body in results) == ["already paid"] * (THREADS - 1) + ["paid"]
    with scopes_disabled():
        assert WebhookEvent.objects.count() == THREADS  # each event recorded once
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID
        assert AuditEvent.objects.filter(organization=alpha, action="payment.paid").count() == 1
    assert receipts_sent == [payment.pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@responses.activate
def test_two_payments_of_one_appointment_confirmed_at_once_leave_one_paid_and_refund_the_other(receipts_sent):
    """Two tabs, both paid at the provider in the same moment: the appointment lock lets one be the payment."""
    alpha = make_org("alpha", "Alpha Practice")
    paying_org(alpha)
    _, participant, _ = charged_appointment(alpha)
    payments = [payment_make(participant) for _ in range(2)]
    responses.add(responses.POST, f"{settings.STRIPE_API_BASE}/v1/refunds",
                  json={"id": "re_dup", "object": "refund", "status": "succeeded"})

    results = deliver_all(alpha, [stripe_session_event(payment) for payment in payments])

    assert sorted(body for _, body in results) == ["paid", "paid, refunding (duplicate)"], results
    with scopes_disabled():
        statuses = sorted(Payment.objects.filter(pk__in=[p.pk for p in payments]).values_list("status", flat=True))
        assert statuses == [PaymentStatus.PAID, PaymentStatus.REFUNDED]
        refund = Refund.objects.get()
        assert refund.reason == RefundReason.DUPLICATE
        assert refund.payment.status == PaymentStatus.REFUNDED
    assert len(receipts_sent) == 1
