"""Writes of payments (F-PAY-3): starting an attempt at the provider, applying what the provider says (webhook,
refresh, capture) exactly once, refunds.

A Payment moves only forward: OPEN → PAID / FAILED / EXPIRED, PAID → REFUNDED. Every transition takes the row
lock first, so a webhook, the client's return and a refresh racing for the same payment apply it once; an event
about a state already reached (or passed) changes nothing, which makes out-of-order delivery harmless.

Money the provider confirms as taken is never lost: a payment that expired or failed here but was paid at the
provider anyway becomes PAID; a second payment for an appointment already paid, or a payment for a cancelled
appointment, is refunded at once (the appointment is never paid twice: a database constraint as well).

Provider calls happen outside our transactions (no row stays locked while a provider answers); their idempotency
keys make a repeated call harmless.
"""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_countries import countries

from consult.models import Appointment, AppointmentStatus
from orgs.scoping import organization_scope
from orgs.services import audit_record

from . import receipts
from .models import (
    ClientType,
    Payment,
    PaymentSettings,
    PaymentStatus,
    Provider,
    Refund,
    RefundReason,
    RefundStatus,
    WebhookEvent,
)
from .providers import PaymentDeclinedError, PaymentError, ProviderUnavailableError, WebhookRefusedError
from .providers import paypal as paypal_api
from .providers import stripe as stripe_api
from .selectors import payment_due, quote, settings_for
from .vat import normalize_vat_number

__all__ = [
    "PaymentError", "PaymentDeclinedError", "ProviderUnavailableError", "WebhookRefusedError", "payment_start",
    "payment_refresh", "payment_abandon", "payment_capture", "refund_request", "refund_attempt", "refund_retry",
    "refund_for_cancelled_appointment", "stripe_webhook_handle", "paypal_webhook_handle",
]

log = logging.getLogger(__name__)

REFUND_MAX_ATTEMPTS = 20


def _stripe(organization):
    return stripe_api.StripeCheckout(settings_for(organization))


def _paypal(organization):
    return paypal_api.PaypalClient(settings_for(organization))


# --- starting an attempt -----------------------------------------------------------------------------------

