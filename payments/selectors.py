"""Reads of payments data. Callers pass objects they already found through a scoped, policy-checked lookup."""

from orgs.scoping import organization_scope

from .models import Charge, Payment, PaymentSettings, PaymentStatus, Rate, VatRule
from .vat import vat_amounts


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


def quote(*, organization, charge, client_country, client_type, vat_number=""):
    """What this client pays for `charge` (payments/vat.py), by the organisation's rules."""
    row = settings_for(organization)
    return vat_amounts(net=charge.amount, rules=vat_rules_for(organization), seller_country=str(row.seller_country),
                       client_country=client_country, client_type=client_type, vat_number=vat_number)
