"""Writes of the organisation admin's payment configuration: settings with the provider secrets, rates, VAT rules.

Each write checks the policy, validates before it writes (nothing is saved when anything is wrong) and leaves an
audit row. Secrets are sealed (payments/credentials.py) and never reach the audit log, not even in part.
"""

import re
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _

from orgs import policy
from orgs.scoping import organization_scope
from orgs.services import audit_record

from .credentials import credential_seal
from .models import PaymentSettings, Rate, VatRule
from .vat import normalize_vat_number

# The form's secret fields and the sealed model field each is stored in.
SECRET_FIELDS = {
    "stripe_secret_key": "stripe_secret_key_sealed",
    "stripe_webhook_secret": "stripe_webhook_secret_sealed",
    "paypal_secret": "paypal_secret_sealed",
}
SETTINGS_FIELDS = ("enabled", "seller_name", "seller_country", "seller_vat_number", "paypal_client_id",
                   "paypal_mode", "paypal_webhook_id")
# Restricted keys (rk_) work as well as secret keys and are what Stripe recommends for a single integration.
STRIPE_SECRET_KEY = re.compile(r"^(sk|rk)_(test|live)_\w{8,}$", re.ASCII)
STRIPE_WEBHOOK_SECRET = re.compile(r"^whsec_[\w+/=]{8,}$", re.ASCII)


def secret_format_error(name, value):
    """The message for a secret that cannot be what the provider gave (a pasted publishable key, say), or None."""
    if name == "stripe_secret_key" and not STRIPE_SECRET_KEY.match(value):
        if value.startswith("pk_"):
            return _("This is the publishable key. Paste the secret key, which starts with sk_live_ or sk_test_ "
                     "(or a restricted key, rk_live_ / rk_test_).")
        return _("A Stripe secret key starts with sk_live_, sk_test_, rk_live_ or rk_test_.")
    if name == "stripe_webhook_secret" and not STRIPE_WEBHOOK_SECRET.match(value):
        if value.startswith("whsec_"):
            # The prefix is right, so "starts with whsec_" would not help: most likely only part was copied.
            return _("This webhook signing secret looks incomplete: copy the whole signing secret from Stripe.")
        return _("A Stripe webhook signing secret starts with whsec_.")
    return None


def _require(allowed):
    if not allowed:
        raise PermissionDenied


# --- settings ---------------------------------------------------------------------------------

@transaction.atomic
def settings_update(*, member, values, secrets=None, request=None):
    """Save the organisation's payment settings.

    `values`: new values of SETTINGS_FIELDS (any subset). `secrets`: {form secret name: plaintext}; a plaintext
    replaces the stored secret, "" removes it, a name left out keeps it. Returns the saved row.
    """
    _require(policy.can_change_payment_credentials(member))
    organization = member.organization
    with organization_scope(organization):
        row = (PaymentSettings.objects.select_for_update().filter(organization=organization).first()
               or PaymentSettings(organization=organization))
    changed = []
    for name, value in values.items():
        if name not in SETTINGS_FIELDS:
            raise ValueError(f"not a payment setting: {name}")
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    errors = {}
    try:
        row.seller_vat_number = normalize_vat_number(row.seller_vat_number, str(row.seller_country))
    except ValidationError as error:
        errors["seller_vat_number"] = error.messages
    for name, plaintext in (secrets or {}).items():
        sealed_field = SECRET_FIELDS[name]
        if not plaintext:
            if getattr(row, sealed_field):
                credential_seal(row, sealed_field, "")
                changed.append(name)
            continue
        if (message := secret_format_error(name, plaintext)) is not None:
            errors[name] = [message]
            continue
        credential_seal(row, sealed_field, plaintext)
        changed.append(name)
    if "stripe_secret_key" in changed:
        # The last four characters let the admin tell which key is stored; the rest stays sealed.
        row.stripe_secret_key_hint = secrets["stripe_secret_key"][-4:]
    if row.enabled and not (row.stripe_configured or row.paypal_configured):
        errors.setdefault("enabled", []).append(_(
            "Payments cannot be switched on yet: complete Stripe (secret key and webhook signing secret) or PayPal "
            "(client ID, secret and webhook ID) first."))
    if errors:
        raise ValidationError(errors)
    with organization_scope(organization):
        row.full_clean(exclude=[*SECRET_FIELDS.values(), "stripe_secret_key_hint", "receipt_sequence"])
        row.save()
    if changed:
        # Names only: neither a secret nor the value of any other field goes into the log.
        audit_record(organization=organization, actor=member.user, action="payment_settings.update", target=row,
                     changes={"changed": sorted(set(changed))}, request=request)
    return row


# --- rates ------------------------------------------------------------------------------------