def _validated_billing(billing):
    """The billing fields cleaned, or ValidationError with every problem by field."""
    errors = {}
    client_type = billing.get("client_type") or ""
    if client_type not in ClientType.values:
        errors["client_type"] = _("Choose whether you pay as a private person or as a business.")
    country = (billing.get("country") or "").upper()
    if country not in dict(countries):
        errors["country"] = _("Choose your country.")
    name = (billing.get("name") or "").strip()
    if not name:
        errors["name"] = _("Enter your name.")
    elif len(name) > 200:
        errors["name"] = _("The name is too long (at most 200 characters).")
    company_name = (billing.get("company_name") or "").strip()[:200] if client_type == ClientType.BUSINESS else ""
    email = (billing.get("email") or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter a valid email address.")
    vat_number = ""
    if client_type == ClientType.BUSINESS and "country" not in errors:
        try:
            vat_number = normalize_vat_number(billing.get("vat_number") or "", country)
        except ValidationError as error:
            errors["vat_number"] = error.messages[0]
    if errors:
        raise ValidationError(errors)
    return {"client_type": client_type, "country": country, "name": name, "company_name": company_name,
            "email": email, "vat_number": vat_number}


def _return_urls(base_url, payment):
    base_url = base_url.rstrip("/")
    return (base_url + reverse("payments:return", args=[payment.reference]),
            base_url + reverse("payments:cancelled", args=[payment.reference]))


def payment_start(*, participant, provider, billing, base_url):
    """A new attempt to pay the participant's charge at `provider`; returns the Payment with its checkout_url.

    ValidationError (by field, nothing written) for a provider not offered or bad billing details.
    PaymentError when the provider cannot be reached or refuses: the attempt is recorded FAILED, nothing else
    changes, and the client may try again.
    """
    appointment = participant.appointment
    organization = appointment.organization
    settings_row = settings_for(organization)
    if provider not in settings_row.providers():
        raise ValidationError({"provider": _("Choose one of the ways to pay offered.")})
    cleaned = _validated_billing(billing)
    if appointment.status != AppointmentStatus.SCHEDULED:
        raise ValidationError(_("This appointment is no longer planned; there is nothing to pay."))
    charge = payment_due(appointment, organization)
    if charge is None:
        raise ValidationError(_("There is nothing left to pay for this appointment."))
    amounts = quote(organization=organization, charge=charge, client_country=cleaned["country"],
                    client_type=cleaned["client_type"], vat_number=cleaned["vat_number"])
    language = (translation.get_language() or getattr(participant.person, "language", "") or "nl")[:8]
    with transaction.atomic(), organization_scope(organization):
        payment = Payment.objects.create(
            organization=organization, appointment=appointment, participant=participant, provider=provider,
            description=charge.name, currency=charge.currency, net_amount=amounts.net,
            vat_percent=amounts.percent, vat_amount=amounts.vat, total_amount=amounts.total,
            reverse_charge=amounts.reverse_charge, vat_note=amounts.note, client_type=cleaned["client_type"],
            billing_country=cleaned["country"], billing_name=cleaned["name"], company_name=cleaned["company_name"],
            vat_number=cleaned["vat_number"], billing_email=cleaned["email"], language=language,
        )
    success_url, cancel_url = _return_urls(base_url, payment)
    try:
        if provider == Provider.STRIPE:
            checkout_id, checkout_url = _stripe(organization).session_create(
                payment, success_url=success_url, cancel_url=cancel_url)
        else:
            checkout_id, checkout_url = _paypal(organization).order_create(
                payment, return_url=success_url, cancel_url=cancel_url)
    except PaymentError as error:
        with organization_scope(organization):
            Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.FAILED,
                                                         failure_reason=str(error.message)[:500],
                                                         updated_at=timezone.now())
        payment.refresh_from_db()
        raise
    with transaction.atomic(), organization_scope(organization):
        payment.provider_checkout_id = checkout_id
        payment.checkout_url = checkout_url
        payment.save(update_fields=["provider_checkout_id", "checkout_url", "updated_at"])
        # The client's earlier attempts (another tab, the other provider) are over: only the newest is offered.
        earlier = list(Payment.objects.select_for_update().filter(
            participant=participant, status=PaymentStatus.OPEN).exclude(pk=payment.pk))
        for old in earlier:
            old.status = PaymentStatus.EXPIRED
            old.save(update_fields=["status", "updated_at"])
        stale_sessions = [old.provider_checkout_id for old in earlier
                          if old.provider == Provider.STRIPE and old.provider_checkout_id]
        if stale_sessions:
            transaction.on_commit(lambda: _expire_sessions_quietly(organization, stale_sessions))
    return payment


def _expire_sessions_quietly(organization, session_ids):
    """Close Stripe sessions we no longer offer. Best effort: one paid anyway is applied (and refunded if a
    duplicate) when its webhook arrives."""
    try:
        client = _stripe(organization)
        for session_id in session_ids:
            try:
                client.session_expire(session_id)
            except PaymentError:
                log.info("Stripe session %s of organisation %s not expired", session_id, organization.pk)
    except PaymentError:
        pass


# --- transitions ----------------------------------------------------------------------------------------

def _locked(payment_pk):
    return Payment.objects.select_for_update().select_related("organization").get(pk=payment_pk)


def _receipt_number(organization):
    row = PaymentSettings.objects.select_for_update().get(organization=organization)
    row.receipt_sequence += 1
    row.save(update_fields=["receipt_sequence"])
    return f"{timezone.localdate():%Y}-{row.receipt_sequence:05d}"


