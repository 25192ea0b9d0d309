"""PayPal Orders v2 over REST with `requests` (PayPal keeps no maintained Python SDK).

The OAuth2 token is cached per organisation for its lifetime minus a margin. Creating an order, capturing and
refunding carry a PayPal-Request-Id derived from our payment reference, so a retry after a timeout is answered
with the first result instead of doing it twice.
"""

import hashlib
import json
import logging
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ..credentials import credential_open
from ..models import PaypalMode
from . import PaymentDeclinedError, PaymentError, ProviderUnavailableError, WebhookRefusedError

log = logging.getLogger(__name__)

TIMEOUT = (5, 20)  # connect, read (seconds)
TOKEN_MARGIN = 300  # seconds before PayPal's expiry that we stop using a token
LOCALES = {"nl": "nl-NL", "en": "en-US", "de": "de-DE", "es": "es-ES", "fr": "fr-FR", "it": "it-IT"}
DECLINED_ISSUES = {"INSTRUMENT_DECLINED", "PAYER_ACTION_REQUIRED", "TRANSACTION_REFUSED", "PAYER_CANNOT_PAY",
                   "CARD_EXPIRED", "PAYEE_BLOCKED_TRANSACTION"}


def unreachable():
    return PaymentError(_("The payment service could not be reached. Nothing was charged; please try again in a "
                          "moment."), retry=True)


def declined():
    return PaymentDeclinedError(_("PayPal declined the payment. Nothing was charged; please try again or choose "
                                  "another way to pay."), retry=True)


def _amount(value):
    return f"{value:.2f}"


def as_dict(value):
    return value if isinstance(value, dict) else {}


def as_list(value):
    return value if isinstance(value, list) else []


def as_text(value):
    return value if isinstance(value, str) else ""


def capture_of(order):
    """The first capture of an order (dict), or None (also for anything not shaped like an order)."""
    for unit in as_list(as_dict(order).get("purchase_units")):
        captures = as_list(as_dict(as_dict(unit).get("payments")).get("captures"))
        if captures:
            return as_dict(captures[0]) or None
    return None


