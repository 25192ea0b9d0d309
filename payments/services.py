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

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_countries import countries

from consult import links
from consult.models import Appointment, AppointmentParticipant, AppointmentStatus
from orgs.scoping import organization_scope
from orgs.services import audit_record

from . import receipts
from .models import (
    Charge,
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
from .providers import (
    PaymentDeclinedError,
    PaymentError,
    ProviderUnavailableError,
    WebhookRefusedError,
    checkout_url_allowed,
)
from .providers import paypal as paypal_api
from .providers import stripe as stripe_api
from .selectors import payment_due, quote, settings_for, vat_number_validate
from .vat import normalize_vat_number

__all__ = [
    "PaymentError", "PaymentDeclinedError", "ProviderUnavailableError", "WebhookRefusedError", "payment_start",
    "payment_refresh", "payment_abandon", "payment_capture", "refund_request", "refund_attempt", "refund_retry",
    "refund_for_cancelled_appointment", "refund_open_for_cancellation", "refund_queue_on_commit",
    "expire_stale_checkouts",
    "stripe_webhook_handle", "paypal_webhook_handle",
]

log = logging.getLogger(__name__)

REFUND_MAX_ATTEMPTS = 20
# A refund the provider reported "pending" (or whose queued task was lost) is asked about again after this long.
REFUND_PENDING_RETRY_AFTER = timedelta(minutes=10)
# An open attempt is over once its checkout cannot be open any more (Stripe's session has expired) plus a margin.
STALE_CHECKOUT_MARGIN = timedelta(minutes=15)


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
            # The form asks VIES too; asked here as well so a request that skips the form cannot zero-rate.
            vat_number_validate(client_country=country, client_type=client_type, vat_number=vat_number)
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


def too_late_to_attend(appointment, organization):
    """True when the appointment can no longer be attended: held, anonymised, or its link window has closed.
    Money for it must not be taken, or is given back when taken anyway."""
    return (appointment.status == AppointmentStatus.COMPLETED or bool(appointment.anonymised_at)
            or links.Window(appointment, organization).state(timezone.now()) == links.Window.TOO_LATE)


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
    if too_late_to_attend(appointment, organization):
        raise ValidationError(_("The time of this appointment has passed, so it can no longer be paid. Nothing "
                                "was charged."))
    charge = payment_due(appointment, organization)
    if charge is None:
        raise ValidationError(_("There is nothing left to pay for this appointment."))
    amounts = quote(organization=organization, charge=charge, client_country=cleaned["country"],
                    client_type=cleaned["client_type"], vat_number=cleaned["vat_number"])
    language = (translation.get_language() or getattr(participant.person, "language", "") or "nl")[:8]
    with transaction.atomic(), organization_scope(organization):
        # Two tabs starting at once queue here: each ends the attempts before it, so only the newest stays open.
        AppointmentParticipant.objects.select_for_update().filter(pk=participant.pk).first()
        earlier = list(Payment.objects.select_for_update().filter(participant=participant,
                                                                  status=PaymentStatus.OPEN))
        for old in earlier:
            old.status = PaymentStatus.EXPIRED
            old.save(update_fields=["status", "updated_at"])
        stale_sessions = [old.provider_checkout_id for old in earlier
                          if old.provider == Provider.STRIPE and old.provider_checkout_id]
        if stale_sessions:
            transaction.on_commit(lambda: _expire_sessions_quietly(organization, stale_sessions))
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
        if not checkout_url_allowed(checkout_url, provider, settings_row.paypal_mode):
            # The client is sent wherever this points: never anywhere but the provider's own checkout page.
            log.error("%s answered a checkout address outside its checkout origin for payment %s", provider,
                      payment.reference)
            if provider == Provider.STRIPE:
                _expire_sessions_quietly(organization, [checkout_id])
            raise PaymentError(_("The payment service could not handle the payment just now. Nothing was charged; "
                                 "please try again in a moment."), retry=True)
    except PaymentError as error:
        with organization_scope(organization):
            Payment.objects.filter(pk=payment.pk, status=PaymentStatus.OPEN).update(
                status=PaymentStatus.FAILED, failure_reason=str(error.message)[:500], updated_at=timezone.now())
        payment.refresh_from_db()
        raise
    with transaction.atomic(), organization_scope(organization):
        payment = _locked(payment.pk)
        payment.provider_checkout_id = checkout_id
        payment.checkout_url = checkout_url
        payment.save(update_fields=["provider_checkout_id", "checkout_url", "updated_at"])
        superseded = payment.status != PaymentStatus.OPEN
        if superseded and provider == Provider.STRIPE:
            # A newer attempt (another tab) ended this one while Stripe was creating its session: close it too.
            transaction.on_commit(lambda: _expire_sessions_quietly(organization, [checkout_id]))
    if superseded:
        raise PaymentError(_("You started paying again in another window; please continue there, or try again."),
                           retry=True)
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


def _give_back(payment, reason, fields, *, amount=None, currency=None):
    """The provider has the money but this payment must not count (inside _mark_paid's transaction, payment
    locked): REFUND_PENDING, and the refund is asked for once this commits."""
    payment.status = PaymentStatus.REFUND_PENDING
    payment.save(update_fields=["status", *fields, "updated_at"])
    _refund_create(payment, reason, amount=amount, currency=currency)
    return f"paid, refunding ({reason})"


def _refund_reason(payment, appointment):
    """Why a confirmed payment must be given back instead of counting as paid, or None (appointment locked)."""
    if appointment is None or appointment.status == AppointmentStatus.CANCELLED:
        return RefundReason.CANCELLED
    if Payment.objects.filter(appointment=appointment, status=PaymentStatus.PAID).exists():
        return RefundReason.DUPLICATE
    charge = Charge.objects.filter(appointment=appointment).first()
    if charge is None or charge.currency != payment.currency or charge.amount != payment.net_amount:
        # Staff changed or removed the price while the client was at the provider's page.
        return RefundReason.CHARGE_CHANGED
    if too_late_to_attend(appointment, payment.organization):
        return RefundReason.TOO_LATE
    return None


def _mark_paid(payment_pk, *, amount, currency, provider_payment_id, source):
    """Apply "the provider has the money": PAID with a receipt number, or given back (REFUND_PENDING and a refund)
    when the appointment is already paid, cancelled, past, its price changed, or the provider took another amount
    than ours. Returns the outcome."""
    currency = currency.upper() if isinstance(currency, str) else ""
    provider_payment_id = provider_payment_id if isinstance(provider_payment_id, str) else ""
    with transaction.atomic():
        # The appointment first, then the payment: charge_set locks the appointment too, so a price change and a
        # confirmation of the old price never interleave.
        appointment_id = Payment.objects.filter(pk=payment_pk).values_list("appointment_id", flat=True).first()
        appointment = (Appointment.objects.select_for_update().filter(pk=appointment_id).first()
                       if appointment_id else None)
        payment = _locked(payment_pk)
        if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUND_PENDING, PaymentStatus.REFUNDED):
            return "already " + payment.status
        payment.provider_payment_id = provider_payment_id or payment.provider_payment_id
        payment.paid_at = timezone.now()
        payment.last_event_at = payment.paid_at
        fields = ["provider_payment_id", "paid_at", "last_event_at"]
        if amount != payment.total_amount or currency != payment.currency:
            # Nobody may keep money we did not ask for: it goes back in full (whatever the provider took).
            log.error("Payment %s: %s reports %s %s, we asked %s %s", payment.reference, source, currency, amount,
                      payment.currency, payment.total_amount)
            payment.failure_reason = _("%(provider)s reported %(reported)s, not the %(asked)s asked for.") % {
                "provider": source, "reported": f"{currency} {amount}",
                "asked": f"{payment.currency} {payment.total_amount}"}
            if not payment.provider_payment_id:
                payment.status = PaymentStatus.FAILED
                payment.save(update_fields=["status", "failure_reason", *fields, "updated_at"])
                log.error("Payment %s: nothing to refund it by (no provider payment id)", payment.reference)
                return "amount mismatch"
            return _give_back(payment, RefundReason.AMOUNT_MISMATCH, [*fields, "failure_reason"],
                              amount=amount, currency=currency)
        reason = _refund_reason(payment, appointment)
        if reason is not None:
            # Never PAID (the appointment must not count as paid twice, or for another price); the refund gives the
            # money back and REFUNDED follows when the provider confirms it.
            return _give_back(payment, reason, fields)
        payment.status = PaymentStatus.PAID
        payment.failure_reason = ""
        payment.receipt_number = _receipt_number(payment.organization)
        payment.save(update_fields=["status", *fields, "receipt_number", "failure_reason", "updated_at"])
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
        number = Decimal(str(value))
        return number.quantize(Decimal("0.01")) if number.is_finite() else None
    except (InvalidOperation, TypeError, ValueError):
        return None


