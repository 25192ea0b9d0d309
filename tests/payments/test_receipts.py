"""Receipts: the PDF (and the HTML it is made from) and the email that carries it, exactly once."""

import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from consult.models import DeliveryStatus, EmailDelivery, EmailKind
from orgs.scoping import scopes_disabled
from payments import receipts
from payments.models import ClientType, Payment, PaymentSettings, PaymentStatus, Provider
from tests.conftest import host_client, make_org
from tests.payments.factories import (
    charged_appointment,
    paying_org,
    payment_make,
    stripe_session_event,
    stripe_webhook_post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def participant(alpha):
    alpha.rate = paying_org(alpha)
    with scopes_disabled():
        PaymentSettings.objects.filter(organization=alpha).update(seller_name="Alpha Praktijk B.V.")
    return charged_appointment(alpha, rate=alpha.rate)[1]


def test_receipt_html_has_seller_buyer_and_the_figures(participant):
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00003")
    html = receipts.receipt_html(payment)
    for text in ("Alpha Praktijk B.V.", "NL123456789B01", "2026-00003", "Jan Jansen", "Netherlands",
                 "Consultation 20 min", "€45.00", "€9.45", "€54.45", "21 %", payment.provider_payment_id,
                 "Card (Stripe)", "Paid"):
        assert text in html, text
    assert "reverse charged" not in html


def test_reverse_charged_business_receipt_says_so(participant):
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00004",
                           provider=Provider.PAYPAL,
                           billing={"client_type": ClientType.BUSINESS, "country": "DE", "name": "Max Muster",
                                    "company_name": "Muster GmbH", "vat_number": "DE123456789"},
                           net_amount=Decimal("45.00"), vat_percent=Decimal("0.00"), vat_amount=Decimal("0.00"),
                           total_amount=Decimal("45.00"),
                           reverse_charge=True)
    html = receipts.receipt_html(payment)
    assert "Muster GmbH" in html and "DE123456789" in html and "data-reverse-charge" in html
    assert "VAT reverse charged" in html and "€45.00" in html


def test_receipt_in_the_payments_language(participant):
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00005", language="nl")
    html = receipts.receipt_html(payment)
    assert 'lang="nl"' in html and "€45,00" in html


def test_receipt_pdf_is_a_pdf_and_fetches_nothing_remote(participant, monkeypatch):
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00006")
    connections = []
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: connections.append(args))
    monkeypatch.setattr(receipts, "receipt_html",
                        lambda p: '<img src="https://example.com/x.png"><img src="file:///etc/passwd"><p>Receipt</p>')
    pdf = receipts.receipt_pdf(payment)
    assert pdf.startswith(b"%PDF") and connections == []


def test_receipt_email_goes_once_with_the_pdf(participant, django_capture_on_commit_callbacks):
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00008")
    with django_capture_on_commit_callbacks(execute=True):
        receipts.receipt_send_on_commit(payment)
    assert receipts.receipt_send(payment.pk) is None  # a second run finds the claim
    with django_capture_on_commit_callbacks(execute=True):
        receipts.receipt_send_on_commit(payment)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["client@example.test"] and "2026-00008" in message.subject
    [(filename, content, mimetype)] = message.attachments
    assert filename == "receipt-2026-00008.pdf" and content.startswith(b"%PDF") and mimetype == "application/pdf"
    assert "€54.45" in message.body and "€54.45" in message.alternatives[0][0]
    with scopes_disabled():
        delivery = EmailDelivery.objects.get(once_key=f"receipt:{payment.pk}")
    assert delivery.kind == EmailKind.RECEIPT and delivery.status == DeliveryStatus.SENT


def test_no_receipt_for_an_unpaid_payment_or_without_a_number(participant):
    assert receipts.receipt_send(payment_make(participant).pk) is None
    assert receipts.receipt_send(payment_make(participant, status=PaymentStatus.PAID).pk) is None
    assert mail.outbox == []


# --- receipts stuck in "sending" or failed ------------------------------------------------------------------

def receipt_delivery(payment, status, minutes_ago):
    """The delivery row a receipt_send left behind `minutes_ago` (its worker died, or the send failed)."""
    with scopes_disabled():
        delivery = EmailDelivery.objects.create(
            organization=payment.organization, appointment_id=payment.appointment_id, kind=EmailKind.RECEIPT,
            to=payment.billing_email, once_key=receipts.receipt_once_key(payment), status=status,
            error="SMTP down" if status == DeliveryStatus.FAILED else "")
        EmailDelivery.objects.filter(pk=delivery.pk).update(updated_at=timezone.now() - timedelta(minutes=minutes_ago))
        delivery.refresh_from_db()
    return delivery


