from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.forms import WagtailAdminModelForm

from . import policy
from .models import Department, Membership, Organization, Role

User = get_user_model()


def add_service_errors(form, error):
    """Show a service's ValidationError on the form: on its field when it names one, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["name", "colour"]
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}


def _department_field(member):
    # The queryset is built per form, inside the request's organisation scope, never at import.
    return forms.ModelMultipleChoiceField(
        label=_("Departments"),
        queryset=policy.visible_departments(member, Department.objects.all()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The departments whose clients and appointments this employee works with."),
    )


class EmployeeCreateForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), help_text=_("The invitation to set a password goes here."))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.PRACTITIONER)
    job_title = forms.CharField(label=_("Job title"), max_length=80, required=False)

    def __init__(self, *args, member, instance=None, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["departments"] = _department_field(member)


class EmployeeEditForm(forms.ModelForm):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)

    class Meta:
        model = Membership
        fields = ["first_name", "last_name", "role", "job_title", "is_active"]  # departments: see __init__

    def __init__(self, *args, member, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)
        self.fields["departments"] = _department_field(member)
        self.fields["departments"].initial = self.instance.departments.all()
        user = self.instance.user
        self.fields["first_name"].initial = user.first_name
        self.fields["last_name"].initial = user.last_name
        # A person who also works for another organisation keeps the name they manage themselves.
        self.shared_user = Membership.objects.with_scopes_disabled().filter(user=user).count() > 1
        if self.shared_user:
            for name in ("first_name", "last_name"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Employees change their own name in My profile.")

    def save(self, commit=True):
        membership = super().save(commit=False)
        if not self.shared_user:
            membership.user.first_name = self.cleaned_data["first_name"]
            membership.user.last_name = self.cleaned_data["last_name"]
        if commit:
            membership.save()
            membership.user.save()
            self.save_m2m()
        return membership


class OrganizationCreateForm(forms.ModelForm):
    """Platform staff: a new organisation (with its site, pages, media and groups) and its first admin."""

    admin_email = forms.EmailField(
        label=_("First organisation admin"), required=False,
        help_text=_("Optional: this person gets an invitation to set a password."),
    )
    admin_first_name = forms.CharField(label=_("Their first name"), required=False, max_length=150)
    admin_last_name = forms.CharField(label=_("Their last name"), required=False, max_length=150)

    class Meta:
        model = Organization
        fields = ["name", "subdomain", "plan_name", "max_users", "max_departments", "time_zone", "default_language"]

    def __init__(self, *args, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)

    def _post_clean(self):
        # org_create validates and builds the site tree; the model's own full_clean would fail here
        # because site, pages and groups do not exist yet.
        pass


class OrganizationPlanForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "plan_name", "max_users", "max_departments", "is_active"]

    def __init__(self, *args, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)


# The organisation's texts for clients that may hold *|codes|* (F-TEXT-3).
PLACEHOLDER_TEXT_FIELDS = [
    f"{kind}_{language}"
    for kind in ("waiting_room_text", "after_consult_text") for language in ("nl", "en", "de", "es")
]


class OrganizationSettingsForm(WagtailAdminModelForm):
    """The organisation admin's settings screen: texts with unknown *|codes|* are refused, in the admin's language."""

    def clean(self):
        from consult.placeholders import unknown_placeholders

        cleaned_data = super().clean()
        for name in PLACEHOLDER_TEXT_FIELDS:
            unknown = unknown_placeholders(cleaned_data.get(name)) if name in self.fields else []
            if unknown:
                self.add_error(name, ngettext(
                    "Unknown placeholder %(codes)s. Use only the codes listed on this page.",
                    "Unknown placeholders %(codes)s. Use only the codes listed on this page.",
                    len(unknown),
                ) % {"codes": ", ".join(f"*|{code}|*" for code in unknown)})
        return cleaned_data
