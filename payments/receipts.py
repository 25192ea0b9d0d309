"""Receipts (F-PAY, records): the PDF of a paid payment and the email that carries it to the client, once.

The receipt is in the payment's language (the one the client paid in) and renders only what is stored on the
Payment: amounts, VAT and billing details as they were when paid, even if rates or VAT rules change later.
"""

import logging
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from consult.models import DeliveryStatus, EmailDelivery, EmailKind
from orgs.logo import logo_data_uri
from orgs.scoping import organization_scope

from .charges import money
from .models import Payment, PaymentStatus
from .selectors import receipt_once_key, settings_for

logger = logging.getLogger(__name__)


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


def _sendable(payment_id):
    """The payment whose receipt may be emailed now, or None."""
    payment = Payment.objects.with_scopes_disabled().select_related("organization").filter(pk=payment_id).first()
    if payment is None or not payment.receipt_number or not payment.billing_email \
            or payment.status not in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        return None
    if payment.organization.do_not_send_emails:
        return None
    return payment


def _deliver(payment, delivery):
    """Send on a delivery row this run has claimed, and record the outcome on it."""
    try:
        receipt_message(payment).send()
    except Exception as error:  # noqa: BLE001 - any transport failure is recorded on the delivery
        logger.warning("Receipt email for payment %s failed: %s", payment.pk, error)
        delivery.status = DeliveryStatus.FAILED
        delivery.error = str(error)[:1000]
        delivery.save(update_fields=["status", "error", "updated_at"])
        return delivery
    delivery.status = DeliveryStatus.SENT
    delivery.error = ""
    delivery.save(update_fields=["status", "error", "updated_at"])
    return delivery


def receipt_send(payment_id):
    """Email the receipt of a paid payment, at most once (the delivery row's unique once_key is claimed
    first; a second run, or a concurrent one, finds it claimed and sends nothing). Returns the delivery,
    or None when nothing was sent."""
    payment = _sendable(payment_id)
    if payment is None:
        return None
    organization = payment.organization
    with organization_scope(organization):
        try:
            with transaction.atomic():
                delivery = EmailDelivery.objects.create(
                    organization=organization, appointment_id=payment.appointment_id, kind=EmailKind.RECEIPT,
                    to=payment.billing_email, once_key=receipt_once_key(payment),
                )
        except IntegrityError:
            return None  # claimed by an earlier (or concurrent) run: never twice
        return _deliver(payment, delivery)


# A receipt still "sending" after this long lost its worker (a send takes seconds); failed ones are retried for
# a few days, then left to the staff (the payment panel offers the PDF).
RECEIPT_STUCK_MINUTES = 15
RECEIPT_RETRY_DAYS = 3


def retry_stuck_receipts():
    """Send again the receipts whose email failed or whose worker died while sending (scheduled). Each row is
    claimed by moving its updated_at on, guarded by the values this run read: of two runs (or a late original
    worker's retry) only one wins a row, so a receipt is never sent twice by this. Receipts that were never
    queued go out too (_send_lost_receipts). Returns how many were sent."""
    now = timezone.now()
    stuck = (Q(status=DeliveryStatus.FAILED)
             | Q(status=DeliveryStatus.SENDING, updated_at__lt=now - timedelta(minutes=RECEIPT_STUCK_MINUTES)))
    candidates = list(EmailDelivery.objects.with_scopes_disabled().filter(
        stuck, kind=EmailKind.RECEIPT, once_key__startswith="receipt:",
        created_at__gte=now - timedelta(days=RECEIPT_RETRY_DAYS)).order_by("pk"))
    sent = 0
    for delivery in candidates:
        payment_id = delivery.once_key.removeprefix("receipt:")
        payment = _sendable(int(payment_id)) if payment_id.isdigit() else None
        if payment is None:
            continue
        claimed = EmailDelivery.objects.with_scopes_disabled().filter(
            pk=delivery.pk, status=delivery.status, updated_at=delivery.updated_at,
        ).update(status=DeliveryStatus.SENDING, error="", to=payment.billing_email, updated_at=timezone.now())
        if not claimed:
            continue  # another run took it, or the original worker finished after all
        delivery.refresh_from_db()
        with organization_scope(payment.organization):
            if _deliver(payment, delivery).status == DeliveryStatus.SENT:
                sent += 1
    return sent + _send_lost_receipts(now)


def _send_lost_receipts(now):
    """Paid payments whose receipt task never ran (the broker was down when the payment committed, or lost the
    task): no delivery row exists, so the retry above cannot see them. receipt_send claims the row itself, so a
    task that does run after all still sends only once."""
    lost = Payment.objects.with_scopes_disabled().filter(
        status__in=(PaymentStatus.PAID, PaymentStatus.REFUNDED), paid_at__lt=now - timedelta(
            minutes=RECEIPT_STUCK_MINUTES), paid_at__gte=now - timedelta(days=RECEIPT_RETRY_DAYS),
    ).exclude(receipt_number="").values_list("pk", flat=True).order_by("pk")
    claimed = set(EmailDelivery.objects.with_scopes_disabled().filter(
        once_key__in=[f"receipt:{pk}" for pk in lost]).values_list("once_key", flat=True))
    sent = 0
    for payment_id in lost:
        if f"receipt:{payment_id}" not in claimed:
            delivery = receipt_send(payment_id)
            sent += delivery is not None and delivery.status == DeliveryStatus.SENT
    return sent


def receipt_send_on_commit(payment):
    """After the surrounding transaction commits, email `payment`'s receipt (PDF attached) to the client, once."""
    payment_id = payment.pk

    def queue():
        from django_q.tasks import async_task

        async_task("payments.receipts.receipt_send", payment_id, task_name="receipt_send")

    # robust: a broker that is down must not turn the committed payment's webhook into a 500 (the provider's
    # redelivery would be a duplicate and queue nothing); retry_stuck_receipts sends what was not queued.
    transaction.on_commit(queue, robust=True)
