"""Shared fixtures for the payments tests: an organisation with payments on and sealed Stripe/PayPal credentials,
a rate, VAT rules, an appointment that carries a charge, payments in a given state, and signed webhook bodies.

Plain functions (the tests of every payments area import them) plus a few pytest fixtures built on them:
`from tests.payments.factories import paying_org, charged_appointment, ...`.
"""

import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from consult import links
from consult.models import Appointment, AppointmentParticipant, Client, ParticipantRole
from orgs.scoping import organization_scope, scopes_disabled
from payments.credentials import credential_seal
from payments.models import (
    Charge,
    ClientType,
    Payment,
    PaymentSettings,
    PaymentStatus,
    PaypalMode,
    Provider,
    Rate,
    VatRule,
)
from payments.selectors import quote

# Per-organisation test credentials: each org's differ, so a webhook signed for one fails on another's host.
STRIPE_SECRET_KEY = "sk_test_{subdomain}_0123456789"
STRIPE_WEBHOOK_SECRET = "whsec_{subdomain}_test_secret"
PAYPAL_CLIENT_ID = "paypal-client-{subdomain}"
PAYPAL_SECRET = "paypal-secret-{subdomain}"
PAYPAL_WEBHOOK_ID = "WH-{subdomain}-0001"


def stripe_secret_key(organization):
    return STRIPE_SECRET_KEY.format(subdomain=organization.subdomain)


def stripe_webhook_secret(organization):
    return STRIPE_WEBHOOK_SECRET.format(subdomain=organization.subdomain)


def paypal_credentials(organization):
    """(client id, secret, webhook id) of `organization`'s sealed PayPal credentials."""
    return (PAYPAL_CLIENT_ID.format(subdomain=organization.subdomain),
            PAYPAL_SECRET.format(subdomain=organization.subdomain),
            PAYPAL_WEBHOOK_ID.format(subdomain=organization.subdomain))


def payments_enable(organization, *, stripe=True, paypal=True, seller_country="NL", enabled=True):
    """The organisation's PaymentSettings with payments on and the providers' credentials sealed."""
    with organization_scope(organization):
        row = PaymentSettings.objects.filter(organization=organization).first() or PaymentSettings(
            organization=organization)
        row.enabled = enabled
        row.seller_country = seller_country
        row.seller_vat_number = "NL123456789B01" if seller_country == "NL" else ""
        credential_seal(row, "stripe_secret_key_sealed", stripe_secret_key(organization) if stripe else "")
        credential_seal(row, "stripe_webhook_secret_sealed", stripe_webhook_secret(organization) if stripe else "")
        row.stripe_secret_key_hint = "…6789" if stripe else ""
        client_id, secret, webhook_id = paypal_credentials(organization)
        row.paypal_client_id = client_id if paypal else ""
        credential_seal(row, "paypal_secret_sealed", secret if paypal else "")
        row.paypal_webhook_id = webhook_id if paypal else ""
        row.paypal_mode = PaypalMode.SANDBOX
        row.save()
    return row


def rate_create(organization, *, name="Consultation 20 min", amount="45.00", currency="EUR"):
    with organization_scope(organization):
        return Rate.objects.create(organization=organization, name=name, amount=Decimal(amount), currency=currency)


# (country, client type, percent): NL 21 % for everyone at home, 21 % for private clients elsewhere by default,
# Germany's own 19 %, and 0 % for businesses outside the EU by default.
DEFAULT_VAT_RULES = [
    ("NL", ClientType.PRIVATE, "21.00"),
    ("NL", ClientType.BUSINESS, "21.00"),
    ("DE", ClientType.PRIVATE, "19.00"),
    ("", ClientType.PRIVATE, "21.00"),
    ("", ClientType.BUSINESS, "0.00"),
]


def vat_rules_create(organization, rules=DEFAULT_VAT_RULES):
    with organization_scope(organization):
        return [VatRule.objects.create(organization=organization, country=country, client_type=client_type,
                                       percent=Decimal(percent)) for country, client_type, percent in rules]


def paying_org(organization, **kwargs):
    """Payments on with both providers, one rate (EUR 45.00) and the default VAT rules. Returns the rate."""
    payments_enable(organization, **kwargs)
    vat_rules_create(organization)
    return rate_create(organization)


def charged_appointment(organization, *, rate=None, starts_in=timedelta(days=1), email="client@example.test",
                        language="en"):
    """An appointment with one client participant and a charge at `rate` (a new EUR 45.00 rate when None).
    Returns (appointment, participant, charge). Rows are written directly: booking rules are not under test."""
    rate = rate or rate_create(organization, name=f"Consult {uuid.uuid4().hex[:6]}")
    practitioner = organization.people["gp"]
    with organization_scope(organization):
        client = Client.objects.create(organization=organization, initials="J.", last_name="Jansen", email=email,
                                       language=language)
        appointment = Appointment.objects.create(
            organization=organization, practitioner=practitioner, department=organization.departments_by_name["gp"],
            client=client, starts_at=timezone.now() + starts_in, duration_minutes=20,
        )
        # A real personal link (links.token_for(participant.token_nonce)) so the client-flow tests can open it.
        nonce = links.new_nonce()
        participant = AppointmentParticipant.objects.create(
            organization=organization, appointment=appointment, person=client, role=ParticipantRole.CLIENT,
            token_nonce=nonce, token_hash=links.token_hash(links.token_for(nonce)),
        )
        charge = Charge.objects.create(organization=organization, appointment=appointment, rate=rate, name=rate.name,
                                       amount=rate.amount, currency=rate.currency)
    return appointment, participant, charge