def _text(value):
    return value if isinstance(value, str) else ""


def _apply_stripe_session(payment, session, event_type):
    session = session if isinstance(session, dict) else {}
    status = session.get("payment_status")
    amount = session.get("amount_total")
    amount = Decimal(amount) / 100 if isinstance(amount, int) and not isinstance(amount, bool) else None
    payment_intent = session.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    if (event_type == "checkout.session.completed" and status == "paid") or (
            event_type == "checkout.session.async_payment_succeeded"):
        return _mark_paid(payment.pk, amount=amount, currency=session.get("currency"),
                          provider_payment_id=_text(payment_intent), source="Stripe")
    if event_type == "checkout.session.async_payment_failed":
        return _mark_ended(payment.pk, PaymentStatus.FAILED, _("The bank did not confirm the payment."))
    if event_type == "checkout.session.expired":
        return _mark_ended(payment.pk, PaymentStatus.EXPIRED)
    return "ignored"


def _apply_paypal_capture(payment, capture, source):
    """A capture (ours or from a webhook): COMPLETED → paid; DECLINED/FAILED → failed; PENDING → wait."""
    capture = paypal_api.as_dict(capture)
    status = capture.get("status")
    if status == "COMPLETED":
        amount = paypal_api.as_dict(capture.get("amount"))
        value = amount.get("value")
        return _mark_paid(payment.pk, amount=_decimal(value) if isinstance(value, str) else None,
                          currency=amount.get("currency_code"), provider_payment_id=_text(capture.get("id")),
                          source=source)
    if status in ("DECLINED", "FAILED"):
        return _mark_ended(payment.pk, PaymentStatus.FAILED, paypal_api.declined().message)
    return "waiting"


