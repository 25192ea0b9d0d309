"""Forms of the organisation admin's payment screens. They check what a person can fix on the form; the services
(payments/settings_services.py) check again before they write."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django_countries import countries
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminDateInput

from .models import ClientType, PaymentSettings, PaymentStatus, Provider, Rate, VatRule
from .settings_services import SECRET_FIELDS, rate_amount_error, secret_format_error
from .vat import normalize_vat_number


def _secret_field(label, help_text):
    return forms.CharField(
        label=label, required=False, strip=True, help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


def _remove_field(label):
    return forms.BooleanField(label=label, required=False)


class PaymentSettingsForm(forms.ModelForm):
    """Secrets are typed, never shown: an empty secret field keeps what is stored, "remove" clears it."""

    stripe_secret_key = _secret_field(gettext_lazy("Stripe secret key"), gettext_lazy(
        "In the Stripe Dashboard: Developers → API keys → Secret key (starts with sk_live_; sk_test_ for test "
        "payments). A restricted key (rk_live_) with write access to Checkout Sessions and Refunds works too."))
    stripe_secret_key_remove = _remove_field(gettext_lazy("Remove the stored Stripe secret key"))
    stripe_webhook_secret = _secret_field(gettext_lazy("Stripe webhook signing secret"), gettext_lazy(
        "In the Stripe Dashboard: Developers → Webhooks → Add endpoint with the address above; then open the "
        "endpoint and click “Reveal” under Signing secret (starts with whsec_)."))
    stripe_webhook_secret_remove = _remove_field(gettext_lazy("Remove the stored webhook signing secret"))
    paypal_secret = _secret_field(gettext_lazy("PayPal secret"), gettext_lazy(
        "On developer.paypal.com: Apps & Credentials → your app → Secret key (choose Live or Sandbox at the top, "
        "the same as the environment above)."))
    paypal_secret_remove = _remove_field(gettext_lazy("Remove the stored PayPal secret"))

    class Meta:
        model = PaymentSettings
        fields = ["enabled", "seller_name", "seller_country", "seller_vat_number", "paypal_client_id", "paypal_mode",
                  "paypal_webhook_id"]
        help_texts = {
            "seller_vat_number": gettext_lazy("As on your invoices, for example NL123456789B01. Printed on receipts."),
            "paypal_client_id": gettext_lazy(
                "On developer.paypal.com: Apps & Credentials → your app → Client ID."),
            "paypal_webhook_id": gettext_lazy(
                "On developer.paypal.com: your app → Webhooks → Add webhook with the address above; PayPal then "
                "shows its Webhook ID. Needed to verify PayPal's messages."),
        }

    def __init__(self, *args, read_only=False, **kwargs):
        super().__init__(*args, **kwargs)
        row = self.instance
        stored = {name: bool(getattr(row, sealed)) for name, sealed in SECRET_FIELDS.items()}
        for name, is_stored in stored.items():
            field = self.fields[name]
            if is_stored:
                if name == "stripe_secret_key" and row.stripe_secret_key_hint:
                    shown = _("•••• set (ends in %(hint)s)") % {"hint": row.stripe_secret_key_hint}
                else:
                    shown = _("•••• set")
                field.widget.attrs["placeholder"] = _("%(shown)s, type to replace") % {"shown": shown}
                field.help_text = f"{shown}. {_('Leave empty to keep it.')} {field.help_text}"
            else:
                del self.fields[f"{name}_remove"]  # nothing stored, nothing to remove
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    def clean(self):
        cleaned_data = super().clean()
        for name in SECRET_FIELDS:
            value = cleaned_data.get(name)
            if value and (message := secret_format_error(name, value)):
                self.add_error(name, message)
        if cleaned_data.get("seller_vat_number") and cleaned_data.get("seller_country"):
            try:
                cleaned_data["seller_vat_number"] = normalize_vat_number(
                    cleaned_data["seller_vat_number"], str(cleaned_data["seller_country"]))
            except ValidationError as error:
                self.add_error("seller_vat_number", error)
        return cleaned_data

    def settings_values(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def secrets(self):
        """{secret: plaintext} to change: typed ones replace, "remove" without a new value clears (""),
        the others are left out and stay as they are."""
        changes = {}
        for name in SECRET_FIELDS:
            if self.cleaned_data.get(name):
                changes[name] = self.cleaned_data[name]
            elif self.cleaned_data.get(f"{name}_remove"):
                changes[name] = ""
        return changes


class RateForm(WagtailAdminModelForm):
    class Meta:
        model = Rate
        fields = ["name", "amount", "currency", "is_active"]

    def clean(self):
        cleaned_data = super().clean()
        if (message := rate_amount_error(cleaned_data.get("amount"), cleaned_data.get("currency"))) is not None:
            self.add_error("amount", message)
        return cleaned_data


class VatRuleForm(WagtailAdminModelForm):
    class Meta:
        model = VatRule
        fields = ["country", "client_type", "percent", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Every other country"))] + list(countries)


class PaymentFilterForm(forms.Form):
    date_from = forms.DateField(label=pgettext_lazy("date range", "From"), required=False, widget=AdminDateInput)
    date_to = forms.DateField(label=pgettext_lazy("date range", "To"), required=False, widget=AdminDateInput)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=[("", gettext_lazy("All"))] + PaymentStatus.choices)
    provider = forms.ChoiceField(label=gettext_lazy("Provider"), required=False,
                                 choices=[("", gettext_lazy("All"))] + Provider.choices)

    def clean(self):
        cleaned_data = super().clean()
        start, end = cleaned_data.get("date_from"), cleaned_data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned_data


class VatPreviewForm(forms.Form):
    """“Try it”: what a client of this country and type pays for a rate."""

    rate = forms.ModelChoiceField(label=gettext_lazy("Rate"), queryset=Rate.objects.none())
    country = forms.ChoiceField(label=gettext_lazy("Client's country"), choices=[])
    client_type = forms.ChoiceField(label=gettext_lazy("Client type"), choices=ClientType.choices)
    vat_number = forms.CharField(label=gettext_lazy("Client's VAT number"), required=False, max_length=20)

    def __init__(self, *args, rates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rate"].queryset = rates
        # Built per form, not at import: django-countries names the countries in the active (admin's) language.
        self.fields["country"].choices = list(countries)

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("vat_number") and cleaned_data.get("country"):
            try:
                cleaned_data["vat_number"] = normalize_vat_number(cleaned_data["vat_number"], cleaned_data["country"])
            except ValidationError as error:
                self.add_error("vat_number", error)
        return cleaned_data
