"""VAT on a consult (F-PAY-1): the organisation's rules by the client's country and type, EU reverse charge,
rounding, and the form of VAT numbers. Pure functions: no database."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from payments.models import ClientType, VatRule
from payments.vat import REVERSE_CHARGE_NOTE, normalize_vat_number, vat_amounts

P, B = ClientType.PRIVATE, ClientType.BUSINESS


def rules(*rows):
    return [VatRule(country=country, client_type=client_type, percent=Decimal(percent), note=note)
            for country, client_type, percent, note in rows]


# A Dutch seller with rules for home, Germany (both types) and a default for every other country.
FULL = rules(("NL", P, "21", ""), ("NL", B, "21", ""), ("DE", P, "19", "DE private"), ("DE", B, "19", "DE business"),
             ("US", B, "0", "Outside the EU"), ("", P, "21", "default private"), ("", B, "21", "default business"))
# Only the defaults.
DEFAULTS = rules(("", P, "21", "default private"), ("", B, "9", "default business"))


@pytest.mark.parametrize("rule_set, country, client_type, vat_number, percent, vat, reverse, note", [
    # At home: VAT whether private or a business with a VAT number (no reverse charge inside one country).
    (FULL, "NL", P, "", "21.00", "9.45", False, ""),
    (FULL, "NL", B, "NL123456789B01", "21.00", "9.45", False, ""),
    # A business in another EU state with its VAT number: reverse charge, 0 %, the legal note.
    (FULL, "DE", B, "DE123456789", "0.00", "0.00", True, REVERSE_CHARGE_NOTE),
    (DEFAULTS, "DE", B, "DE123456789", "0.00", "0.00", True, REVERSE_CHARGE_NOTE),
    # The same business without a VAT number: Germany's business rule, else the default.
    (FULL, "DE", B, "", "19.00", "8.55", False, "DE business"),
    (DEFAULTS, "DE", B, "", "9.00", "4.05", False, "default business"),
    # A private client in Germany: Germany's rule, else the default.
    (FULL, "DE", P, "", "19.00", "8.55", False, "DE private"),
    (DEFAULTS, "DE", P, "", "21.00", "9.45", False, "default private"),
    # Outside the EU: never reverse charge, even with a number; the country's rule, else the default.
    (FULL, "US", B, "US12345", "0.00", "0.00", False, "Outside the EU"),
    (FULL, "US", P, "", "21.00", "9.45", False, "default private"),
    (DEFAULTS, "US", B, "US12345", "9.00", "4.05", False, "default business"),
    (DEFAULTS, "US", P, "", "21.00", "9.45", False, "default private"),
    # No rule at all: 0 %.
    ([], "NL", P, "", "0.00", "0.00", False, ""),
    ([], "US", B, "", "0.00", "0.00", False, ""),
])
def test_vat_by_country_client_type_and_vat_number(rule_set, country, client_type, vat_number, percent, vat,
                                                     reverse, note):
    """covers F-PAY-1"""
    amounts = vat_amounts(net=Decimal("45.00"), rules=rule_set, seller_country="NL", client_country=country,
                          client_type=client_type, vat_number=vat_number)
    assert amounts.net == Decimal("45.00")
    assert amounts.percent == Decimal(percent)
    assert amounts.vat == Decimal(vat)
    assert amounts.total == amounts.net + amounts.vat
    assert amounts.reverse_charge is reverse
    assert amounts.note == note


def test_a_seller_outside_the_eu_never_reverse_charges():
    amounts = vat_amounts(net="45", rules=DEFAULTS, seller_country="CH", client_country="DE", client_type=B,
                          vat_number="DE123456789")
    assert (amounts.reverse_charge, amounts.percent) == (False, Decimal("9.00"))


@pytest.mark.parametrize("net, percent, vat, total", [
    ("45.00", "21", "9.45", "54.45"),
    ("33.33", "9", "3.00", "36.33"),  # 2.9997 rounds up to 3.00
    ("10.05", "21", "2.11", "12.16"),  # 2.1105: half up
    ("0.50", "21", "0.11", "0.61"),  # 0.105: half up, not to even
    ("19.99", "19", "3.80", "23.79"),  # 3.7981
    ("100", "0", "0.00", "100.00"),
])
def test_vat_is_rounded_half_up_to_cents(net, percent, vat, total):
    amounts = vat_amounts(net=Decimal(net), rules=rules(("", P, percent, "")), seller_country="NL",
                          client_country="NL", client_type=P)
    assert (amounts.vat, amounts.total) == (Decimal(vat), Decimal(total))


@pytest.mark.parametrize("value, country, expected", [
    ("NL 1234.56.789 B01", "NL", "NL123456789B01"),  # spaces and dots go
    ("nl123456789b01", "NL", "NL123456789B01"),  # upper case
    ("123456789", "DE", "DE123456789"),  # the prefix is added when missing
    ("DE-123 456 789", "DE", "DE123456789"),
    ("094259216", "GR", "EL094259216"),  # Greece's prefix is EL, not GR
    ("EL 094259216", "GR", "EL094259216"),
    ("", "NL", ""),  # empty stays empty
    ("CHE-123.456.788", "CH", "CHE123456788"),  # outside the EU: only the form is checked
])
def test_normalize_vat_number(value, country, expected):
    assert normalize_vat_number(value, country) == expected


@pytest.mark.parametrize("value, country, message", [
    ("DE123456789", "NL", "starts with NL"),  # another country's prefix
    ("GR094259216", "GR", "starts with EL"),  # ISO code instead of the VAT prefix
    ("NL1", "NL", "not a valid VAT number"),  # too short
    ("NL12345678901234567", "NL", "not a valid VAT number"),  # too long
    ("NL1234#5678", "NL", "not a valid VAT number"),
])
def test_normalize_vat_number_refuses_with_a_clear_message(value, country, message):
    with pytest.raises(ValidationError) as caught:
        normalize_vat_number(value, country)
    assert message in caught.value.messages[0]
