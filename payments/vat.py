"""VAT on a consult (F-PAY-1): the organisation's rules by the client's country and type, and the EU reverse charge.

Pure functions on values, no database: the table of cases in payments/tests/test_vat.py is the specification.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import ClientType

EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# A VAT number starts with its country's prefix, which is the ISO code except for Greece.
VAT_PREFIX = {"GR": "EL"}
VAT_NUMBER = re.compile(r"^[A-Z]{2}[0-9A-Z+*]{2,13}$")
CENT = Decimal("0.01")
REVERSE_CHARGE_NOTE = "VAT reverse charged: Article 196 of Council Directive 2006/112/EC"


@dataclass(frozen=True)
class VatAmounts:
    net: Decimal
    percent: Decimal
    vat: Decimal
    total: Decimal
    reverse_charge: bool = False
    note: str = ""


def normalize_vat_number(value, country):
    """The VAT number in its canonical form (prefix, no spaces or dots), or ValidationError saying what is wrong.
    Only the form is checked here; whether the number exists is the seller's check (VIES)."""
    number = re.sub(r"[\s.\-]", "", value or "").upper()
    if not number:
        return ""
    prefix = VAT_PREFIX.get(country, country)
    if country in EU_COUNTRIES and not number.startswith(prefix):
        if number[:2].isalpha():
            raise ValidationError(_("A VAT number of this country starts with %(prefix)s.") % {"prefix": prefix})
        number = prefix + number
    if not VAT_NUMBER.match(number):
        raise ValidationError(_("This is not a valid VAT number."))
    return number


def is_reverse_charge(*, seller_country, client_country, client_type, vat_number):
    """A business in another EU member state with a VAT number accounts for the VAT itself."""
    return (client_type == ClientType.BUSINESS and bool(vat_number) and seller_country in EU_COUNTRIES
            and client_country in EU_COUNTRIES and client_country != seller_country)


def rule_for(rules, *, client_country, client_type):
    """The most specific rule: this country and type, else the type's rule for every other country, else None."""
    by_key = {(str(rule.country or ""), rule.client_type): rule for rule in rules}
    return by_key.get((client_country, client_type)) or by_key.get(("", client_type))


def vat_amounts(*, net, rules, seller_country, client_country, client_type, vat_number=""):
    """What the client pays for `net`: VAT by the matching rule (none: 0 %), or reverse charged."""
    net = Decimal(net).quantize(CENT, ROUND_HALF_UP)
    if is_reverse_charge(seller_country=str(seller_country), client_country=client_country,
                         client_type=client_type, vat_number=vat_number):
        return VatAmounts(net=net, percent=Decimal("0.00"), vat=Decimal("0.00"), total=net, reverse_charge=True,
                          note=REVERSE_CHARGE_NOTE)
    rule = rule_for(rules, client_country=client_country, client_type=client_type)
    percent = Decimal(rule.percent if rule else 0).quantize(CENT)
    vat = (net * percent / 100).quantize(CENT, ROUND_HALF_UP)
    return VatAmounts(net=net, percent=percent, vat=vat, total=net + vat, note=rule.note if rule else "")
