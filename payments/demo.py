"""Demo rates and VAT rules for `manage.py demo` (idempotent). Payments stay off and no keys are stored: an
organisation admin turns them on with their own Stripe (test) keys or PayPal sandbox credentials."""

from decimal import Decimal

from orgs.scoping import organization_scope

from .models import ClientType, PaymentSettings, Rate, VatRule

RATES = [("Consultation 20 min", Decimal("45.00")), ("Intake 45 min", Decimal("90.00"))]

# Medical care is often exempt from VAT (in the EU, Article 132 of the VAT Directive); whether this
# organisation's consults are is for its own adviser. The demo charges 21 % everywhere so that every
# figure on checkout pages and receipts is visible; set 0 % with the exemption as note where it applies.
VAT_RULES = [
    ("NL", ClientType.PRIVATE, Decimal("21.00")),
    ("NL", ClientType.BUSINESS, Decimal("21.00")),
    ("", ClientType.PRIVATE, Decimal("21.00")),
    ("", ClientType.BUSINESS, Decimal("21.00")),
]


def payments_demo(organization):
    with organization_scope(organization):
        PaymentSettings.objects.get_or_create(organization=organization, defaults={"enabled": False})
        for name, amount in RATES:
            Rate.objects.get_or_create(organization=organization, name=name,
                                       defaults={"amount": amount, "currency": "EUR"})
        for country, client_type, percent in VAT_RULES:
            VatRule.objects.get_or_create(organization=organization, country=country, client_type=client_type,
                                          defaults={"percent": percent})