# The smallest charge Stripe accepts per currency (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts);
# a rate below it could never be paid by card. The model's 0.50 check stays as the floor for every currency.
RATE_MINIMUMS = {
    "EUR": Decimal("0.50"), "USD": Decimal("0.50"), "CHF": Decimal("0.50"), "GBP": Decimal("0.30"),
    "DKK": Decimal("2.50"), "SEK": Decimal("3.00"), "NOK": Decimal("3.00"), "PLN": Decimal("2.00"),
    "CZK": Decimal("15.00"),
}


def rate_amount_error(amount, currency):
    """The message for an amount below what card payments accept in `currency`, or None."""
    minimum = RATE_MINIMUMS.get(currency)
    if minimum is None or amount is None or Decimal(amount) >= minimum:
        return None
    return _("The smallest amount card payments accept in %(currency)s is %(minimum)s.") % {
        "currency": currency, "minimum": formats.number_format(minimum, 2, use_l10n=True)}


def _check_rate_amount(rate):
    if (message := rate_amount_error(rate.amount, rate.currency)) is not None:
        raise ValidationError({"amount": message})


def _check_rate_name(rate):
    with organization_scope(rate.organization):
        taken = Rate.objects.filter(organization=rate.organization, name=rate.name).exclude(pk=rate.pk).exists()
    if taken:
        raise ValidationError({"name": _("You already have a rate with this name.")})


@transaction.atomic
def rate_create(*, member, name, amount, currency, is_active=True, request=None):
    _require(policy.can_manage_payments(member))
    rate = Rate(organization=member.organization, name=name, amount=amount, currency=currency, is_active=is_active)
    _check_rate_name(rate)
    _check_rate_amount(rate)
    with organization_scope(member.organization):
        rate.full_clean()
        rate.save()
    audit_record(organization=member.organization, actor=member.user, action="rate.create", target=rate,
                 changes={"name": [None, name], "amount": [None, str(amount)], "currency": [None, currency]},
                 request=request)
    return rate


@transaction.atomic
def rate_update(*, member, rate, changes, request=None):
    """Save a rate a form has changed. Appointments that already carry it keep what their client was told
    (Charge copies name and amount)."""
    _require(policy.can_manage_payments(member) and rate.organization_id == member.organization_id)
    _check_rate_name(rate)
    _check_rate_amount(rate)
    with organization_scope(rate.organization):
        rate.full_clean()
        rate.save()
    if changes:
        audit_record(organization=rate.organization, actor=member.user, action="rate.update", target=rate,
                     changes=changes, request=request)
    return rate


@transaction.atomic
def rate_delete(*, member, rate, request=None):
    """Charges that used the rate keep their copied name and amount; their link to the rate becomes empty."""
    _require(policy.can_manage_payments(member) and rate.organization_id == member.organization_id)
    audit_record(organization=rate.organization, actor=member.user, action="rate.delete", target=rate,
                 request=request)
    with organization_scope(rate.organization):
        rate.delete()


# --- VAT rules --------------------------------------------------------------------------------

def _check_vat_rule_unique(rule):
    with organization_scope(rule.organization):
        taken = VatRule.objects.filter(organization=rule.organization, country=rule.country,
                                       client_type=rule.client_type).exclude(pk=rule.pk).exists()
    if taken:
        raise ValidationError({"country": _("There is already a rule for this country and client type.")})


@transaction.atomic
def vat_rule_create(*, member, country, client_type, percent, note="", request=None):
    _require(policy.can_manage_payments(member))
    rule = VatRule(organization=member.organization, country=country or "", client_type=client_type,
                   percent=percent, note=note)
    _check_vat_rule_unique(rule)
    with organization_scope(member.organization):
        rule.full_clean()
        rule.save()
    audit_record(organization=member.organization, actor=member.user, action="vatrule.create", target=rule,
                 changes={"country": [None, str(rule.country or "")], "client_type": [None, client_type],
                          "percent": [None, str(percent)]}, request=request)
    return rule


@transaction.atomic
def vat_rule_update(*, member, rule, changes, request=None):
    _require(policy.can_manage_payments(member) and rule.organization_id == member.organization_id)
    _check_vat_rule_unique(rule)
    with organization_scope(rule.organization):
        rule.full_clean()
        rule.save()
    if changes:
        audit_record(organization=rule.organization, actor=member.user, action="vatrule.update", target=rule,
                     changes=changes, request=request)
    return rule


@transaction.atomic
def vat_rule_delete(*, member, rule, request=None):
    _require(policy.can_manage_payments(member) and rule.organization_id == member.organization_id)
    audit_record(organization=rule.organization, actor=member.user, action="vatrule.delete", target=rule,
                 request=request)
    with organization_scope(rule.organization):
        rule.delete()
