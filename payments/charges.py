"""The charge an appointment carries (F-PAY-2): staff mark an appointment paid at one of the organisation's
rates; a booking or walk-in widget with a rate does so for its visitors.

The charge copies the rate's name, amount and currency, so what the client was told stays what they pay
when the rate is edited later. Once the client has paid, the charge is frozen: changing what was paid
would need a refund first.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from consult.models import Appointment, AppointmentStatus
from orgs import policy
from orgs.scoping import organization_scope
from orgs.services import audit_record

from .models import Charge, Payment, PaymentStatus, Rate
from .selectors import settings_for

logger = logging.getLogger(__name__)

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def money(amount, currency):
    """"€45.00" (or "€45,00" in Dutch): the amount as the active language writes numbers."""
    number = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{currency} {number}"


def rate_check(organization, rate):
    """Refuse (ValidationError on "rate") a rate that is not one of `organization`'s active rates, or any rate
    while the organisation has payments off."""
    if rate is None:
        return
    stored = None
    if isinstance(rate, Rate) and rate.pk:
        stored = Rate.objects.with_scopes_disabled().filter(pk=rate.pk, organization_id=organization.pk).first()
    if stored is None or not stored.is_active:
        raise ValidationError({"rate": _("Choose one of your organisation's active rates.")})
    if not settings_for(organization).enabled:
        raise ValidationError({"rate": _("Payments are switched off for your organisation; an organisation "
                                         "admin can turn them on.")})


def _write(appointment, rate, actor, request=None):
    """Create, change or remove (rate None) the charge; audit when something changed. Caller holds the lock.
    Returns (charge, whether it changed)."""
    existing = Charge.objects.filter(appointment=appointment).first()
    before = [existing.name, str(existing.amount), existing.currency] if existing else None
    if rate is None:
        if existing is None:
            return None, False
        existing.delete()
        charge = None
        after = None
    else:
        if existing is not None and existing.rate_id == rate.pk and existing.amount == rate.amount \
                and existing.currency == rate.currency and existing.name == rate.name:
            return existing, False
        charge = existing or Charge(organization_id=appointment.organization_id, appointment=appointment)
        charge.rate = rate
        charge.name, charge.amount, charge.currency = rate.name, rate.amount, rate.currency
        charge.created_by = actor if existing is None else charge.created_by
        charge.save()
        after = [charge.name, str(charge.amount), charge.currency]
    audit_record(organization=appointment.organization, actor=actor, action="appointment.charge",
                 target=appointment, changes={"charge": [before, after]}, request=request)
    return charge, True


def _end_open_attempts(appointment):
    """The client's open attempts were for the old amount: EXPIRED now (caller holds the appointment's lock), and
    once committed their checkout pages are closed at the provider (services.payment_abandon), so the old amount
    cannot be paid any more. One paid there in the meantime is still applied (services: money is never lost)."""
    attempts = list(Payment.objects.select_for_update().filter(appointment=appointment, status=PaymentStatus.OPEN))
    if not attempts:
        return
    Payment.objects.filter(pk__in=[p.pk for p in attempts]).update(status=PaymentStatus.EXPIRED,
                                                                    updated_at=timezone.now())

    def close_at_provider():
        from . import services  # services imports receipts, which imports this module

        for attempt in attempts:  # still OPEN in memory: payment_abandon then closes the checkout
            try:
                services.payment_abandon(payment=attempt)
            except Exception:  # noqa: BLE001 - best effort; the attempt is expired here either way
                logger.warning("Closing checkout of payment %s after its charge changed failed", attempt.pk,
                               exc_info=True)

    transaction.on_commit(close_at_provider)


def charge_attach(*, appointment, rate, actor=None, request=None):
    """The charge of a new appointment, inside the transaction that books it (consult.services.book).
    No policy check: the caller decided who may book at this rate. ValidationError for a bad rate."""
    rate_check(appointment.organization, rate)
    with organization_scope(appointment.organization):
        return _write(appointment, rate, actor, request)[0]


def charge_set(*, member, appointment, rate, request=None):
    """Mark `appointment` paid at `rate`, change its rate, or (rate None) make it free again.

    PermissionDenied when the member may not set rates for it; ValidationError (nothing written) for another
    organisation's or an inactive rate, payments switched off, a cancelled appointment, or one already paid."""
    if appointment.organization_id != member.organization_id \
            or not policy.can_set_appointment_rate(member, appointment):
        raise PermissionDenied
    if rate is not None:
        rate_check(member.organization, rate)
    with transaction.atomic(), organization_scope(member.organization):
        # One change of an appointment's charge at a time; a payment that locks the appointment to complete
        # is then either seen here as paid or waits for this change.
        locked = Appointment.objects.select_for_update().filter(pk=appointment.pk).first()
        if locked is None:
            raise PermissionDenied
        if locked.status == AppointmentStatus.CANCELLED or locked.anonymised_at:
            raise ValidationError(_("This appointment is cancelled; its charge cannot be changed."))
        if Payment.objects.filter(appointment=locked, status=PaymentStatus.PAID).exists():
            raise ValidationError(_("This appointment is already paid; refund the payment first."))
        charge, changed = _write(locked, rate, member.user, request)
        if changed:
            _end_open_attempts(locked)
        return charge
