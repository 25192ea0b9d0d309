"""The visitor's details, asked as the widget is set up (step 3 of the wizard)."""

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import IntakeChoice


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _asked(setting):
    return setting in (IntakeChoice.OPTIONAL, IntakeChoice.REQUIRED)


class VisitorForm(forms.Form):
    """Name always; date of birth, email, phone, client number and the terms as the widget asks."""

    token = forms.CharField(widget=forms.HiddenInput)
    given_name = forms.CharField(
        label=_("First name or initials"), max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput(attrs={"autocomplete": "bday"}))
    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(
        label=_("Phone number"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    client_number = forms.CharField(label=_("Client number"), max_length=60)
    accept_terms = forms.BooleanField(label=_("I accept the terms"))

    # Booking needs a date of birth and an email: the client is recognised by them and the link is emailed.
    always_required = ()

    def __init__(self, *args, widget, **kwargs):
        super().__init__(*args, **kwargs)
        self.widget = widget
        # A paid consult needs an address, asked or not: the receipt goes there, and the way back to the
        # appointment (the pay page) when the visitor leaves it.
        paid = widget.charged_rate() is not None
        for name in ("date_of_birth", "email", "phone", "client_number"):
            setting = getattr(widget, f"ask_{name}")
            if name in self.always_required or (paid and name == "email"):
                self.fields[name].required = True
            elif not _asked(setting):
                del self.fields[name]
            else:
                self.fields[name].required = setting == IntakeChoice.REQUIRED
        if paid:
            self.fields["email"].error_messages["required"] = _(
                "Enter your email address: this consultation is paid, and your receipt and the link to your "
                "appointment are sent there.")
        if widget.ask_accept_terms:
            field = self.fields["accept_terms"]
            field.label = widget.terms_text or _("I accept the terms")
            if widget.terms_url:
                # The link opens in a new tab so the visitor keeps what they typed in the frame.
                field.help_text = format_html(
                    '<a href="{}" target="_blank" rel="noopener">{}</a>', widget.terms_url, _("Read the terms")
                )
        else:
            del self.fields["accept_terms"]

    def clean_date_of_birth(self):
        value = self.cleaned_data.get("date_of_birth")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if value and value.year < 1900:
            raise forms.ValidationError(_("Check the year of birth."))
        return value

    def details(self):
        data = self.cleaned_data
        return {name: data.get(name) or ("" if name != "date_of_birth" else None) for name in (
            "given_name", "last_name", "date_of_birth", "email", "phone", "client_number")}


class WalkInForm(VisitorForm):
    practitioner = forms.CharField(widget=forms.HiddenInput, required=False)
    field_order = ["practitioner"]

    def clean_practitioner(self):
        # "<department id>:<practitioner id>", as the radio buttons of the list name them.
        value = self.cleaned_data.get("practitioner") or ""
        department, _sep, practitioner = value.partition(":")
        if not practitioner.isdigit() or not (department.isdigit() or department == ""):
            raise forms.ValidationError(_("Choose who you would like to see."))
        return int(department) if department else None, int(practitioner)


class BookingForm(VisitorForm):
    always_required = ("date_of_birth", "email")
    slot = forms.CharField(widget=forms.HiddenInput)