def delivery_status(delivery):
    with scopes_disabled():
        delivery.refresh_from_db()
    return delivery.status


@pytest.mark.parametrize(("status", "minutes_ago"), [(DeliveryStatus.FAILED, 1), (DeliveryStatus.SENDING, 16)])
def test_failed_and_stuck_receipts_are_sent_again_once(participant, status, minutes_ago):
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00011")
    delivery = receipt_delivery(payment, status, minutes_ago)
    assert receipts.retry_stuck_receipts() == 1
    assert receipts.retry_stuck_receipts() == 0
    assert len(mail.outbox) == 1 and "2026-00011" in mail.outbox[0].subject
    assert delivery_status(delivery) == DeliveryStatus.SENT and delivery.error == ""


def test_a_receipt_still_being_sent_is_left_to_its_worker(participant):
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00012")
    delivery = receipt_delivery(payment, DeliveryStatus.SENDING, 5)
    sent = receipt_delivery(payment_make(charged_appointment(participant.organization)[1], status=PaymentStatus.PAID,
                                         receipt_number="2026-00013"), DeliveryStatus.SENT, 60)
    assert receipts.retry_stuck_receipts() == 0 and mail.outbox == []
    assert delivery_status(delivery) == DeliveryStatus.SENDING and delivery_status(sent) == DeliveryStatus.SENT


def test_a_row_another_run_claimed_meanwhile_is_not_sent_twice(participant, monkeypatch):
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00014")
    delivery = receipt_delivery(payment, DeliveryStatus.FAILED, 1)
    sendable = receipts._sendable

    def claimed_by_another_run(payment_id):
        # Between this run's read and its claim, another run claims the row (moves updated_at on).
        with scopes_disabled():
            EmailDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING,
                                                                updated_at=timezone.now())
        return sendable(payment_id)

    monkeypatch.setattr(receipts, "_sendable", claimed_by_another_run)
    assert receipts.retry_stuck_receipts() == 0 and mail.outbox == []


def test_a_retry_that_fails_again_stays_failed(participant, monkeypatch):
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number="2026-00015")
    delivery = receipt_delivery(payment, DeliveryStatus.SENDING, 30)

    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert receipts.retry_stuck_receipts() == 0
    assert delivery_status(delivery) == DeliveryStatus.FAILED and "connection refused" in delivery.error


# --- receipts whose task was never queued --------------------------------------------------------------------

def paid_minutes_ago(participant, receipt_number, minutes):
    payment = payment_make(participant, status=PaymentStatus.PAID, receipt_number=receipt_number)
    with scopes_disabled():
        Payment.objects.filter(pk=payment.pk).update(paid_at=timezone.now() - timedelta(minutes=minutes))
    return payment


def test_a_paid_payment_without_any_receipt_row_gets_its_receipt_from_the_retry(participant):
    organization = participant.organization
    lost = paid_minutes_ago(participant, "2026-00021", 20)
    paid_minutes_ago(charged_appointment(organization)[1], "2026-00022", 5)  # its task may still be queued
    paid_minutes_ago(charged_appointment(organization)[1], "2026-00023", 4 * 24 * 60)  # left to the staff
    sent = paid_minutes_ago(charged_appointment(organization)[1], "2026-00024", 20)
    receipt_delivery(sent, DeliveryStatus.SENT, 19)
    payment_make(charged_appointment(organization)[1], status=PaymentStatus.FAILED)

    assert receipts.retry_stuck_receipts() == 1
    assert receipts.retry_stuck_receipts() == 0
    assert [message.subject for message in mail.outbox] == [
        "Your receipt 2026-00021 from Alpha Praktijk B.V."]
    with scopes_disabled():
        assert EmailDelivery.objects.get(once_key=receipts.receipt_once_key(lost)).status == DeliveryStatus.SENT


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_broker_down_when_the_webhook_pays_does_not_fail_it_and_the_retry_sends_the_receipt(monkeypatch):
    """covers F-PAY records: the receipt is not lost when its task cannot be queued"""
    alpha = make_org("alpha", "Alpha Practice")
    paying_org(alpha)
    payment = payment_make(charged_appointment(alpha)[1])

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("django_q.tasks.async_task", broker_down)
    response = stripe_webhook_post(host_client(alpha), alpha, stripe_session_event(payment))

    assert (response.status_code, response.content) == (200, b"paid")
    assert mail.outbox == []
    with scopes_disabled():
        Payment.objects.filter(pk=payment.pk).update(paid_at=timezone.now() - timedelta(minutes=20))
    assert receipts.retry_stuck_receipts() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments[0][2] == "application/pdf"
