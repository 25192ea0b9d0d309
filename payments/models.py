"""Paid consultations (F-PAY): the organisation's provider credentials, rates and VAT rules, the charge an
appointment carries, one Payment per attempt to pay it, refunds, and the provider events already processed.

Money is Decimal with two places in the rate's currency (every currency we offer has two minor digits).
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from orgs.models import OrganizationOwned

CURRENCIES = [("EUR", "EUR (€)"), ("USD", "USD ($)"), ("GBP", "GBP (£)"), ("CHF", "CHF"), ("SEK", "SEK"),
              ("DKK", "DKK"), ("NOK", "NOK"), ("PLN", "PLN"), ("CZK", "CZK")]


class ClientType(models.TextChoices):
    PRIVATE = "private", _("Private person")
    BUSINESS = "business", _("Business")


class Provider(models.TextChoices):
    STRIPE = "stripe", _("Card (Stripe)")
    PAYPAL = "paypal", _("PayPal")


class PaypalMode(models.TextChoices):
    SANDBOX = "sandbox", _("Sandbox (test payments)")
    LIVE = "live", _("Live")


class PaymentSettings(OrganizationOwned):
    """One per organisation. Secrets are sealed (payments/credentials.py) and never shown again in full."""

    organization = models.OneToOneField("orgs.Organization", on_delete=models.CASCADE, related_name="payment_settings")
    enabled = models.BooleanField(
        _("payments on"), default=False,
        help_text=_("When on, appointments and widgets can carry a rate and clients pay before the waiting room "
                    "opens."),
    )
    seller_name = models.CharField(_("name on receipts"), max_length=200, blank=True,
                                   help_text=_("Your legal name. Empty: the organisation's name."))
    seller_country = CountryField(_("your country"), default="NL",
                                  help_text=_("Where your organisation is established; decides EU reverse charge."))
    seller_vat_number = models.CharField(_("your VAT number"), max_length=20, blank=True)
    stripe_secret_key_sealed = models.BinaryField(editable=False, default=bytes)
    stripe_secret_key_hint = models.CharField(max_length=12, blank=True, editable=False)
    stripe_webhook_secret_sealed = models.BinaryField(editable=False, default=bytes)
    paypal_client_id = models.CharField(_("PayPal client ID"), max_length=200, blank=True)
    paypal_secret_sealed = models.BinaryField(editable=False, default=bytes)
    paypal_mode = models.CharField(_("PayPal environment"), max_length=8, choices=PaypalMode.choices,
                                   default=PaypalMode.SANDBOX)
    paypal_webhook_id = models.CharField(
        _("PayPal webhook ID"), max_length=64, blank=True,
        help_text=_("Shown by PayPal after you add the webhook address below; needed to verify its messages."),
    )
    receipt_sequence = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")

    def __str__(self):
        return str(_("Payment settings"))

    @property
    def stripe_configured(self):
        return bool(self.stripe_secret_key_sealed) and bool(self.stripe_webhook_secret_sealed)

    @property
    def paypal_configured(self):
        return bool(self.paypal_client_id) and bool(self.paypal_secret_sealed) and bool(self.paypal_webhook_id)

    def providers(self):
        """The providers a client can choose now, in the order offered."""
        if not self.enabled:
            return []
        return [p for p, ok in ((Provider.STRIPE, self.stripe_configured), (Provider.PAYPAL, self.paypal_configured))
                if ok]


class Rate(OrganizationOwned):
    name = models.CharField(_("name"), max_length=100, help_text=_("What the client sees, e.g. “Consultation 20 min”."))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.50"))],
                                 help_text=_("Before VAT. VAT is added by your VAT rules."))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="EUR")
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Inactive rates cannot be chosen for new appointments."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="payments_rate_name_unique_in_org"),
            models.CheckConstraint(condition=Q(amount__gte=Decimal("0.50")), name="payments_rate_amount_min"),
        ]

    def __str__(self):
        return f"{self.name} ({self.currency} {self.amount})"


class VatRule(OrganizationOwned):
    """The VAT percentage for clients of one country (empty: every country without a rule of its own) and type."""

    country = CountryField(_("client's country"), blank=True,
                           help_text=_("Empty: every country that has no rule of its own."))
    client_type = models.CharField(_("client type"), max_length=10, choices=ClientType.choices)
    percent = models.DecimalField(_("VAT %"), max_digits=5, decimal_places=2,
                                  validators=[MinValueValidator(0), MaxValueValidator(100)])
    note = models.CharField(_("note on the receipt"), max_length=200, blank=True,
                            help_text=_("For example the legal ground of an exemption for medical care."))

    class Meta:
        verbose_name = _("VAT rule")
        verbose_name_plural = _("VAT rules")
        ordering = ["country", "client_type"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "country", "client_type"],
                                    name="payments_vatrule_unique_in_org"),
            models.CheckConstraint(condition=Q(percent__gte=0) & Q(percent__lte=100),
                                   name="payments_vatrule_percent_range"),
        ]

    def __str__(self):
        return f"{self.country.name if self.country else _('Other countries')} · {self.get_client_type_display()}"


class Charge(OrganizationOwned):
    """An appointment the client pays for before the waiting room opens. Name, amount and currency are copied
    from the rate: what the client was told does not change when the rate is edited later."""

    appointment = models.OneToOneField("consult.Appointment", on_delete=models.CASCADE, related_name="charge")
    rate = models.ForeignKey(Rate, null=True, blank=True, on_delete=models.SET_NULL, related_name="charges")
    name = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, choices=CURRENCIES)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payments_charge_amount_positive")]

    def __str__(self):
        return f"{self.name} ({self.currency} {self.amount})"


class PaymentStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the client")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired or abandoned")
    # The provider has the money but it must go back (a duplicate, a late payment, a changed price): never PAID,
    # REFUNDED only once the provider confirms the refund.
    REFUND_PENDING = "refund_pending", _("Being refunded")
    REFUNDED = "refunded", _("Refunded")


class Payment(OrganizationOwned):
    """One attempt to pay a charge: the amounts as computed for this client, the provider's ids, the outcome.
    Kept for the bookkeeping when the appointment is anonymised or deleted."""

    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appointment = models.ForeignKey("consult.Appointment", null=True, on_delete=models.SET_NULL,
                                    related_name="payments")
    participant = models.ForeignKey("consult.AppointmentParticipant", null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    provider = models.CharField(_("provider"), max_length=8, choices=Provider.choices)
    status = models.CharField(_("status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.OPEN)
    description = models.CharField(_("description"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES)
    net_amount = models.DecimalField(_("amount before VAT"), max_digits=10, decimal_places=2)
    vat_percent = models.DecimalField(_("VAT %"), max_digits=5, decimal_places=2)
    vat_amount = models.DecimalField(_("VAT"), max_digits=10, decimal_places=2)
    total_amount = models.DecimalField(_("total"), max_digits=10, decimal_places=2)
    reverse_charge = models.BooleanField(_("VAT reverse charged"), default=False)
    vat_note = models.CharField(max_length=200, blank=True)
    client_type = models.CharField(_("client type"), max_length=10, choices=ClientType.choices)
    billing_country = CountryField(_("country"))
    billing_name = models.CharField(_("name"), max_length=200)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    billing_email = models.EmailField(_("email"))
    language = models.CharField(max_length=8, default="nl")
    provider_checkout_id = models.CharField(_("checkout id at the provider"), max_length=255, blank=True)
    provider_payment_id = models.CharField(_("payment id at the provider"), max_length=255, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    receipt_number = models.CharField(_("receipt number"), max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at"]
        constraints = [
            # Never two paid payments for one appointment: a second one that the provider confirms anyway
            # (two tabs, two providers) is recorded as paid only once, the other is refunded.
            models.UniqueConstraint(fields=["appointment"], condition=Q(status="paid"),
                                    name="payments_one_paid_per_appointment"),
            models.UniqueConstraint(fields=["provider", "provider_checkout_id"],
                                    condition=~Q(provider_checkout_id=""), name="payments_checkout_id_unique"),
            models.UniqueConstraint(fields=["organization", "receipt_number"], condition=~Q(receipt_number=""),
                                    name="payments_receipt_number_unique_in_org"),
            models.CheckConstraint(condition=Q(total_amount=models.F("net_amount") + models.F("vat_amount")),
                                   name="payments_total_is_net_plus_vat"),
        ]
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self):
        return f"{self.get_provider_display()} {self.currency} {self.total_amount} ({self.get_status_display()})"


class RefundReason(models.TextChoices):
    CANCELLED = "cancelled", _("Appointment cancelled")
    DUPLICATE = "duplicate", _("Paid twice")
    CHARGE_CHANGED = "charge_changed", _("Price changed after the checkout opened")
    TOO_LATE = "too_late", _("Paid after the appointment's time")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount differs from the price")
    PROVIDER = "provider", _("Refunded at the provider")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Requested")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class Refund(OrganizationOwned):
    """The full refund of one payment (at most one: the one-to-one makes a second request impossible)."""

    payment = models.OneToOneField(Payment, on_delete=models.CASCADE, related_name="refund")
    reason = models.CharField(_("reason"), max_length=20, choices=RefundReason.choices)
    status = models.CharField(_("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, choices=CURRENCIES)
    provider_refund_id = models.CharField(max_length=255, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")


class WebhookEvent(OrganizationOwned):
    """A provider event already processed: its row is written in the transaction that applies it, so a duplicate
    or concurrent delivery of the same event finds it (or waits on it) and changes nothing twice."""

    provider = models.CharField(max_length=8, choices=Provider.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "provider", "event_id"],
                                               name="payments_event_once_per_org")]
        ordering = ["-received_at"]
