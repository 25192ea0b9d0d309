"""Stripe Checkout for one organisation, through the official library: its own secret key per client (never the
library's global key), API base from settings (tests and the demo use a stand-in), plain `requests` underneath
so the HTTP boundary is what tests record.

Every call that creates something carries an idempotency key derived from our payment reference: a retry after a
timeout never makes a second session or a second refund.
"""

import json
import logging
from datetime import timedelta

import stripe
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from ..credentials import credential_open
from . import PaymentDeclinedError, PaymentError, WebhookRefusedError, minor_units

log = logging.getLogger(__name__)

# Checkout's own page languages we can ask for; anything else lets Stripe pick by the browser.
CHECKOUT_LOCALES = {"nl", "en", "de", "es", "fr", "it", "pt", "pl", "sv", "da", "fi", "nb", "cs"}
TIMEOUT = (5, 20)  # connect, read (seconds)
# Stripe refuses an expires_at less than 30 minutes or more than 24 hours after the session's creation; a minute's
# margin each side absorbs the clock difference and the request's own time.
CHECKOUT_MINUTES_MIN, CHECKOUT_MINUTES_MAX = 31, 1435


def checkout_minutes():
    return max(CHECKOUT_MINUTES_MIN, min(CHECKOUT_MINUTES_MAX, settings.PAYMENTS_CHECKOUT_MINUTES))


def _error(error, organization):
    """Stripe's exception as a PaymentError the client can read; configuration problems are logged for staff."""
    if isinstance(error, stripe.APIConnectionError):
        return PaymentError(_("The payment service could not be reached. Nothing was charged; please try again in "
                              "a moment."), retry=True)
    # Stripe's message may quote what was sent (the payer's email): only the status, codes and request id.
    facts = (getattr(error, "http_status", None), type(error).__name__, getattr(error, "code", None),
             getattr(error, "request_id", None), organization.pk)
    if isinstance(error, (stripe.AuthenticationError, stripe.PermissionError)):
        log.error("Stripe refused the credentials (HTTP %s, %s, code %s, request %s) of organisation %s", *facts)
        return PaymentError(_("Online payment is not set up correctly; please contact %(organization)s.")
                            % {"organization": organization.name}, retry=False)
    if isinstance(error, stripe.CardError):
        return PaymentDeclinedError(_("The card was declined. Nothing was charged; please try again or choose "
                                      "another way to pay."), retry=True)
    log.warning("Stripe error HTTP %s, %s, code %s, request %s, for organisation %s", *facts)
    return PaymentError(_("The payment service could not handle the payment just now. Nothing was charged; please "
                          "try again in a moment."), retry=True)


class StripeCheckout:
    def __init__(self, settings_row):
        self.organization = settings_row.organization
        self.settings_row = settings_row
        secret_key = credential_open(settings_row, "stripe_secret_key_sealed")
        if not secret_key:
            raise PaymentError(_("Online payment is not set up correctly; please contact %(organization)s.")
                               % {"organization": self.organization.name}, retry=False)
        self.client = stripe.StripeClient(
            secret_key, base_addresses={"api": settings.STRIPE_API_BASE},
            http_client=stripe.RequestsClient(timeout=TIMEOUT), max_network_retries=1,
        )

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except stripe.StripeError as error:
            raise _error(error, self.organization) from error

    def session_create(self, payment, *, success_url, cancel_url):
        """A Checkout Session for the payment's total: one line with VAT in its name. Returns (id, url)."""
        name = payment.description
        if payment.vat_amount:
            name = _("%(name)s (incl. %(percent)s%% VAT: %(currency)s %(vat)s)") % {
                "name": payment.description, "percent": f"{payment.vat_percent.normalize():f}",
                "currency": payment.currency, "vat": payment.vat_amount}
        elif payment.reverse_charge:
            name = _("%(name)s (VAT reverse charged)") % {"name": payment.description}
        language = (payment.language or "")[:2]
        params = {
            "mode": "payment",
            "line_items": [{
                "quantity": 1,
                "price_data": {"currency": payment.currency.lower(), "unit_amount": minor_units(payment.total_amount),
                               "product_data": {"name": name[:250]}},
            }],
            "customer_email": payment.billing_email,
            "client_reference_id": str(payment.reference),
            "metadata": {"payment": str(payment.reference), "organization": str(payment.organization_id)},
            # The charge itself carries the reference too, so a refund or dispute can be traced back.
            "payment_intent_data": {"metadata": {"payment": str(payment.reference),
                                                 "organization": str(payment.organization_id)}},
            "success_url": success_url + "?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": cancel_url,
            "expires_at": int((timezone.now() + timedelta(minutes=checkout_minutes())).timestamp()),
            "locale": language if language in CHECKOUT_LOCALES else "auto",
        }
        session = self._call(self.client.v1.checkout.sessions.create, params=params,
                             options={"idempotency_key": f"checkout-{payment.reference}"})
        session_id, url = getattr(session, "id", None), getattr(session, "url", None)
        if not (isinstance(session_id, str) and session_id and isinstance(url, str)):
            log.error("Stripe session without id or url for payment %s", payment.reference)
            raise _error(None, self.organization)
        return session_id, url

    def session_retrieve(self, session_id):
        return _as_dict(self._call(self.client.v1.checkout.sessions.retrieve, session_id))

    def session_expire(self, session_id):
        return _as_dict(self._call(self.client.v1.checkout.sessions.expire, session_id))

    def refund_create(self, payment):
        refund = self._call(self.client.v1.refunds.create, params={
            "payment_intent": payment.provider_payment_id,
            "metadata": {"payment": str(payment.reference), "organization": str(payment.organization_id)},
        }, options={"idempotency_key": f"refund-{payment.reference}"})
        return _as_dict(refund)


def _as_dict(obj):
    """The library's object as a plain dict ({} for anything else: callers read it with .get)."""
    data = obj.to_dict() if hasattr(obj, "to_dict") else obj
    return data if isinstance(data, dict) else {}


def webhook_event(settings_row, payload, signature_header):
    """The verified event as a dict, or WebhookRefusedError (bad or missing signature, stale timestamp, not JSON)."""
    secret = credential_open(settings_row, "stripe_webhook_secret_sealed")
    if not secret:
        raise WebhookRefusedError("Stripe is not set up for this organisation")
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret,
                                              tolerance=settings.PAYMENTS_WEBHOOK_TOLERANCE_SECONDS)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise WebhookRefusedError(str(error)) from error
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and isinstance(event.get("type"), str)
            and isinstance(event.get("data"), dict) and isinstance(event["data"].get("object"), dict)):
        raise WebhookRefusedError("not a Stripe event")
    return event