# --- the client's return, refresh, abandon -----------------------------------------------------------------

def payment_capture(*, payment):
    """PayPal: take the money of an order the client approved (the return URL). Idempotent at PayPal
    (PayPal-Request-Id) and here. Raises PaymentError when declined (the payment is FAILED) or unreachable."""
    organization = payment.organization
    with organization_scope(organization):
        appointment = Appointment.objects.filter(pk=payment.appointment_id).first()
        if (appointment is None or appointment.status != AppointmentStatus.SCHEDULED
                or too_late_to_attend(appointment, organization)):
            # Approved but not taken: the appointment can no longer be attended, so its money is not taken either.
            _mark_ended(payment.pk, PaymentStatus.EXPIRED, "appointment no longer attendable")
            raise PaymentError(_("The time of this appointment has passed, so it can no longer be paid. Nothing "
                                 "was charged."), retry=False)
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

def _refund_create(payment, reason, *, amount=None, currency=None):
    """The Refund row (inside the caller's transaction, payment locked) and the provider call after the commit.
    amount/currency: what the provider took, when it is not the payment's total (recorded as given back)."""
    if not (isinstance(amount, Decimal) and amount.is_finite() and isinstance(currency, str) and len(currency) == 3):
        amount, currency = payment.total_amount, payment.currency
    refund, created = Refund.objects.get_or_create(
        payment=payment, defaults={"organization": payment.organization, "reason": reason,
                                   "amount": amount, "currency": currency})
    if created:
        audit_record(organization=payment.organization, actor=None, action="payment.refund_request", target=payment,
                     changes={"reason": reason, "amount": f"{currency} {amount}"})
        refund_queue_on_commit("payments.tasks.refund_attempt", refund.pk)
    return refund


def refund_queue_on_commit(task, object_id):
    """Queue the refund task `task`(object_id) once the caller's transaction commits. The refund is already
    stored PENDING with the commit, so a broker that is down must not fail the committed request: the provider's
    webhook redelivery would be a duplicate that queues nothing, and staff would see an error for a cancellation
    that was saved. Logged; refund_retry asks the provider for what was not queued (and expire_stale_checkouts
    ends the open attempts a cancellation's task would have closed)."""
    def queue():
        from django_q.tasks import async_task

        try:
            async_task(task, object_id)
        except Exception:
            log.warning("Refund task %s(%s) not queued; refund_retry will take it up", task, object_id,
                        exc_info=True)

    transaction.on_commit(queue)


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


