"""The payment providers' APIs (Stripe Checkout, PayPal Orders) for one organisation's credentials.

Only payments/services.py calls them. They return the provider's data and raise PaymentError with a message for
the client; they never write to the database.
"""

from decimal import Decimal


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
