"""Writes of payments (F-PAY): starting an attempt at the provider, applying what the provider says (webhooks,
refresh) exactly once, refunds. Skeleton of the shared contract; filled in by the provider work."""

from django.utils.translation import gettext_lazy as _


class PaymentError(Exception):
    """The provider refused or could not be reached. `message` is for the client; `retry`: trying again may work."""

    def __init__(self, message, *, retry=True):
        super().__init__(str(message))
        self.message = message
        self.retry = retry


def payment_start(*, participant, provider, billing, base_url):
    raise PaymentError(_("Online payment is not available yet."), retry=False)


def payment_refresh(*, payment):
    return payment


def payment_abandon(*, payment):
    return payment