def refund_open_for_cancellation(appointment):
    """Inside the cancellation's transaction: the PENDING refund of the appointment's paid payment, so the
    intent is stored with the cancellation itself and a lost task only delays it (refund_retry picks it up).
    The payment stays PAID until the provider confirms. Returns the Refund or None (nothing paid)."""
    organization = appointment.organization
    with transaction.atomic(), organization_scope(organization):
        paid = Payment.objects.select_for_update().filter(appointment=appointment, status=PaymentStatus.PAID).first()
        if paid is None:
            return None
        refund, created = Refund.objects.get_or_create(
            payment=paid, defaults={"organization": organization, "reason": RefundReason.CANCELLED,
                                    "amount": paid.total_amount, "currency": paid.currency})
        if created:
            audit_record(organization=organization, actor=None, action="payment.refund_request", target=paid,
                         changes={"reason": RefundReason.CANCELLED,
                                  "amount": f"{paid.currency} {paid.total_amount}"})
        return refund


def _refund_answer(payment, refund):
    """Ask the provider for the refund: ("succeeded" | "pending" | "failed", provider refund id, error)."""
    organization = payment.organization
    try:
        if payment.provider == Provider.STRIPE:
            answer = _stripe(organization).refund_create(payment)
            outcome = {"succeeded": "succeeded", "pending": "pending"}.get(answer.get("status"), "failed")
        else:
            answer = _paypal(organization).refund_create(
                payment, whole_capture=refund.reason == RefundReason.AMOUNT_MISMATCH)
            outcome = {"COMPLETED": "succeeded", "PENDING": "pending"}.get(answer.get("status"), "failed")
    except PaymentError as failure:
        return "failed", "", str(failure.message)
    error = "" if outcome != "failed" else f"refund status {_text(answer.get('status'))[:50]}"
    return outcome, _text(answer.get("id"))[:255], error


def _refund_succeeded(refund, *, provider_refund_id="", source="provider"):
    """The provider confirmed the refund (refund and its payment locked by the caller's transaction)."""
    payment = _locked(refund.payment_id)
    refund.status = RefundStatus.SUCCEEDED
    refund.provider_refund_id = provider_refund_id or refund.provider_refund_id
    refund.failure_reason = ""
    refund.completed_at = timezone.now()
    refund.save()
    if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUND_PENDING):
        payment.status = PaymentStatus.REFUNDED
        payment.save(update_fields=["status", "updated_at"])
    audit_record(organization=payment.organization, actor=None, action="payment.refunded", target=payment,
                 changes={"reason": refund.reason, "refund": refund.provider_refund_id, "source": source})


