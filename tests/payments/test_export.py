"""The payments list and the CSV export for the bookkeeper (F-PAY-1): only the organisation's own payments, the
filters, exact CSV content (UTF-8 with BOM, reverse charge, refund, formula injection defused), one audit row
per page view and per export."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled
from payments.models import ClientType, PaymentStatus, Provider, Refund, RefundReason, RefundStatus
from tests.conftest import signed_in_client
from tests.payments.factories import charged_appointment, payment_make, payments_enable, rate_create, vat_rules_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(alpha):
    return signed_in_client(alpha.people["admin"].user, alpha)


@pytest.fixture
def two_payments(alpha, beta):
    """A private Dutch client paid by card; a German business (reverse charged) paid by PayPal and refunded, whose
    billing name is a spreadsheet formula; an open attempt; and a payment of beta that alpha must never see."""
    payments_enable(alpha)
    vat_rules_create(alpha)
    rate = rate_create(alpha, name="Consult 20 min", amount="45.00")
    first_appointment, first, _charge = charged_appointment(alpha, rate=rate)
    second_appointment, second, _charge = charged_appointment(alpha, rate=rate, email="b@example.test")
    with organization_scope(alpha):
        first_appointment.starts_at = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
        first_appointment.save()
        second_appointment.starts_at = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
        second_appointment.save()
    paid = payment_make(first, status=PaymentStatus.PAID, receipt_number="2026-0001",
                        paid_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC), provider_payment_id="pi_test_1")
    refunded = payment_make(
        second, provider=Provider.PAYPAL, status=PaymentStatus.REFUNDED, receipt_number="2026-0002",
        paid_at=datetime(2026, 3, 9, 23, 30, tzinfo=UTC), provider_payment_id="CAPTURE1",
        billing={"client_type": ClientType.BUSINESS, "country": "DE", "name": '=HYPERLINK("http://x.test","a")',
                 "company_name": "Müller GmbH", "vat_number": "DE123456789", "email": "b@example.test"})
    with organization_scope(alpha):
        Refund.objects.create(organization=alpha, payment=refunded, reason=RefundReason.CANCELLED,
                              status=RefundStatus.SUCCEEDED, amount=refunded.total_amount, currency="EUR",
                              completed_at=datetime(2026, 3, 11, 10, 0, tzinfo=UTC))
    payment_make(second, status=PaymentStatus.OPEN)
    payments_enable(beta)
    _appointment, beta_participant, _charge = charged_appointment(beta)
    payment_make(beta_participant, status=PaymentStatus.PAID, receipt_number="BETA-1",
                 billing={"name": "Beta Client"})
    return paid, refunded


def audit_rows(org, action):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(organization=org, action=action))


def export(client, query=""):
    response = client.get("/admin/payments/export.csv" + query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="payments-alpha-')
    return b"".join(response.streaming_content).decode("utf-8")


HEADER = ("Date paid,Receipt number,Appointment date,Billing name,Company,Country,Client type,VAT number,"
          "Description,Currency,Net,VAT %,VAT,Total,Reverse charge,VAT note,Provider,Provider payment id,Status,"
          "Refunded amount,Refunded at\r\n")


def test_csv_content_is_exact(alpha, admin_client, two_payments):
    text = export(admin_client, "?status=paid")
    assert text == "\ufeff" + HEADER + (
        "2026-03-02 10:30,2026-0001,2026-03-03 09:00,Jan Jansen,,NL,Private person,,Consult 20 min,EUR,45.00,"
        "21.00,9.45,54.45,no,,Card (Stripe),pi_test_1,Paid,,\r\n"
    )
    text = export(admin_client, "?status=refunded")
    assert text == "\ufeff" + HEADER + (
        # The billing name starts with "=": a spreadsheet would run it, so it gets a leading quote.
        '2026-03-10 00:30,2026-0002,2026-03-10 14:00,"\'=HYPERLINK(""http://x.test"",""a"")",Müller GmbH,DE,'
        "Business,DE123456789,Consult 20 min,EUR,45.00,0.00,0.00,45.00,yes,"
        "VAT reverse charged: Article 196 of Council Directive 2006/112/EC,PayPal,CAPTURE1,Refunded,45.00,"
        "2026-03-11 11:00\r\n"
    )


def test_export_without_filters_has_alpha_rows_only_and_is_audited(alpha, beta, admin_client, two_payments):
    text = export(admin_client)
    lines = text.splitlines()
    assert len(lines) == 4  # header, two paid, one open attempt
    assert "Beta Client" not in text and "BETA-1" not in text
    # Newest first: the open attempt (started today), then by the day paid.
    assert lines[1].startswith(",,") and lines[2].startswith("2026-03-10 00:30,2026-0002")
    assert lines[3].startswith("2026-03-02 10:30,2026-0001")
    [row] = audit_rows(alpha, "payment.export")
    assert row.actor == alpha.people["admin"].user
    assert audit_rows(beta, "payment.export") == []


def test_export_by_period_and_provider(alpha, admin_client, two_payments):
    text = export(admin_client, "?date_from=2026-03-01&date_to=2026-03-05")
    assert "2026-0001" in text and "2026-0002" not in text
    # 23:30 UTC on 9 March is 10 March in Amsterdam: the organisation's day counts.
    text = export(admin_client, "?date_from=2026-03-10&date_to=2026-03-10")
    assert "2026-0002" in text and "2026-0001" not in text
    text = export(admin_client, "?provider=paypal&status=refunded")
    assert "2026-0002" in text and "2026-0001" not in text
    assert audit_rows(alpha, "payment.export")[0].changes == {"status": "refunded", "provider": "paypal"}


def test_list_shows_the_organisations_payments_with_filters_and_is_audited(alpha, admin_client, two_payments):
    paid, refunded = two_payments
    response = admin_client.get("/admin/payments/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026-0001" in html and "2026-0002" in html and "Müller GmbH" in html
    assert "Beta Client" not in html and "BETA-1" not in html
    assert f"/portal/appointments/{paid.appointment_id}/" in html
    assert "=HYPERLINK(&quot;http://x.test&quot;,&quot;a&quot;)" in html  # escaped, never markup
    html = admin_client.get("/admin/payments/", {"provider": "stripe", "status": "paid"}).content.decode()
    assert "2026-0001" in html and "2026-0002" not in html
    assert "provider=stripe" in html  # the export link keeps the filters
    html = admin_client.get("/admin/payments/", {"date_from": "2026-03-09"}).content.decode()
    assert "2026-0002" in html and "2026-0001" not in html
    rows = audit_rows(alpha, "payment.list")
    assert len(rows) == 3
    assert {"provider": "stripe", "status": "paid", "page": 1, "rows": 1}.items() <= rows[1].changes.items()


def test_bad_filter_is_shown_not_applied(alpha, admin_client, two_payments):
    response = admin_client.get("/admin/payments/", {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


@pytest.mark.parametrize("who", ["deptadmin", "gp"])
def test_other_roles_see_no_list_and_no_export(alpha, two_payments, who):
    client = signed_in_client(alpha.people[who].user, alpha)
    for url in ("/admin/payments/", "/admin/payments/export.csv"):
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert b"2026-0001" not in b"".join(getattr(response, "streaming_content", [response.content]))
    assert audit_rows(alpha, "payment.list") == [] and audit_rows(alpha, "payment.export") == []


def test_defused_cells():
    from payments.bookkeeping import defused

    for cell in ("=1+1", "+31 6", "-2", "@SUM(A1)", "\tx", "\rx", "  =HYPERLINK(\"x\")", "\uff1dHYPERLINK(1)"):
        assert defused(cell) == "'" + cell
    assert defused("Jan") == "Jan" and defused(" Jan") == " Jan" and defused(Decimal("45.00")) == "45.00"


def test_under_asgi_the_export_streams_batch_by_batch(alpha, admin_client, two_payments, monkeypatch):
    """The server the app runs on (ASGI) gets an async iterator, so it sends each batch as it is made instead of
    collecting the whole file first; the text is the same."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncRequestFactory

    from payments import bookkeeping
    from payments.views.admin import _stream

    monkeypatch.setattr(bookkeeping, "BATCH", 1)
    expected = export(admin_client)
    chunks = _stream(AsyncRequestFactory().get("/admin/payments/export.csv"), alpha, bookkeeping.PaymentFilter())

    async def collect():
        return [part async for part in chunks]

    parts = async_to_sync(collect)()
    assert len(parts) == 4  # header, then one batch per payment
    assert "".join(parts) == expected