def _mark_paid(payment_pk, *, amount, currency, provider_payment_id, source):
    """Apply "the provider has the money": PAID with a receipt number, or refunded at once when the appointment is
    already paid or cancelled. Amount or currency other than ours: FAILED (logged). Returns the outcome."""
    with transaction.atomic():
        payment = _locked(payment_pk)
        if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
            return "already " + payment.status
        if amount != payment.total_amount or (currency or "").upper() != payment.currency:
            log.error("Payment %s: %s reports %s %s, we asked %s %s", payment.reference, source, currency, amount,
                      payment.currency, payment.total_amount)
            if payment.status == PaymentStatus.OPEN:
                payment.status = PaymentStatus.FAILED
                payment.failure_reason = (f"{source}: amount {currency} {amount} differs from "
                                          f"{payment.currency} {payment.total_amount}")[:500]
                payment.save(update_fields=["status", "failure_reason", "updated_at"])
            return "amount mismatch"
        appointment = None
        if payment.appointment_id:
            # Serialises two different payments of one appointment confirmed at once.
            appointment = Appointment.objects.select_for_update().get(pk=payment.appointment_id)
        payment.provider_payment_id = provider_payment_id or payment.provider_payment_id
        payment.paid_at = timezone.now()
        payment.last_event_at = payment.paid_at
        reason = None
        if appointment is None or appointment.status == AppointmentStatus.CANCELLED:
            reason = RefundReason.CANCELLED
        elif Payment.objects.filter(appointment=appointment, status=PaymentStatus.PAID).exists():
            reason = RefundReason.DUPLICATE
        if reason is not None:
            # Never PAID (the appointment must not count as paid twice); the refund gives the money back.
            payment.status = PaymentStatus.REFUNDED
            payment.save(update_fields=["status", "provider_payment_id", "paid_at", "last_event_at", "updated_at"])
            _refund_create(payment, reason)
            return f"paid, refunded ({reason})"
        payment.status = PaymentStatus.PAID
        payment.failure_reason = ""
        payment.receipt_number = _receipt_number(payment.organization)
        payment.save(update_fields=["status", "provider_payment_id", "paid_at", "last_event_at", "receipt_number",
                                    "failure_reason", "updated_at"])
        audit_record(organization=payment.organization, actor=None, action="payment.paid", target=payment,
                     changes={"status": [PaymentStatus.OPEN, PaymentStatus.PAID], "provider": payment.provider,
                              "total": f"{payment.currency} {payment.total_amount}",
                              "receipt_number": payment.receipt_number})
        receipts.receipt_send_on_commit(payment)
        return "paid"


def _mark_ended(payment_pk, status, reason=""):
    """OPEN → FAILED / EXPIRED; any other state stays (a late "expired" after "paid" changes nothing)."""
    with transaction.atomic():
        payment = _locked(payment_pk)
        if payment.status != PaymentStatus.OPEN:
            return "already " + payment.status
        payment.status = status
        payment.failure_reason = str(reason)[:500]
        payment.last_event_at = timezone.now()
        payment.save(update_fields=["status", "failure_reason", "last_event_at", "updated_at"])
        return status


def _decimal(value):
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return None


def _apply_stripe_session(payment, session, event_type):
    status = session.get("payment_status")
    amount = session.get("amount_total")
    amount = Decimal(amount) / 100 if isinstance(amount, int) else None
    payment_intent = session.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    if (event_type == "checkout.session.completed" and status == "paid") or (
            event_type == "checkout.session.async_payment_succeeded"):
        return _mark_paid(payment.pk, amount=amount, currency=session.get("currency"),
                          provider_payment_id=payment_intent or "", source="Stripe")
    if event_type == "checkout.session.async_payment_failed":
        return _mark_ended(payment.pk, PaymentStatus.FAILED, _("The bank did not confirm the payment."))
    if event_type == "checkout.session.expired":
        return _mark_ended(payment.pk, PaymentStatus.EXPIRED)
    return "ignored"


def _apply_paypal_capture(payment, capture, source):
    """A capture (ours or from a webhook): COMPLETED → paid; DECLINED/FAILED → failed; PENDING → wait."""
    status = (capture or {}).get("status")
    if status == "COMPLETED":
        amount = (capture.get("amount") or {})
        return _mark_paid(payment.pk, amount=_decimal(amount.get("value")), currency=amount.get("currency_code"),
                          provider_payment_id=capture.get("id") or "", source=source)
    if status in ("DECLINED", "FAILED"):
        return _mark_ended(payment.pk, PaymentStatus.FAILED, paypal_api.declined().message)
    return "waiting"


# --- the client's return, refresh, abandon -----------------------------------------------------------------