def refund_attempt(*, refund_pk):
    """Ask the provider for a PENDING or FAILED refund; the payment becomes REFUNDED only when the provider says
    the refund succeeded (its "pending" keeps ours PENDING until a retry or webhook says so). The idempotency key
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
        outcome, provider_refund_id, error = _refund_answer(payment, refund)
        with transaction.atomic():
            _locked(payment.pk)  # payment before refund, as everywhere else
            refund = Refund.objects.select_for_update().get(pk=refund_pk)
            if refund.status == RefundStatus.SUCCEEDED:
                return refund  # a webhook confirmed it meanwhile
            if outcome == "succeeded":
                _refund_succeeded(refund, provider_refund_id=provider_refund_id)
                return refund
            if outcome == "pending":
                refund.status = RefundStatus.PENDING
                refund.provider_refund_id = provider_refund_id or refund.provider_refund_id
                refund.failure_reason = ""
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
    """Try again (a schedule) the refunds that failed, and those still PENDING after a while: the provider said
    "pending", or the queued task never ran. Returns how many succeeded."""
    succeeded = 0
    waiting = Refund.objects.with_scopes_disabled().filter(
        Q(status=RefundStatus.FAILED)
        | Q(status=RefundStatus.PENDING, created_at__lt=timezone.now() - REFUND_PENDING_RETRY_AFTER),
        attempts__lt=REFUND_MAX_ATTEMPTS).values_list("pk", flat=True)
    for refund_pk in list(waiting):
        succeeded += refund_attempt(refund_pk=refund_pk).status == RefundStatus.SUCCEEDED
    return succeeded


def refund_for_cancelled_appointment(appointment_id):
    """After a cancellation: ask the provider for the refund of the paid payment (its row was written with the
    cancellation), end open attempts. Safe to run again."""
    appointment = Appointment.objects.with_scopes_disabled().select_related("organization").filter(
        pk=appointment_id).first()
    if appointment is None or appointment.status != AppointmentStatus.CANCELLED:
        return None
    organization = appointment.organization
    with organization_scope(organization):
        for open_payment in Payment.objects.filter(appointment=appointment, status=PaymentStatus.OPEN):
            payment_abandon(payment=open_payment)
        paid = Payment.objects.filter(appointment=appointment, status=PaymentStatus.PAID).first()
        refund = Refund.objects.filter(payment=paid).first() if paid is not None else None
    if paid is None:
        return None
    if refund is None:  # cancelled before the refund row was written with the cancellation
        return refund_request(payment=paid, reason=RefundReason.CANCELLED)
    if refund.status == RefundStatus.SUCCEEDED:
        return refund
    return refund_attempt(refund_pk=refund.pk)


def expire_stale_checkouts():
    """Scheduled: OPEN attempts older than a checkout can stay open (+ a margin) become EXPIRED. A provider that
    confirms one later anyway is still applied (PAID, or given back). Returns how many expired."""
    cutoff = timezone.now() - timedelta(minutes=settings.PAYMENTS_CHECKOUT_MINUTES) - STALE_CHECKOUT_MARGIN
    stale = Payment.objects.with_scopes_disabled().filter(status=PaymentStatus.OPEN, created_at__lt=cutoff)
    expired = 0
    for payment in list(stale.select_related("organization")):
        with organization_scope(payment.organization):
            expired += _mark_ended(payment.pk, PaymentStatus.EXPIRED, "checkout time over") == PaymentStatus.EXPIRED
    return expired


def _provider_refund_apply(payment, *, provider_refund_id, full):
    """A refund the provider reports (made in its dashboard, or ours confirmed late); inside the webhook's
    transaction. Idempotent: an existing refund of ours is marked SUCCEEDED, else one is recorded."""
    if not full:
        log.warning("Payment %s partly refunded at the provider (refund %s): not recorded", payment.reference,
                    provider_refund_id)
        return "partial refund at the provider"
    locked = _locked(payment.pk)
    if locked.status not in (PaymentStatus.PAID, PaymentStatus.REFUND_PENDING, PaymentStatus.REFUNDED):
        return "not paid"
    refund = Refund.objects.select_for_update().filter(payment=locked).first()
    if refund is not None and refund.status == RefundStatus.SUCCEEDED:
        if locked.status != PaymentStatus.REFUNDED:
            locked.status = PaymentStatus.REFUNDED
            locked.save(update_fields=["status", "updated_at"])
        return "already refunded"
    if refund is None:
        refund = Refund.objects.create(organization=locked.organization, payment=locked,
                                       reason=RefundReason.PROVIDER, amount=locked.total_amount,
                                       currency=locked.currency)
    _refund_succeeded(refund, provider_refund_id=provider_refund_id, source="webhook")
    return "refunded"


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


def _stripe_refund_event(organization, event_type, obj):
    """charge.refunded (obj: the charge) or refund.updated / charge.refund.updated (obj: the refund): the payment
    it is about by its payment intent, and (full refunded?, refund id); (None, …) when it is not ours."""
    intent = obj.get("payment_intent")
    intent = _text(intent.get("id") if isinstance(intent, dict) else intent)
    if not intent:
        return None, False, ""
    payment = Payment.objects.filter(organization=organization, provider=Provider.STRIPE,
                                     provider_payment_id=intent).first()
    if payment is None:
        return None, False, ""
    if event_type == "charge.refunded":
        # "refunded" is the whole charge; its refunds list (older API versions only) may say one is still pending.
        refunds = obj.get("refunds") if isinstance(obj.get("refunds"), dict) else {}
        data = [item for item in (refunds.get("data") if isinstance(refunds.get("data"), list) else [])
                if isinstance(item, dict)]
        confirmed = not data or data[0].get("status") == "succeeded"
        return payment, obj.get("refunded") is True and confirmed, _text(data[0].get("id")) if data else ""
    amount = obj.get("amount")
    whole = isinstance(amount, int) and amount >= stripe_api.minor_units(payment.total_amount)
    return payment, obj.get("status") == "succeeded" and whole, _text(obj.get("id"))


def stripe_webhook_handle(*, organization, payload, signature_header):
    """Verify and apply one Stripe delivery, exactly once. Returns the outcome (for the log); WebhookRefusedError for
    a delivery that is not Stripe's for this organisation or too old."""
    event = stripe_api.webhook_event(settings_for(organization), payload, signature_header)
    obj = event["data"]["object"]
    event_type = event["type"]
    created = event.get("created")
    occurred_at = datetime.fromtimestamp(created, tz=UTC) if isinstance(created, int) else None
    with transaction.atomic(), organization_scope(organization):
        row = _record_event(organization, Provider.STRIPE, event["id"], event_type, occurred_at)
        if row is None:
            return "duplicate"
        outcome = "ignored"
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if event_type.startswith("checkout.session."):
            payment = None
            if str(metadata.get("organization", organization.pk)) != str(organization.pk):
                outcome = "foreign organisation"
            else:
                reference = metadata.get("payment") or obj.get("client_reference_id")
                payment = _payment_by_reference(reference, Provider.STRIPE) if isinstance(reference, str) else None
                if payment is None or not obj.get("id") or payment.provider_checkout_id != obj.get("id"):
                    payment, outcome = None, "not our payment"
            if payment is not None:
                row.payment = payment
                outcome = _apply_stripe_session(payment, obj, event_type)
        elif event_type in ("charge.refunded", "charge.refund.updated", "refund.updated"):
            payment, full, refund_id = _stripe_refund_event(organization, event_type, obj)
            if payment is None:
                outcome = "not our payment"
            else:
                row.payment = payment
                outcome = _provider_refund_apply(payment, provider_refund_id=refund_id, full=full) if full or (
                    event_type == "charge.refunded") else "refund not succeeded yet"
        row.outcome = outcome[:200]
        row.save(update_fields=["payment", "outcome"])
    return outcome


