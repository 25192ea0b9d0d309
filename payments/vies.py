"""Whether a VAT number is registered, asked of the EU's VIES service (F-PAY-1).

Reverse charge needs a VAT number the seller has confirmed, not one that only looks right: a business client's
number goes to VIES (REST API, https://ec.europa.eu/taxation_customs/vies/#/technical-information) before the
VAT is left out. VIES is often slow or down per member state; "could not check" is an answer of its own (None)
and is never cached, so the next page view asks again.
"""

import logging

import requests
from django.conf import settings
from django.core.cache import cache

from .vat import EU_VAT_PREFIXES

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3
# A registration rarely ends within a day; a "no" is cached briefly because a number registered minutes ago
# (or mistyped and corrected) should not stay refused for long.
VALID_CACHE_SECONDS = 24 * 60 * 60
INVALID_CACHE_SECONDS = 10 * 60


def _cache_key(number):
    return f"payments:vies:{number}"


def check(number):
    """True when VIES confirms the (normalised, prefixed) VAT number, False when it says the number is not
    registered, None when it could not be asked or gave no verdict."""
    number = (number or "").upper()
    prefix, rest = number[:2], number[2:]
    if prefix not in EU_VAT_PREFIXES or not rest:
        raise ValueError(f"not an EU VAT number: {number!r}")
    key = _cache_key(number)
    cached = cache.get(key)
    if cached is not None:
        return cached
    verdict = _ask(prefix, rest)
    if verdict is not None:
        cache.set(key, verdict, VALID_CACHE_SECONDS if verdict else INVALID_CACHE_SECONDS)
    return verdict


def _ask(country_code, vat_number):
    url = settings.VIES_API_URL.rstrip("/") + "/check-vat-number"
    try:
        response = requests.post(url, json={"countryCode": country_code, "vatNumber": vat_number},
                                 headers={"Accept": "application/json"},
                                 timeout=(TIMEOUT_SECONDS, TIMEOUT_SECONDS))
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as error:
        logger.info("VIES could not check %s%s: %s", country_code, vat_number, error)
        return None
    if not isinstance(data, dict):
        return None
    # Errors come as {"actionSucceed": false, "errorWrappers": [{"error": "MS_UNAVAILABLE"}]}, and the
    # per-number answer may carry userError (VALID / INVALID, or MS_UNAVAILABLE, TIMEOUT, … without a verdict).
    if data.get("actionSucceed") is False or data.get("errorWrappers"):
        logger.info("VIES gave no verdict for %s%s: %s", country_code, vat_number, data.get("errorWrappers"))
        return None
    if data.get("userError") not in (None, "", "VALID", "INVALID"):
        logger.info("VIES gave no verdict for %s%s: %s", country_code, vat_number, data.get("userError"))
        return None
    valid = data.get("valid")
    return valid if isinstance(valid, bool) else None
