"""The payment providers' APIs (Stripe Checkout, PayPal Orders) for one organisation's credentials.

Only payments/services.py calls them. They return the provider's data and raise PaymentError with a message for
the client; they never write to the database.
"""

from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings


class PaymentError(Exception):
    """The provider refused or could not be reached. `message` is for the client; `retry`: trying again may work."""

    def __init__(self, message, *, retry=True):
        super().__init__(str(message))
        self.message = message
        self.retry = retry


class PaymentDeclinedError(PaymentError):
    """The provider refused the client's means of payment (card or PayPal declined): another one may work."""


class WebhookRefusedError(Exception):
    """A webhook that is not the provider's, or too old to trust: answered 400, nothing recorded."""


class ProviderUnavailableError(Exception):
    """The provider could not be asked (verifying a PayPal webhook): answered 503 so the provider redelivers."""


def minor_units(amount):
    """Cents (every currency we offer has two minor digits)."""
    return int((Decimal(amount) * 100).to_integral_value())


# The providers' own API bases (the settings' defaults) and the pages their checkout runs on. Any other API base is
# a stand-in (tests, the demo), which serves its checkout page from its own origin.
STRIPE_API_DEFAULT = "https://api.stripe.com"
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
PAYPAL_API_DEFAULTS = {"sandbox": "https://api-m.sandbox.paypal.com", "live": "https://api-m.paypal.com"}
PAYPAL_CHECKOUT_ORIGINS = {"sandbox": "https://www.sandbox.paypal.com", "live": "https://www.paypal.com"}


def _origin(url):
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return ""
    return f"{parts.scheme}://{parts.netloc.lower()}"


def checkout_origin(provider, paypal_mode="sandbox"):
    """The one origin whose page may take the client's money for `provider` ("stripe"/"paypal"): the provider's
    own (https), or the stand-in's when the API base setting names one."""
    if provider == "stripe":
        base = settings.STRIPE_API_BASE.rstrip("/")
        return STRIPE_CHECKOUT_ORIGIN if base == STRIPE_API_DEFAULT else _origin(base)
    mode = "live" if paypal_mode == "live" else "sandbox"
    base = (settings.PAYPAL_API_BASE_LIVE if mode == "live" else settings.PAYPAL_API_BASE_SANDBOX).rstrip("/")
    return PAYPAL_CHECKOUT_ORIGINS[mode] if base == PAYPAL_API_DEFAULTS[mode] else _origin(base)


def checkout_url_allowed(url, provider, paypal_mode="sandbox"):
    """True when `url` is on the provider's checkout origin (a provider answer pointing the client anywhere else
    is never followed)."""
    if not isinstance(url, str) or len(url) > 2000:
        return False
    # Same scheme and host[:port]: the providers' own origins are https, so http passes only for a stand-in.
    allowed = checkout_origin(provider, paypal_mode)
    return bool(allowed) and _origin(url) == allowed