def payment_capture(*, payment):
    """PayPal: take the money of an order the client approved (the return URL). Idempotent at PayPal
    (PayPal-Request-Id) and here. Raises PaymentError when declined (the payment is FAILED) or unreachable."""
    organization = payment.organization
    with organization_scope(organization):
        try:
            result = _paypal(organization).order_capture(payment)
        except PaymentDeclinedError as error:
            _mark_ended(payment.pk, PaymentStatus.FAILED, error.message)
            raise
        outcome = _apply_paypal_capture(payment, paypal_api.capture_of(result), "PayPal capture")
        payment.refresh_from_db()
    if outcome == PaymentStatus.FAILED:
        raise paypal_api.declined()
    return payment


def payment_refresh(*, payment):
    """Ask the provider where an open attempt stands and apply it (the webhook is late or lost)."""
    organization = payment.organization
    if payment.status != PaymentStatus.OPEN or not payment.provider_checkout_id:
        return payment
    with organization_scope(organization):
        try:
            if payment.provider == Provider.STRIPE:
                session = _stripe(organization).session_retrieve(payment.provider_checkout_id)
                if session.get("status") == "expired":
                    _mark_ended(payment.pk, PaymentStatus.EXPIRED)
                elif session.get("status") == "complete":
                    _apply_stripe_session(payment, session, "checkout.session.completed")
            else:
                order = _paypal(organization).order_get(payment.provider_checkout_id)
                if order.get("status") == "APPROVED":
                    return payment_capture(payment=payment)
                if order.get("status") == "COMPLETED":
                    _apply_paypal_capture(payment, paypal_api.capture_of(order), "PayPal order")
        except PaymentError as error:
            log.info("Refreshing payment %s: %s", payment.reference, error)
        payment.refresh_from_db()
    return payment


def payment_abandon(*, payment):
    """The client came back through the cancel URL: the attempt ends (Stripe: its session is closed first, so
    it cannot be paid later). A session paid in the meantime is applied instead."""
    organization = payment.organization
    if payment.status != PaymentStatus.OPEN:
        return payment
    if payment.provider == Provider.STRIPE and payment.provider_checkout_id:
        try:
            with organization_scope(organization):
                _stripe(organization).session_expire(payment.provider_checkout_id)
        except PaymentError:
            payment = payment_refresh(payment=payment)  # perhaps completed after all
            if payment.status != PaymentStatus.OPEN:
                return payment
    with organization_scope(organization):
        _mark_ended(payment.pk, PaymentStatus.EXPIRED)
        payment.refresh_from_db()
    return payment


# --- refunds ----------------------------------------------------------------------------------------------

def _refund_create(payment, reason):
    """The Refund row (inside the caller's transaction, payment locked) and the provider call after the commit."""
    refund, created = Refund.objects.get_or_create(
        payment=payment, defaults={"organization": payment.organization, "reason": reason,
                                   "amount": payment.total_amount, "currency": payment.currency})
    if created:
        audit_record(organization=payment.organization, actor=None, action="payment.refund_request", target=payment,
                     changes={"reason": reason, "amount": f"{payment.currency} {payment.total_amount}"})
        transaction.on_commit(lambda: _refund_task(refund.pk))
    return refund


def _refund_task(refund_pk):
    from django_q.tasks import async_task

    async_task("payments.tasks.refund_attempt", refund_pk)


def refund_request(*, payment, reason):
    """Refund `payment` in full (reason: RefundReason); returns the Refund. At most one per payment: a second
    request returns the first. The provider is called at once; a failure is retried by refund_retry."""
    organization = payment.organization
    with transaction.atomic(), organization_scope(organization):
        locked = _locked(payment.pk)
        existing = Refund.objects.filter(payment=locked).first()
        if existing is not None:
            return existing
        if locked.status != PaymentStatus.PAID:
            raise ValidationError(_("Only a paid payment can be refunded."))
        refund = Refund.objects.create(organization=organization, payment=locked, reason=reason,
                                       amount=locked.total_amount, currency=locked.currency)
        audit_record(organization=organization, actor=None, action="payment.refund_request", target=locked,
                     changes={"reason": reason, "amount": f"{locked.currency} {locked.total_amount}"})
    return refund_attempt(refund_pk=refund.pk)


