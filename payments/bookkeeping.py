"""The organisation's payments for the admin and the bookkeeper: the filtered list and its CSV export.

Reads only. The caller (payments/views/admin.py) checks policy.can_manage_payments and writes the audit row.
"""

import csv
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orgs.scoping import organization_scope

from .models import Payment

BOM = "\ufeff"  # Excel reads a CSV file as UTF-8 only when it starts with one
# A spreadsheet runs a cell that starts with one of these as a formula ("=HYPERLINK(...)" in a billing name).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and full-width forms


@dataclass(frozen=True)
class PaymentFilter:
    date_from: date | None = None
    date_to: date | None = None
    status: str = ""
    provider: str = ""

    def as_audit(self):
        return {name: str(value) for name, value in vars(self).items() if value}


def payments_for_bookkeeping(organization, payment_filter):
    """The organisation's payments, newest first, by the day they were paid (or started, when never paid) in the
    organisation's time zone. A queryset: evaluate it inside organization_scope(organization)."""
    with organization_scope(organization):
        payments = (Payment.objects.filter(organization=organization)
                    .select_related("refund", "appointment")
                    .annotate(day=Coalesce("paid_at", "created_at")))
    tz = zoneinfo.ZoneInfo(organization.time_zone)
    if payment_filter.date_from:
        payments = payments.filter(day__gte=_start_of(payment_filter.date_from, tz))
    if payment_filter.date_to:
        payments = payments.filter(day__lt=_start_of(payment_filter.date_to, tz, days_later=1))
    if payment_filter.status:
        payments = payments.filter(status=payment_filter.status)
    if payment_filter.provider:
        payments = payments.filter(provider=payment_filter.provider)
    return payments.order_by("-day", "-id")


def _start_of(day, tz, days_later=0):
    return datetime.combine(day + timedelta(days=days_later), time.min, tzinfo=tz)


# --- CSV ------------------------------------------------------------------------------------------

def csv_header():
    return [
        _("Date paid"), _("Receipt number"), _("Appointment date"), _("Billing name"), _("Company"), _("Country"),
        _("Client type"), _("VAT number"), _("Description"), _("Currency"), _("Net"), _("VAT %"), _("VAT"),
        _("Total"), _("Reverse charge"), _("VAT note"), _("Provider"), _("Provider payment id"), _("Status"),
        _("Refunded amount"), _("Refunded at"),
    ]


def csv_row(payment, tz):
    def when(value, fmt="%Y-%m-%d %H:%M"):
        return timezone.localtime(value, tz).strftime(fmt) if value else ""

    refund = getattr(payment, "refund", None)
    refunded = refund is not None and refund.status == "succeeded"
    appointment = payment.appointment
    return [
        when(payment.paid_at), payment.receipt_number, when(appointment.starts_at) if appointment else "",
        payment.billing_name, payment.company_name, str(payment.billing_country), payment.get_client_type_display(),
        payment.vat_number, payment.description, payment.currency, str(payment.net_amount),
        str(payment.vat_percent), str(payment.vat_amount), str(payment.total_amount),
        _("yes") if payment.reverse_charge else _("no"), payment.vat_note, payment.get_provider_display(),
        payment.provider_payment_id, payment.get_status_display(),
        str(refund.amount) if refunded else "", when(refund.completed_at) if refunded else "",
    ]


def defused(cell):
    """The cell as text a spreadsheet shows instead of evaluating (OWASP: CSV injection)."""
    cell = str(cell)
    # Spreadsheets skip leading spaces before they look for a formula (" =1+1" is one in LibreOffice).
    return "'" + cell if cell.lstrip(" ").startswith(FORMULA_STARTS) else cell


class _Line:
    """csv.writer writes into this and gets the line back, so the export is made a batch at a time."""

    def write(self, value):
        return value


BATCH = 500


def csv_head(language):
    with translation.override(language):
        return BOM + _csv_text([csv_header()])


def csv_batches(organization, payment_filter):
    """The ids of the export's payments in batches, in order: each batch is turned into text by csv_text_of, on
    its own and inside the organisation's scope, so a streaming response can call it after the view returned
    (and from another thread under ASGI)."""
    with organization_scope(organization):
        ids = list(payments_for_bookkeeping(organization, payment_filter).values_list("id", flat=True))
    return [ids[start:start + BATCH] for start in range(0, len(ids), BATCH)]


def csv_text_of(organization, ids, language):
    """The rows of these payments as CSV text, their words ("Paid", "yes", "Business") in `language`."""
    tz = zoneinfo.ZoneInfo(organization.time_zone)
    with organization_scope(organization):
        by_id = {p.pk: p for p in Payment.objects.filter(organization=organization, pk__in=ids)
                 .select_related("refund", "appointment")}
    with translation.override(language):
        return _csv_text(csv_row(by_id[pk], tz) for pk in ids if pk in by_id)


def _csv_text(rows):
    writer = csv.writer(_Line(), quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    return "".join(writer.writerow([defused(cell) for cell in row]) for row in rows)
