"""Reverse charge only for a VAT number the EU's VIES confirms (F-PAY-1): the request VIES gets, its answers
(registered, not registered, no verdict), the cache, and what quote, the billing form, the pay page and the
admin's "try it" make of them. VIES is the stand-in of tests/payments/conftest.py, at the HTTP boundary."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from consult import links
from payments import selectors, vies
from payments.forms_client import BillingForm
from payments.models import ClientType, Provider
from payments.vat import VAT_CONFIRMED, VAT_INVALID, VAT_UNCHECKED, normalize_vat_number
from tests.conftest import host_client, signed_in_client
from tests.payments.conftest import DOWN, MS_UNAVAILABLE, NOT_REGISTERED, SERVER_ERROR, TIMEOUT
from tests.payments.factories import (
    DEFAULT_VAT_RULES,
    charged_appointment,
    payments_enable,
    rate_create,
    vat_rules_create,
)

B, P = ClientType.BUSINESS, ClientType.PRIVATE
# A German business pays Germany's 19 % when its number is not confirmed: "VAT included" then shows.
RULES = [*DEFAULT_VAT_RULES, ("DE", B, "19.00")]


@pytest.fixture
def org(alpha):
    payments_enable(alpha)
    vat_rules_create(alpha, RULES)
    alpha.rate = rate_create(alpha)
    return alpha


@pytest.fixture
def charge(org):
    _appointment, _participant, charge = charged_appointment(org, rate=org.rate)
    return charge


def quote(org, charge, country="DE", client_type=B, vat_number="DE123456789"):
    return selectors.quote(organization=org, charge=charge, client_country=country, client_type=client_type,
                           vat_number=vat_number)


# --- payments/vies.py ------------------------------------------------------------------------------------

def test_vies_gets_the_country_code_and_the_number_without_it(vies_answers):
    assert vies.check("DE123456789") is True
    (request,) = vies_answers.requests
    assert request.url == "https://ec.europa.eu/taxation_customs/vies/rest-api/check-vat-number"
    assert json.loads(request.body) == {"countryCode": "DE", "vatNumber": "123456789"}
    assert request.req_kwargs["timeout"] == (3, 3)


def test_greece_is_asked_as_el(vies_answers):
    assert vies.check(normalize_vat_number("094259216", "GR")) is True
    assert json.loads(vies_answers.requests[0].body) == {"countryCode": "EL", "vatNumber": "094259216"}


@pytest.mark.parametrize(("answer", "verdict"), [
    (True, True), (NOT_REGISTERED, False), (DOWN, None), (TIMEOUT, None), (SERVER_ERROR, None),
    (MS_UNAVAILABLE, None),
])
def test_vies_answers(vies_answers, answer, verdict):
    vies_answers["DE123456789"] = answer
    assert vies.check("DE123456789") is verdict


def test_answers_are_cached_but_not_knowing_is_not(vies_answers):
    vies_answers["DE111111111"] = NOT_REGISTERED
    vies_answers["DE222222222"] = DOWN
    for _ in range(2):
        assert vies.check("DE123456789") is True
        assert vies.check("DE111111111") is False
        assert vies.check("DE222222222") is None
    assert vies_answers.calls == ["DE123456789", "DE111111111", "DE222222222", "DE222222222"]
    vies_answers["DE222222222"] = True  # back up: the next question gets the verdict
    assert vies.check("DE222222222") is True


def test_only_eu_numbers_go_to_vies(vies_answers):
    with pytest.raises(ValueError):
        vies.check("CHE123456788")
    assert vies_answers.calls == []


# --- the per-country forms -------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "country", "expected"), [
    ("U12345678", "AT", "ATU12345678"), ("0123456789", "BE", "BE0123456789"), ("123456789", "DE", "DE123456789"),
    ("123456789B01", "NL", "NL123456789B01"), ("FR AB 123456789", "FR", "FRAB123456789"),
    ("X1234567X", "ES", "ESX1234567X"), ("B12345678", "ES", "ESB12345678"), ("12345678901", "IT", "IT12345678901"),
    ("1234567WA", "IE", "IE1234567WA"), ("123456789001", "SE", "SE123456789001"), ("12345678", "DK", "DK12345678"),
    ("1234567890", "PL", "PL1234567890"), ("12345678X", "CY", "CY12345678X"), ("123456789", "GR", "EL123456789"),
])
def test_numbers_of_each_country_in_their_form(value, country, expected):
    assert normalize_vat_number(value, country) == expected


@pytest.mark.parametrize(("value", "country", "example"), [
    ("12345678", "AT", "ATU12345678"),  # the U is part of it
    ("2123456789", "BE", "BE0123456789"),  # starts with 0 or 1
    ("12345678", "DE", "DE123456789"),  # 9 digits
    ("1234567890", "DE", "DE123456789"),
    ("123456789", "NL", "NL123456789B01"),  # B and two digits
    ("123456789", "FR", "FR12345678901"),
    ("12345678", "ES", "ESX1234567X"),
    ("1234567890", "IT", "IT12345678901"),
    ("123456789012", "SE", "SE123456789001"),  # ends in 01
])
def test_numbers_not_in_their_countrys_form_are_refused_with_an_example(value, country, example):
    with pytest.raises(ValidationError) as caught:
        normalize_vat_number(value, country)
    assert "not a valid VAT number" in caught.value.messages[0] and example in caught.value.messages[0]


# --- quote decides ---------------------------------------------------------------------------------------

def test_a_confirmed_number_is_reverse_charged(org, charge):
    amounts = quote(org, charge)
    assert (amounts.reverse_charge, amounts.total, amounts.vat_number_status) == (True, Decimal("45.00"),
                                                                                 VAT_CONFIRMED)


def test_a_number_vies_does_not_know_pays_vat(org, charge, vies_answers):
    vies_answers["DE123456789"] = NOT_REGISTERED
    amounts = quote(org, charge)
    assert (amounts.reverse_charge, amounts.percent, amounts.total, amounts.vat_number_status) == (
        False, Decimal("19.00"), Decimal("53.55"), VAT_INVALID)


@pytest.mark.parametrize("answer", [DOWN, TIMEOUT, SERVER_ERROR])
def test_vies_unavailable_means_vat_included(org, charge, vies_answers, answer):
    vies_answers["DE123456789"] = answer
    amounts = quote(org, charge)
    assert (amounts.reverse_charge, amounts.total, amounts.vat_number_status) == (False, Decimal("53.55"),
                                                                                 VAT_UNCHECKED)


def test_two_quotes_ask_vies_once(org, charge, vies_answers):
    assert quote(org, charge).reverse_charge and quote(org, charge).reverse_charge
    assert vies_answers.calls == ["DE123456789"]


@pytest.mark.parametrize(("country", "client_type", "vat_number"), [
    ("NL", B, "NL123456789B01"),  # at home: VAT anyway, nothing hangs on VIES
    ("DE", P, ""),
    ("DE", B, ""),
    ("US", B, "US12345"),
])
def test_vies_is_asked_only_when_reverse_charge_hangs_on_it(org, charge, vies_answers, country, client_type,
                                                             vat_number):
    amounts = quote(org, charge, country=country, client_type=client_type, vat_number=vat_number)
    assert amounts.vat_number_status == "" and not amounts.reverse_charge
    assert vies_answers.calls == []


def test_vat_number_validate_refuses_only_what_vies_says_is_not_registered(vies_answers):
    vies_answers["DE111111111"] = NOT_REGISTERED
    vies_answers["DE222222222"] = DOWN
    with pytest.raises(ValidationError) as caught:
        selectors.vat_number_validate(client_country="DE", client_type=B, vat_number="DE111111111")
    assert caught.value.message_dict == {
        "vat_number": ["This VAT number is not registered in the EU's VIES database."]}
    selectors.vat_number_validate(client_country="DE", client_type=B, vat_number="DE222222222")
    selectors.vat_number_validate(client_country="DE", client_type=B, vat_number="DE123456789")
    selectors.vat_number_validate(client_country="DE", client_type=P, vat_number="DE111111111")


# --- the billing form and the pay page -------------------------------------------------------------------

def billing_form(vat_number):
    return BillingForm({"client_type": B, "country": "DE", "name": "Max Muster", "email": "max@example.test",
                        "company_name": "Muster GmbH", "vat_number": vat_number, "provider": "stripe"},
                       providers=[Provider.STRIPE])


def test_the_billing_form_refuses_a_number_vies_does_not_know(vies_answers):
    vies_answers["DE111111111"] = NOT_REGISTERED
    form = billing_form("DE 111 111 111")
    assert not form.is_valid()
    assert form.errors["vat_number"] == ["This VAT number is not registered in the EU's VIES database."]


def test_the_billing_form_accepts_a_number_while_vies_is_down(vies_answers):
    vies_answers["DE123456789"] = DOWN
    form = billing_form("DE123456789")
    assert form.is_valid(), form.errors
    assert form.billing()["vat_number"] == "DE123456789"


def pay_amounts(org, **query):
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate)
    browser = host_client(org)
    browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    return browser.get("/pay/", {"partial": "amounts", "country": "DE", "client_type": "business", **query}
                       ).content.decode()


def test_the_pay_page_says_why_vat_is_included_when_vies_is_down(org, vies_answers):
    vies_answers["DE123456789"] = DOWN
    part = pay_amounts(org, vat_number="DE123456789")
    assert "We could not confirm your VAT number right now, so VAT is included." in part
    assert "VAT 19 %" in part and "EUR 53.55" in part and "reverse" not in part


def test_the_pay_page_says_an_unknown_number_pays_vat(org, vies_answers):
    vies_answers["DE123456789"] = NOT_REGISTERED
    part = pay_amounts(org, vat_number="DE123456789")
    assert "not registered in the EU's VIES database" in part and "EUR 53.55" in part


def test_the_pay_page_reverse_charges_a_confirmed_number_with_one_question_to_vies(org, vies_answers):
    part = pay_amounts(org, vat_number="DE123456789")
    assert "VAT reverse charged" in part and "could not confirm" not in part
    assert vies_answers.calls == ["DE123456789"]


def test_the_admins_try_it_asks_vies_too(org, vies_answers):
    vies_answers["DE123456789"] = NOT_REGISTERED
    admin = signed_in_client(org.people["admin"].user, org)
    html = admin.get("/admin/payments/vat-rules-preview/", {"rate": org.rate.pk, "country": "DE",
                                                            "client_type": "business",
                                                            "vat_number": "DE123456789"}).content.decode()
    assert "EUR 53.55" in html and "Article 196" not in html