def refund_attempt(*, refund_pk):
    """Ask the provider for a PENDING or FAILED refund; SUCCEEDED → the payment is REFUNDED. The idempotency key
    (our reference) makes a repeated attempt return the first refund, never a second one."""
    with transaction.atomic():
        refund = Refund.objects.with_scopes_disabled().select_for_update().select_related(
            "payment__organization").get(pk=refund_pk)
        if refund.status == RefundStatus.SUCCEEDED:
            return refund
        refund.attempts += 1
        refund.save(update_fields=["attempts"])
    payment = refund.payment
    organization = payment.organization
    with organization_scope(organization):
        try:
            if payment.provider == Provider.STRIPE:
                answer = _stripe(organization).refund_create(payment)
                ok = answer.get("status") in ("succeeded", "pending")
            else:
                answer = _paypal(organization).refund_create(payment)
                ok = answer.get("status") in ("COMPLETED", "PENDING")
            error = "" if ok else f"refund status {answer.get('status')}"
        except PaymentError as failure:
            answer, ok, error = {}, False, str(failure.message)
        with transaction.atomic():
            refund = Refund.objects.select_for_update().get(pk=refund_pk)
            if ok:
                refund.status = RefundStatus.SUCCEEDED
                refund.provider_refund_id = answer.get("id") or ""
                refund.failure_reason = ""
                refund.completed_at = timezone.now()
                locked = _locked(payment.pk)
                if locked.status == PaymentStatus.PAID:
                    locked.status = PaymentStatus.REFUNDED
                    locked.save(update_fields=["status", "updated_at"])
                audit_record(organization=organization, actor=None, action="payment.refunded", target=locked,
                             changes={"reason": refund.reason, "refund": refund.provider_refund_id})
            else:
                refund.status = RefundStatus.FAILED
                refund.failure_reason = error[:500]
                log.warning("Refund of payment %s failed (attempt %s): %s", payment.reference, refund.attempts, error)
                if refund.attempts < REFUND_MAX_ATTEMPTS:
                    transaction.on_commit(lambda: _refund_retry_later(refund.pk, refund.attempts))
            refund.save()
    return refund


def _refund_retry_later(refund_pk, attempts):
    """One more attempt later, waiting longer each time (2, 4, 8 … minutes, at most 6 hours)."""
    from django_q.models import Schedule

    minutes = min(2 ** attempts, 360)
    Schedule.objects.update_or_create(
        name=f"payments: refund {refund_pk}",
        defaults={"func": "payments.tasks.refund_attempt", "args": repr((refund_pk,)),
                  "schedule_type": Schedule.ONCE, "repeats": 1,
                  "next_run": timezone.now() + timedelta(minutes=minutes)},
    )


def refund_retry():
    """Try the failed refunds again (a schedule). Returns how many succeeded."""
    succeeded = 0
    pending = Refund.objects.with_scopes_disabled().filter(
        status__in=[RefundStatus.FAILED], attempts__lt=REFUND_MAX_ATTEMPTS).values_list("pk", flat=True)
    for refund_pk in list(pending):
        succeeded += refund_attempt(refund_pk=refund_pk).status == RefundStatus.SUCCEEDED
    return succeeded


def refund_for_cancelled_appointment(appointment_id):
    """After a cancellation: refund the paid payment, end open attempts. Safe to run again."""
    appointment = Appointment.objects.with_scopes_disabled().select_related("organization").filter(
        pk=appointment_id).first()
    if appointment is None or appointment.status != AppointmentStatus.CANCELLED:
        return None
    organization = appointment.organization
    with organization_scope(organization):
        for open_payment in Payment.objects.filter(appointment=appointment, status=PaymentStatus.OPEN):
            payment_abandon(payment=open_payment)
        paid = Payment.objects.filter(appointment=appointment, status=PaymentStatus.PAID).first()
    if paid is None:
        return None
    return refund_request(payment=paid, reason=RefundReason.CANCELLED)


# --- webhooks -----------------------------------------------------------------------------------------------

