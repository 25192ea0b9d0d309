"""Every payments test talks to a stand-in VIES at the HTTP boundary (payments/vies.py): reverse charge hangs on
VIES confirming the client's VAT number, and no test may reach the real service. By default VIES confirms every
number, so the tests of reverse charge keep meaning "a registered business in another EU country"; a test that
is about VIES tells `vies_answers` what to say. Every other request passes through untouched (the Stripe
stand-in, a test's own `responses`)."""

import json
import re

import pytest
import requests
import responses
from django.conf import settings
from django.core.cache import cache

REGISTERED, NOT_REGISTERED = True, False
DOWN, TIMEOUT, SERVER_ERROR, MS_UNAVAILABLE = "down", "timeout", "500", "ms-unavailable"


class ViesAnswers:
    """What the stand-in VIES answers: `answers[number]` (prefixed, e.g. "DE123456789"), else `default`.
    `calls` lists the numbers asked, in order."""

    def __init__(self):
        self.default = REGISTERED
        self.answers = {}
        self.calls = []
        self.requests = []

    def __setitem__(self, number, answer):
        self.answers[number] = answer

    def respond(self, request):
        body = json.loads(request.body)
        number = body["countryCode"] + body["vatNumber"]
        self.calls.append(number)
        self.requests.append(request)
        answer = self.answers.get(number, self.default)
        if answer == DOWN:
            return requests.ConnectionError("VIES unreachable")
        if answer == TIMEOUT:
            return requests.ReadTimeout("VIES did not answer in time")
        if answer == SERVER_ERROR:
            return 500, {}, "Internal Server Error"
        if answer == MS_UNAVAILABLE:
            return 200, {}, json.dumps({"actionSucceed": False, "errorWrappers": [{"error": "MS_UNAVAILABLE"}]})
        return 200, {"Content-Type": "application/json"}, json.dumps({
            "countryCode": body["countryCode"], "vatNumber": body["vatNumber"], "requestDate": "2026-03-02T09:30:00Z",
            "valid": bool(answer), "requestIdentifier": "", "name": "---" if not answer else "Muster GmbH",
            "address": "---", "traderName": "---", "traderStreet": "---", "traderPostalCode": "---",
            "traderCity": "---", "traderCompanyType": "---", "traderNameMatch": "NOT_PROCESSED",
            "traderStreetMatch": "NOT_PROCESSED", "traderPostalCodeMatch": "NOT_PROCESSED",
            "traderCityMatch": "NOT_PROCESSED", "traderCompanyTypeMatch": "NOT_PROCESSED"})


@pytest.fixture(autouse=True)
def vies_answers():
    """The stand-in VIES for every payments test (VIES answers are cached: the cache starts and ends empty)."""
    answers = ViesAnswers()
    cache.clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, settings.VIES_API_URL.rstrip("/") + "/check-vat-number",
                          callback=answers.respond)
        mock.add_passthru(re.compile(r".*"))
        yield answers
    cache.clear()
