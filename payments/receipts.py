"""Receipts (F-PAY, records): the PDF of a paid payment and the email that carries it to the client, once.

The receipt is in the payment's language (the one the client paid in) and renders only what is stored on the
Payment: amounts, VAT and billing details as they were when paid, even if rates or VAT rules change later.
"""

import logging
import zoneinfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _

from consult.models import DeliveryStatus, EmailDelivery, EmailKind
from orgs.logo import logo_data_uri
from orgs.scoping import organization_scope

from .charges import money
from .models import Payment, PaymentStatus
from .selectors import settings_for

logger = logging.getLogger(__name__)


def receipt_once_key(payment):
    return f"receipt:{payment.pk}"


def receipt_filename(payment):
    return f"receipt-{payment.receipt_number or payment.reference}.pdf"


def _language(payment):
    return payment.language if payment.language in dict(settings.LANGUAGES) else "en"


def _percent(value):
    """21.00 → 21, 20.50 → 20.5: a VAT rate as people write it."""
    return value.quantize(1) if value == value.to_integral_value() else value.normalize()


def receipt_context(payment):
    organization = payment.organization
    seller = settings_for(organization)
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    paid_at = (payment.paid_at or payment.created_at).astimezone(zone)
    return {
        "payment": payment,
        "organization": organization,
        "logo": logo_data_uri(organization),
        "seller_name": seller.seller_name or organization.name,
        "seller_address": organization.address,
        "seller_country": seller.seller_country.name if seller.seller_country else "",
        "seller_vat_number": seller.seller_vat_number,
        "paid_date": formats.date_format(paid_at, "DATE_FORMAT"),
        "net": money(payment.net_amount, payment.currency),
        "vat": money(payment.vat_amount, payment.currency),
        "total": money(payment.total_amount, payment.currency),
        "vat_percent": formats.number_format(_percent(payment.vat_percent), use_l10n=True),
        "refunded": payment.status == PaymentStatus.REFUNDED,
    }


def receipt_html(payment):
    """The HTML the PDF is made from (tests read it: the PDF's text is not extracted)."""
    with translation.override(_language(payment)):
        return render_to_string("payments/receipt.html", receipt_context(payment))


def receipt_pdf(payment):
    """The receipt as PDF bytes (A4), made by WeasyPrint without fetching anything over the network."""
    from weasyprint import HTML, URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})  # only the embedded logo; no remote or file URLs
    return HTML(string=receipt_html(payment), url_fetcher=fetcher).write_pdf()


def receipt_message(payment):
    """The receipt email: HTML and text in the payment's language, the PDF attached."""
    with translation.override(_language(payment)):
        context = receipt_context(payment)
        subject = _("Your receipt %(number)s from %(organisation)s") % {
            "number": payment.receipt_number, "organisation": context["seller_name"]}
        text = render_to_string("payments/receipt_email.txt", context)
        html = render_to_string("payments/receipt_email.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=[payment.billing_email])
    message.attach_alternative(html, "text/html")
    message.attach(receipt_filename(payment), receipt_pdf(payment), "application/pdf")
    return message


def receipt_send(payment_id):
    """Email the receipt of a paid payment, at most once (the delivery row's unique once_key is claimed
    first; a second run, or a concurrent one, finds it claimed and sends nothing). Returns the delivery,
    or None when nothing was sent."""
    payment = Payment.objects.with_scopes_disabled().select_related("organization").filter(pk=payment_id).first()
    if payment is None or not payment.receipt_number or not payment.billing_email \
            or payment.status not in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        return None
    organization = payment.organization
    if organization.do_not_send_emails:
        return None
    with organization_scope(organization):
        try:
            with transaction.atomic():
                delivery = EmailDelivery.objects.create(
                    organization=organization, appointment_id=payment.appointment_id, kind=EmailKind.RECEIPT,
                    to=payment.billing_email, once_key=receipt_once_key(payment),
                )
        except IntegrityError:
            return None  # claimed by an earlier (or concurrent) run: never twice
        try:
            receipt_message(payment).send()
        except Exception as error:  # noqa: BLE001 - any transport failure is recorded on the delivery
            logger.warning("Receipt email for payment %s failed: %s", payment.pk, error)
            delivery.status = DeliveryStatus.FAILED
            delivery.error = str(error)[:1000]
            delivery.save(update_fields=["status", "error", "updated_at"])
            return delivery
        delivery.status = DeliveryStatus.SENT
        delivery.save(update_fields=["status", "updated_at"])
    return delivery


def receipt_send_on_commit(payment):
    """After the surrounding transaction commits, email `payment`'s receipt (PDF attached) to the client, once."""
    payment_id = payment.pk

    def queue():
        from django_q.tasks import async_task

        async_task("payments.receipts.receipt_send", payment_id, task_name="receipt_send")

    transaction.on_commit(queue)