class PaypalClient:
    def __init__(self, settings_row):
        self.organization = settings_row.organization
        self.client_id = settings_row.paypal_client_id
        self.secret = credential_open(settings_row, "paypal_secret_sealed")
        self.webhook_id = settings_row.paypal_webhook_id
        if not (self.client_id and self.secret):
            raise self._misconfigured()
        self.base = (settings.PAYPAL_API_BASE_LIVE if settings_row.paypal_mode == PaypalMode.LIVE
                     else settings.PAYPAL_API_BASE_SANDBOX).rstrip("/")
        # The key changes with the credentials: new ones never reuse a token of the old.
        fingerprint = hashlib.sha256(f"{self.base}|{self.client_id}|{self.secret}".encode()).hexdigest()[:16]
        self.token_key = f"payments:paypal-token:{self.organization.pk}:{fingerprint}"

    def _misconfigured(self):
        log.error("PayPal refused the credentials of organisation %s", self.organization.pk)
        return PaymentError(_("Online payment is not set up correctly; please contact %(organization)s.")
                            % {"organization": self.organization.name}, retry=False)

    def _token(self, *, fresh=False):
        token = None if fresh else cache.get(self.token_key)
        if token:
            return token
        try:
            response = requests.post(f"{self.base}/v1/oauth2/token", auth=(self.client_id, self.secret),
                                     data={"grant_type": "client_credentials"},
                                     headers={"Accept": "application/json"}, timeout=TIMEOUT)
        except requests.RequestException as error:
            raise unreachable() from error
        if response.status_code in (400, 401, 403):
            raise self._misconfigured()
        if not response.ok:
            log.warning("PayPal token request answered HTTP %s for organisation %s", response.status_code,
                        self.organization.pk)
            raise unreachable()
        try:
            data = response.json()
        except ValueError:
            data = None
        token = as_dict(data).get("access_token")
        if not (isinstance(token, str) and token):
            log.warning("PayPal token answer without a token for organisation %s", self.organization.pk)
            raise unreachable()
        expires_in = as_dict(data).get("expires_in")
        lifetime = (expires_in if isinstance(expires_in, int) else 0) - TOKEN_MARGIN
        if lifetime > 0:
            cache.set(self.token_key, token, lifetime)
        return token

    def _request(self, method, path, *, body=None, request_id=None):
        """PayPal's JSON answer; PaymentError for anything else. A token PayPal no longer accepts is renewed once."""
        for fresh in (False, True):
            headers = {"Authorization": f"Bearer {self._token(fresh=fresh)}", "Content-Type": "application/json",
                       "Prefer": "return=representation"}
            if request_id:
                headers["PayPal-Request-Id"] = request_id
            try:
                response = requests.request(method, f"{self.base}{path}", json=body, headers=headers,
                                            timeout=TIMEOUT)
            except requests.RequestException as error:
                raise unreachable() from error
            if response.status_code != 401:
                break
            cache.delete(self.token_key)
        if response.status_code in (401, 403):
            raise self._misconfigured()
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = None
        if response.ok:
            if not isinstance(data, dict):
                log.warning("PayPal %s %s answered HTTP %s without a JSON object for organisation %s", method,
                            path, response.status_code, self.organization.pk)
                raise unreachable()
            return data
        data = as_dict(data)
        issues = {as_text(as_dict(detail).get("issue")) for detail in as_list(data.get("details"))}
        if issues & DECLINED_ISSUES:
            raise declined()
        # Never PayPal's body (it may echo the payer's details): the status, PayPal's error name and debug id.
        log.warning("PayPal %s %s answered HTTP %s (%s, %s, debug id %s) for organisation %s", method, path,
                    response.status_code, as_text(data.get("name"))[:100], ",".join(sorted(issues))[:200],
                    as_text(data.get("debug_id"))[:100], self.organization.pk)
        if response.status_code >= 500:
            raise unreachable()
        raise PaymentError(_("The payment service could not handle the payment just now. Nothing was charged; "
                             "please try again in a moment."), retry=True)

    def order_create(self, payment, *, return_url, cancel_url):
        """An order for the payment's total (net + VAT). Returns (order id, the payer's approve link)."""
        currency = payment.currency
        reference = str(payment.reference)
        body = {
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": reference,
                "custom_id": reference,
                "invoice_id": reference,
                "description": payment.description[:127],
                "amount": {
                    "currency_code": currency, "value": _amount(payment.total_amount),
                    "breakdown": {"item_total": {"currency_code": currency, "value": _amount(payment.net_amount)},
                                  "tax_total": {"currency_code": currency, "value": _amount(payment.vat_amount)}},
                },
                "items": [{
                    "name": payment.description[:127], "quantity": "1", "category": "DIGITAL_GOODS",
                    "unit_amount": {"currency_code": currency, "value": _amount(payment.net_amount)},
                    "tax": {"currency_code": currency, "value": _amount(payment.vat_amount)},
                }],
            }],
            "payment_source": {"paypal": {"experience_context": {
                "return_url": return_url,
                "cancel_url": cancel_url,
                "user_action": "PAY_NOW",
                "shipping_preference": "NO_SHIPPING",
                # F-PAY-3 allows paying by card as a guest: PayPal picks its login page or its card form for
                # each payer, instead of always starting at the login page.
                "landing_page": "NO_PREFERENCE",
                "brand_name": (payment.organization.name or "")[:127],
                "locale": LOCALES.get((payment.language or "")[:2], "en-US"),
            }}},
        }
        order = self._request("POST", "/v2/checkout/orders", body=body, request_id=f"order-{reference}")
        links = {as_text(as_dict(link).get("rel")): as_text(as_dict(link).get("href"))
                 for link in as_list(order.get("links"))}
        approve = links.get("payer-action") or links.get("approve")
        order_id = as_text(order.get("id"))
        if not order_id or not approve:
            log.error("PayPal order without id or approve link for payment %s", reference)
            raise unreachable()
        return order_id, approve

    def order_get(self, order_id):
        return self._request("GET", f"/v2/checkout/orders/{order_id}")

    def order_capture(self, payment):
        return self._request("POST", f"/v2/checkout/orders/{payment.provider_checkout_id}/capture", body={},
                             request_id=f"capture-{payment.reference}")

    def refund_create(self, payment, *, whole_capture=False):
        """Refund the payment's capture: its total, or (whole_capture) whatever PayPal captured, when that is not
        the amount we asked."""
        body = {"invoice_id": str(payment.reference)}
        if not whole_capture:
            body["amount"] = {"currency_code": payment.currency, "value": _amount(payment.total_amount)}
        return self._request("POST", f"/v2/payments/captures/{payment.provider_payment_id}/refund", body=body,
                             request_id=f"refund-{payment.reference}")

    def webhook_verify(self, headers, event):
        """True when PayPal confirms the signature of this delivery for the organisation's webhook."""
        body = {
            "auth_algo": headers.get("PAYPAL-AUTH-ALGO", ""),
            "cert_url": headers.get("PAYPAL-CERT-URL", ""),
            "transmission_id": headers.get("PAYPAL-TRANSMISSION-ID", ""),
            "transmission_sig": headers.get("PAYPAL-TRANSMISSION-SIG", ""),
            "transmission_time": headers.get("PAYPAL-TRANSMISSION-TIME", ""),
            "webhook_id": self.webhook_id,
            "webhook_event": event,
        }
        try:
            answer = self._request("POST", "/v1/notifications/verify-webhook-signature", body=body)
        except PaymentError as error:
            raise ProviderUnavailableError(str(error)) from error
        return as_dict(answer).get("verification_status") == "SUCCESS"


def webhook_event(settings_row, payload, headers, *, now=None):
    """The verified event as a dict, or WebhookRefusedError (stale or missing transmission time, not JSON, PayPal says
    the signature is wrong). ProviderUnavailableError when PayPal cannot be asked."""
    if not settings_row.paypal_configured:
        raise WebhookRefusedError("PayPal is not set up for this organisation")
    try:
        sent = parse_datetime(headers.get("PAYPAL-TRANSMISSION-TIME") or "")
    except ValueError:
        sent = None
    if sent is None or timezone.is_naive(sent):
        raise WebhookRefusedError("missing or unreadable transmission time")
    now = now or timezone.now()
    tolerance = timedelta(seconds=settings.PAYMENTS_WEBHOOK_TOLERANCE_SECONDS)
    if not (now - tolerance <= sent <= now + tolerance):
        raise WebhookRefusedError("transmission time outside the tolerance")
    try:
        event = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as error:
        raise WebhookRefusedError("not JSON") from error
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and isinstance(event.get("event_type"), str)
            and isinstance(event.get("resource"), dict)):
        raise WebhookRefusedError("not a PayPal event")
    try:
        client = PaypalClient(settings_row)
    except PaymentError as error:
        raise WebhookRefusedError("PayPal is not set up for this organisation") from error
    if not client.webhook_verify(headers, event):
        raise WebhookRefusedError("PayPal did not confirm the signature")
    return event


def event_time(event):
    try:
        value = parse_datetime(event.get("create_time") or "") if isinstance(event.get("create_time"), str) else None
    except ValueError:
        return None
    return value if isinstance(value, datetime) and not timezone.is_naive(value) else None
