"""Receipts: the PDF (and the HTML it is made from) and the email that carries it, exactly once."""

import socket
from decimal import Decimal

import pytest
from django.core import mail

from consult.models import DeliveryStatus, EmailDelivery, EmailKind
from orgs.scoping import scopes_disabled
from payments import receipts
from payments.models import ClientType, PaymentSettings, PaymentStatus, Provider
from tests.payments.factories import charged_appointment, paying_org, payment_make

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