def _record_event(organization, provider, event_id, event_type, occurred_at):
    """The event's row, or None when it is there already (a duplicate, or a concurrent delivery that committed
    first: the unique index makes this one wait for it, then fail)."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(organization=organization, provider=provider, event_id=event_id[:255],
                                               event_type=event_type[:100], occurred_at=occurred_at)
    except IntegrityError:
        return None


def _payment_by_reference(reference, provider):
    try:
        return Payment.objects.filter(reference=reference, provider=provider).first()
    except ValidationError:  # not a UUID
        return None


def stripe_webhook_handle(*, organization, payload, signature_header):
    """Verify and apply one Stripe delivery, exactly once. Returns the outcome (for the log); WebhookRefusedError for
    a delivery that is not Stripe's for this organisation or too old."""
    event = stripe_api.webhook_event(settings_for(organization), payload, signature_header)
    obj = event["data"]["object"]
    created = event.get("created")
    occurred_at = datetime.fromtimestamp(created, tz=UTC) if isinstance(created, int) else None
    with transaction.atomic(), organization_scope(organization):
        row = _record_event(organization, Provider.STRIPE, event["id"], event["type"], occurred_at)
        if row is None:
            return "duplicate"
        outcome = "ignored"
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if event["type"].startswith("checkout.session."):
            payment = None
            if str(metadata.get("organization", organization.pk)) != str(organization.pk):
                outcome = "foreign organisation"
            else:
                payment = _payment_by_reference(metadata.get("payment") or obj.get("client_reference_id"),
                                                Provider.STRIPE)
                if payment is None or payment.provider_checkout_id != obj.get("id"):
                    payment, outcome = None, "not our payment"
            if payment is not None:
                row.payment = payment
                outcome = _apply_stripe_session(payment, obj, event["type"])
        row.outcome = outcome[:200]
        row.save(update_fields=["payment", "outcome"])
    return outcome


def paypal_webhook_handle(*, organization, payload, headers):
    """Verify (PayPal's verify API + our staleness check) and apply one PayPal delivery, exactly once.
    WebhookRefusedError: not PayPal's for this organisation, or stale. ProviderUnavailableError: PayPal could not
    be asked."""
    event = paypal_api.webhook_event(settings_for(organization), payload, headers)
    resource = event["resource"]
    event_type = event["event_type"]
    approved = None
    with transaction.atomic(), organization_scope(organization):
        row = _record_event(organization, Provider.PAYPAL, event["id"], event_type, paypal_api.event_time(event))
        if row is None:
            return "duplicate"
        outcome = "ignored"
        payment = None
        if event_type.startswith("PAYMENT.CAPTURE."):
            payment = _payment_by_reference(resource.get("custom_id") or resource.get("invoice_id"), Provider.PAYPAL)
            order_id = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id")
            if payment is not None and order_id and order_id != payment.provider_checkout_id:
                payment = None
        elif event_type == "CHECKOUT.ORDER.APPROVED":
            unit = (resource.get("purchase_units") or [{}])[0]
            payment = _payment_by_reference(unit.get("custom_id") or unit.get("reference_id"), Provider.PAYPAL)
            if payment is not None and resource.get("id") != payment.provider_checkout_id:
                payment = None
        if payment is None:
            if event_type.startswith(("PAYMENT.CAPTURE.", "CHECKOUT.ORDER.")):
                outcome = "not our payment"
        else:
            row.payment = payment
            if event_type == "PAYMENT.CAPTURE.COMPLETED":
                outcome = _apply_paypal_capture(payment, resource, "PayPal webhook")
            elif event_type in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
                outcome = _apply_paypal_capture(payment, {"status": "DECLINED"}, "PayPal webhook")
            elif event_type == "CHECKOUT.ORDER.APPROVED":
                # The client approved but did not come back: capture after this commits (no lock held meanwhile).
                approved, outcome = payment, "approved, capturing"
        row.outcome = outcome[:200]
        row.save(update_fields=["payment", "outcome"])
    if approved is not None and approved.status == PaymentStatus.OPEN:
        try:
            payment_capture(payment=approved)
        except PaymentError as error:
            log.info("Capturing approved PayPal order of payment %s: %s", approved.reference, error)
    return outcome

