"""The client's billing details on the pay page (F-PAY-3). The form checks what it can see alone; the service
(payments.services.payment_start) checks them again against the organisation's settings before it writes."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from . import selectors
from .models import ClientType
from .vat import normalize_vat_number


class BillingForm(forms.Form):
    client_type = forms.ChoiceField(label=_("I pay as"), choices=ClientType.choices, widget=forms.RadioSelect,
                                    initial=ClientType.PRIVATE)
    country = forms.ChoiceField(label=_("Country"), choices=[])
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("Email for the receipt"), max_length=254)
    company_name = forms.CharField(label=_("Company name"), max_length=200, required=False)
    vat_number = forms.CharField(
        label=_("VAT number"), max_length=20, required=False,
        help_text=_("Optional. A business in another EU country pays no VAT here (reverse charge) once the EU's "
                    "VIES database confirms its VAT number."),
    )
    provider = forms.ChoiceField(label=_("Payment method"), choices=[])

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = list(countries)
        self.fields["provider"].choices = [(p.value, p.label) for p in providers]
        self.fields["name"].widget.attrs.update(autocomplete="name")
        self.fields["email"].widget.attrs.update(autocomplete="email")
        self.fields["country"].widget.attrs.update(autocomplete="country")
        self.fields["company_name"].widget.attrs.update(autocomplete="organization")

    def clean(self):
        data = super().clean()
        if data.get("client_type") == ClientType.BUSINESS:
            if not (data.get("company_name") or "").strip():
                self.add_error("company_name", _("Enter the company's name."))
            if data.get("country") and data.get("vat_number"):
                try:
                    data["vat_number"] = normalize_vat_number(data["vat_number"], data["country"])
                    # VIES's "not registered" is the client's to fix here; its cached answer serves the start too.
                    selectors.vat_number_validate(client_country=data["country"], client_type=data["client_type"],
                                                  vat_number=data["vat_number"])
                except ValidationError as error:
                    self.add_error("vat_number", error.error_dict["vat_number"] if hasattr(error, "error_dict")
                                   else error)
        else:
            # Left over from switching to "business" and back: a private person has neither.
            data["company_name"] = ""
            data["vat_number"] = ""
        return data

    def billing(self):
        """The billing dict payments.services.payment_start takes."""
        data = self.cleaned_data
        return {key: data.get(key) or "" for key in ("client_type", "country", "name", "company_name", "vat_number",
                                                     "email")}

    def quote_inputs(self):
        """(country, client type, VAT number) as entered so far, for the amounts shown while the client fills
        in the form: whatever is not (yet) valid counts as not given."""
        data = self.data if self.is_bound else self.initial
        country = data.get("country") or self.initial.get("country") or ""
        if country not in dict(countries):
            country = self.initial.get("country") or ""
        client_type = data.get("client_type") if data.get("client_type") in ClientType.values else ClientType.PRIVATE
        vat_number = ""
        if client_type == ClientType.BUSINESS:
            try:
                vat_number = normalize_vat_number(data.get("vat_number", ""), country)
            except ValidationError:
                vat_number = ""
        return country, client_type, vat_number
