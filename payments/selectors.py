"""Reads of payments data. Callers pass objects they already found through a scoped, policy-checked lookup."""

from dataclasses import replace

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from consult.models import DeliveryStatus, EmailDelivery
from orgs.scoping import organization_scope

from . import vies
from .models import Charge, ClientType, Payment, PaymentSettings, PaymentStatus, Rate, VatRule
from .vat import (
    EU_COUNTRIES,
    VAT_CONFIRMED,
    VAT_INVALID,
    VAT_UNCHECKED,
    is_reverse_charge,
    normalize_vat_number,
    vat_amounts,
)


def settings_for(organization):
    """The organisation's payment settings; an unsaved default (payments off) when it never saved any."""
    with organization_scope(organization):
        found = PaymentSettings.objects.filter(organization=organization).first()
    return found or PaymentSettings(organization=organization)


def charge_of(appointment):
    with organization_scope(appointment.organization):
        return Charge.objects.filter(appointment=appointment).first()


def paid_payment_of(appointment):
    with organization_scope(appointment.organization):
        return Payment.objects.filter(appointment=appointment, status=PaymentStatus.PAID).first()


def receipt_once_key(payment):
    """The once_key of the payment's receipt delivery row (receipt_send claims it, so it is emailed once)."""
    return f"receipt:{payment.pk}"


def receipt_sent(payment):
    """Whether the payment's receipt email has actually gone out (not merely queued, sending or failed)."""
    with organization_scope(payment.organization):
        return EmailDelivery.objects.filter(once_key=receipt_once_key(payment), status=DeliveryStatus.SENT).exists()


def payment_due(appointment, organization=None):
    """The charge the client must still pay before the waiting room opens, or None: no charge, payments switched
    off by the organisation, or paid (a refunded payment is due again only if the charge is still there)."""
    charge = charge_of(appointment)
    if charge is None:
        return None
    if not settings_for(organization or appointment.organization).enabled:
        return None
    return None if paid_payment_of(appointment) is not None else charge


def payments_of(appointment):
    """Every attempt to pay this appointment, newest first."""
    with organization_scope(appointment.organization):
        return list(Payment.objects.filter(appointment=appointment).select_related("refund").order_by("-created_at"))


def rates_for(organization, *, active_only=True):
    with organization_scope(organization):
        rates = Rate.objects.filter(organization=organization)
        return list(rates.filter(is_active=True) if active_only else rates)


def vat_rules_for(organization):
    with organization_scope(organization):
        return list(VatRule.objects.filter(organization=organization))


def vat_number_status(vat_number):
    """VIES's word on a normalised EU VAT number: VAT_CONFIRMED, VAT_INVALID or VAT_UNCHECKED (VIES not reachable
    or without a verdict). Cached by payments/vies.py, so the pay page and starting the payment ask once."""
    verdict = vies.check(vat_number)
    return VAT_UNCHECKED if verdict is None else VAT_CONFIRMED if verdict else VAT_INVALID


def vat_number_validate(*, client_country, client_type, vat_number):
    """ValidationError on "vat_number" when a business gives an EU VAT number that VIES says is not registered.
    A VIES that cannot answer refuses nothing: the client then pays VAT (quote says so)."""
    if client_type != ClientType.BUSINESS or not vat_number or client_country not in EU_COUNTRIES:
        return
    try:
        vat_number = normalize_vat_number(vat_number, client_country)
    except ValidationError as error:
        raise ValidationError({"vat_number": error.messages}) from None
    if vat_number_status(vat_number) == VAT_INVALID:
        raise ValidationError({"vat_number": _("This VAT number is not registered in the EU's VIES database.")})


def quote(*, organization, charge, client_country, client_type, vat_number=""):
    """What this client pays for `charge` (payments/vat.py), by the organisation's rules.

    Reverse charge only for a VAT number VIES confirms; otherwise VAT as for a business without one, and
    `vat_number_status` says why (the pay page explains it; vat_number_validate turns "invalid" into a field
    error)."""
    row = settings_for(organization)
    seller_country = str(row.seller_country)
    status = ""
    if is_reverse_charge(seller_country=seller_country, client_country=client_country, client_type=client_type,
                         vat_number=vat_number):
        try:
            status = vat_number_status(normalize_vat_number(vat_number, client_country))
        except ValidationError:
            status = VAT_INVALID  # callers normally pass a normalised number; one that cannot exist is not one
    amounts = vat_amounts(net=charge.amount, rules=vat_rules_for(organization), seller_country=seller_country,
                          client_country=client_country, client_type=client_type,
                          vat_number=vat_number if status in ("", VAT_CONFIRMED) else "")
    return replace(amounts, vat_number_status=status)