BILLING_PRIVATE_NL = {"client_type": ClientType.PRIVATE, "country": "NL", "name": "Jan Jansen", "company_name": "",
                      "vat_number": "", "email": "client@example.test"}


def payment_make(participant, *, provider=Provider.STRIPE, status=PaymentStatus.OPEN, billing=None, **fields):
    """A Payment row for `participant`'s charge as payment_start would store it (no provider call).
    Stripe: checkout id "cs_test_<hex>", PayPal: order id "ORDER<HEX>"; override with fields."""
    billing = {**BILLING_PRIVATE_NL, **(billing or {})}
    appointment = participant.appointment
    organization = appointment.organization
    with organization_scope(organization):
        charge = Charge.objects.get(appointment=appointment)
        amounts = quote(organization=organization, charge=charge, client_country=billing["country"],
                        client_type=billing["client_type"], vat_number=billing["vat_number"])
        checkout_id = (f"cs_test_{uuid.uuid4().hex}" if provider == Provider.STRIPE
                       else f"ORDER{uuid.uuid4().hex[:12].upper()}")
        values = dict(
            organization=organization, appointment=appointment, participant=participant, provider=provider,
            status=status, description=charge.name, currency=charge.currency, net_amount=amounts.net,
            vat_percent=amounts.percent, vat_amount=amounts.vat, total_amount=amounts.total,
            reverse_charge=amounts.reverse_charge, vat_note=amounts.note, client_type=billing["client_type"],
            billing_country=billing["country"], billing_name=billing["name"], company_name=billing["company_name"],
            vat_number=billing["vat_number"], billing_email=billing["email"], language="en",
            provider_checkout_id=checkout_id, checkout_url=f"https://checkout.test/{checkout_id}",
        )
        if status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
            values.update(paid_at=timezone.now(),
                          provider_payment_id=(f"pi_test_{uuid.uuid4().hex[:16]}" if provider == Provider.STRIPE
                                               else f"CAPTURE{uuid.uuid4().hex[:10].upper()}"))
        values.update(fields)
        return Payment.objects.create(**values)


def minor_units(amount):
    return int((Decimal(amount) * 100).to_integral_value())


# --- Stripe webhooks ---------------------------------------------------------------------------------------

def stripe_signature(payload, secret, timestamp=None):
    """The Stripe-Signature header for `payload` (str), by Stripe's scheme: t=<ts>,v1=<hmac_sha256(ts.payload)>."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_session_event(payment, *, event_type="checkout.session.completed", event_id=None, payment_status="paid",
                         amount_total=None, currency=None, organization_id=None, reference=None, created=None,
                         payment_intent=None):
    """A Stripe event (dict) about `payment`'s Checkout Session, as Stripe sends it."""
    created = int(time.time()) if created is None else created
    session = {
        "id": payment.provider_checkout_id,
        "object": "checkout.session",
        "amount_total": minor_units(payment.total_amount) if amount_total is None else amount_total,
        "currency": (currency or payment.currency).lower(),
        "client_reference_id": str(reference or payment.reference),
        "metadata": {"payment": str(reference or payment.reference),
                     "organization": str(organization_id or payment.organization_id)},
        "mode": "payment",
        "payment_intent": payment_intent or f"pi_test_{payment.reference.hex[:16]}",
        "payment_status": payment_status,
        "status": "complete" if event_type != "checkout.session.expired" else "expired",
    }
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created,
        "livemode": False,
        "type": event_type,
        "data": {"object": session},
    }


def stripe_webhook_post(client, organization, event, *, secret=None, timestamp=None):
    """POST `event` to the organisation's Stripe webhook with a valid (or `secret`'s) signature."""
    from django.urls import reverse

    payload = json.dumps(event)
    header = stripe_signature(payload, secret or stripe_webhook_secret(organization), timestamp)
    return client.post(reverse("payments:stripe_webhook"), data=payload, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header)


# --- pytest fixtures ---------------------------------------------------------------------------------------

@pytest.fixture
def alpha_pay(alpha):
    """alpha with payments on; `alpha_pay.rate` is its EUR 45.00 rate."""
    alpha.rate = paying_org(alpha)
    return alpha


@pytest.fixture
def beta_pay(beta):
    beta.rate = paying_org(beta)
    return beta


@pytest.fixture
def charged(alpha_pay):
    """(appointment, participant, charge) of alpha at EUR 45.00."""
    return charged_appointment(alpha_pay, rate=alpha_pay.rate)


def reload(obj):
    with scopes_disabled():
        return type(obj).objects.get(pk=obj.pk)
