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
EU_VAT_PREFIXES = frozenset(VAT_PREFIX.get(country, country) for country in EU_COUNTRIES)
VAT_NUMBER = re.compile(r"^[A-Z]{2}[0-9A-Z+*]{2,13}$")
# What follows the prefix in each member state (the European Commission's VIES FAQ), with an example for the
# message: a number that cannot exist is refused before anyone asks VIES about it.
EU_VAT_FORMATS = {
    "AT": (r"U\d{8}", "ATU12345678"),
    "BE": (r"[01]\d{9}", "BE0123456789"),
    "BG": (r"\d{9,10}", "BG123456789"),
    "CY": (r"\d{8}[A-Z]", "CY12345678X"),
    "CZ": (r"\d{8,10}", "CZ12345678"),
    "DE": (r"\d{9}", "DE123456789"),
    "DK": (r"\d{8}", "DK12345678"),
    "EE": (r"\d{9}", "EE123456789"),
    "EL": (r"\d{9}", "EL123456789"),
    "ES": (r"[0-9A-Z]\d{7}[0-9A-Z]", "ESX1234567X"),
    "FI": (r"\d{8}", "FI12345678"),
    "FR": (r"[0-9A-Z]{2}\d{9}", "FR12345678901"),
    "HR": (r"\d{11}", "HR12345678901"),
    "HU": (r"\d{8}", "HU12345678"),
    "IE": (r"\d{7}[A-WY][A-I]?|\d[A-Z+*]\d{5}[A-WY]", "IE1234567WA"),
    "IT": (r"\d{11}", "IT12345678901"),
    "LT": (r"\d{9}|\d{12}", "LT123456789"),
    "LU": (r"\d{8}", "LU12345678"),
    "LV": (r"\d{11}", "LV12345678901"),
    "MT": (r"\d{8}", "MT12345678"),
    "NL": (r"\d{9}B\d{2}", "NL123456789B01"),
    "PL": (r"\d{10}", "PL1234567890"),
    "PT": (r"\d{9}", "PT123456789"),
    "RO": (r"[1-9]\d{1,9}", "RO1234567890"),
    "SE": (r"\d{10}01", "SE123456789001"),
    "SI": (r"\d{8}", "SI12345678"),
    "SK": (r"\d{10}", "SK1234567890"),
}
EU_VAT_PATTERNS = {prefix: re.compile(rf"^{prefix}(?:{pattern})$") for prefix, (pattern, _e) in EU_VAT_FORMATS.items()}
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
    # What VIES said of the client's VAT number when reverse charge hung on it (payments/selectors.quote):
    # VAT_CONFIRMED, VAT_INVALID, VAT_UNCHECKED; "" when no VIES question arose.
    vat_number_status: str = ""


VAT_CONFIRMED, VAT_INVALID, VAT_UNCHECKED = "confirmed", "invalid", "unchecked"


def normalize_vat_number(value, country):
    """The VAT number in its canonical form (prefix, no spaces or dots), or ValidationError saying what is wrong.
    Only the form is checked here (per member state inside the EU); whether the number exists is VIES's answer
    (payments/vies.py, asked by payments/selectors.quote)."""
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
    pattern = EU_VAT_PATTERNS.get(number[:2])
    if pattern is not None and not pattern.match(number):
        raise ValidationError(_("This is not a valid VAT number of this country; they look like %(example)s.")
                              % {"example": EU_VAT_FORMATS[number[:2]][1]})
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