def _paypal_order_id(resource):
    related = paypal_api.as_dict(paypal_api.as_dict(resource.get("supplementary_data")).get("related_ids"))
    return _text(related.get("order_id"))


def _paypal_refunded_capture(resource):
    """The capture id a PayPal refund resource belongs to (its "up" link: …/v2/payments/captures/<id>)."""
    for link in paypal_api.as_list(resource.get("links")):
        link = paypal_api.as_dict(link)
        href = _text(link.get("href"))
        if link.get("rel") == "up" and "/captures/" in href:
            return href.rstrip("/").rsplit("/", 1)[-1]
    return ""


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
        if event_type == "PAYMENT.CAPTURE.REFUNDED":
            capture_id = _paypal_refunded_capture(resource)
            payment = (Payment.objects.filter(organization=organization, provider=Provider.PAYPAL,
                                              provider_payment_id=capture_id).first() if capture_id else None)
        elif event_type.startswith("PAYMENT.CAPTURE."):
            reference = resource.get("custom_id") or resource.get("invoice_id")
            payment = _payment_by_reference(reference, Provider.PAYPAL) if isinstance(reference, str) else None
            # The capture must name the order we created for this payment: a capture of another order that
            # carries our reference is not this payment's money.
            if payment is not None and _paypal_order_id(resource) != payment.provider_checkout_id:
                payment = None
        elif event_type == "CHECKOUT.ORDER.APPROVED":
            unit = paypal_api.as_dict((paypal_api.as_list(resource.get("purchase_units")) or [{}])[0])
            reference = unit.get("custom_id") or unit.get("reference_id")
            payment = _payment_by_reference(reference, Provider.PAYPAL) if isinstance(reference, str) else None
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
            elif event_type == "PAYMENT.CAPTURE.REFUNDED":
                outcome = (_provider_refund_apply(payment, provider_refund_id=_text(resource.get("id")),
                                                  full=_paypal_refund_is_full(payment, resource))
                           if resource.get("status") == "COMPLETED" else "refund not completed yet")
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


def _paypal_refund_is_full(payment, resource):
    amount = paypal_api.as_dict(resource.get("amount"))
    value = amount.get("value")
    refunded = _decimal(value) if isinstance(value, str) else None
    return refunded is not None and refunded >= payment.total_amount
