import zoneinfo
from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from formbuilder.models import Questionnaire
from formbuilder.selectors import questionnaires_for
from orgs import policy
from orgs.models import Department
from payments.models import Rate

from .models import FIXED_TEXT_KINDS, Availability, Client, EmailSet, EmailTemplate, ParticipantGroup
from .placeholders import PLACEHOLDERS, unknown_placeholders
from .services import departments_for_appointments, practitioners_for
from .slots import normalise_rrule


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


def local_start(day, at, organization):
    """The instant of a local date and time, refusing the hour skipped when clocks go forward."""
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    moment = datetime.combine(day, at, tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise forms.ValidationError(
            _("%(time)s does not exist on this day: the clocks go forward. Choose another time.")
            % {"time": at.strftime("%H:%M")}
        )
    return moment


class ClientForm(forms.ModelForm):
    groups = forms.ModelMultipleChoiceField(
        label=_("Groups"), queryset=ParticipantGroup.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For external participants: the groups they belong to, e.g. family or home care."),
    )

    class Meta:
        model = Client
        fields = ["initials", "first_name", "last_name", "date_of_birth", "email", "phone", "client_number",
                  "language"]  # department: see __init__
        widgets = {
            "date_of_birth": DateInput(),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args, member, external=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member
        visible = policy.visible_departments(member, Department.objects.all())
        self.fields["department"] = forms.ModelChoiceField(
            label=_("Department"), required=False, queryset=visible, initial=self.instance.department_id,
        )
        stored = self.instance.department_id
        if stored and not visible.filter(pk=stored).exists():
            # One's own client in another department (strict segregation): it stays where it is.
            self.fields["department"].queryset = Department.objects.filter(pk=stored)
            self.fields["department"].disabled = True
            self.fields["department"].help_text = _("Only someone who sees both departments can move this client.")
        elif member.organization.strict_departments and not policy.sees_whole_organization(member):
            self.fields["department"].required = True
        self.fields["date_of_birth"].required = not external
        if external:
            self.fields["groups"].queryset = ParticipantGroup.objects.filter(organization=member.organization)
            if self.instance.pk:
                self.fields["groups"].initial = self.instance.groups.all()
        else:
            del self.fields["groups"]
        self.fields["language"].initial = self.instance.language if self.instance.pk else (
            member.organization.default_language
        )


class ClientSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False,
                        help_text=_("Name, date of birth (YYYY-MM-DD or DD-MM-YYYY), email or client number."))


class AvailabilityForm(forms.ModelForm):
    REPEAT_CHOICES = [
        ("", _("Once")),
        ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", _("Every weekday")),
        ("FREQ=WEEKLY", _("Every week on this day")),
        ("FREQ=WEEKLY;INTERVAL=2", _("Every other week on this day")),
        ("custom", _("Custom rule (RRULE)")),
    ]
    repeat = forms.ChoiceField(label=_("Repeats"), choices=REPEAT_CHOICES, required=False)

    class Meta:
        model = Availability
        fields = ["kind", "date", "start_time", "end_time", "repeat", "rrule", "repeat_until", "consult_minutes",
                  "break_minutes"]
        widgets = {"date": DateInput(), "start_time": TimeInput(), "end_time": TimeInput(),
                   "repeat_until": DateInput()}
        labels = {"rrule": _("Custom rule")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rule = self.instance.rrule if self.instance.pk else ""
        presets = {value for value, _label in self.REPEAT_CHOICES}
        if rule and rule.replace(";BYDAY=" + self._weekday(), "") in presets:
            self.fields["repeat"].initial = rule.replace(";BYDAY=" + self._weekday(), "")
        elif rule:
            self.fields["repeat"].initial = "custom"
        self.fields["rrule"].required = False

    def _weekday(self):
        return ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][self.instance.date.weekday()] if self.instance.date else ""

    def clean(self):
        data = super().clean()
        repeat = data.get("repeat")
        if repeat == "custom":
            data["rrule"] = normalise_rrule(data.get("rrule"))
            if not data["rrule"] and "rrule" not in self.errors:
                self.add_error("rrule", _("Enter the rule, for example FREQ=WEEKLY;BYDAY=MO."))
        elif repeat and data.get("date"):
            weekday = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][data["date"].weekday()]
            data["rrule"] = repeat if "BYDAY" in repeat else f"{repeat};BYDAY={weekday}"
        else:
            data["rrule"] = ""
        self.instance.rrule = data.get("rrule", "")
        if data.get("start_time") and data.get("end_time") and data["end_time"] <= data["start_time"]:
            self.add_error("end_time", _("The end must be after the start."))
        return data


def questionnaire_choices(field, member):
    """Fill a questionnaires field with what `member` may send: one entry per translation group, labelled
    with the languages it exists in. False when there is nothing to send."""
    offered = questionnaires_for(member)
    if not offered:
        return False
    languages = {}
    for key, language in (Questionnaire.objects.filter(organization_id=member.organization_id,
                                                        translation_key__in=[q.translation_key for q in offered])
                          .values_list("translation_key", "language")):
        if language:
            languages.setdefault(key, set()).add(language)
    order = [code for code, _name in settings.LANGUAGES]

    def label(questionnaire):
        codes = sorted(languages.get(questionnaire.translation_key, ()),
                       key=lambda code: order.index(code) if code in order else len(order))
        if not codes:
            return questionnaire.title
        names = ", ".join(str(get_language_info(code)["name_translated"]) for code in codes)
        return f"{questionnaire.title} ({names})"

    field.queryset = Questionnaire.objects.filter(pk__in=[q.pk for q in offered]).order_by("title")
    field.label_from_instance = label
    return True


class AppointmentForm(forms.Form):
    """New appointment: practitioner (or department), existing client, time, message, guests."""

    practitioner = forms.ChoiceField(label=_("Practitioner"), required=False)
    department = forms.ModelChoiceField(label=_("Or a department"), queryset=Department.objects.none(),
                                        required=False,
                                        help_text=_("Any practitioner of the department can take the client in."))
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none(), required=False,
                                    help_text=_("Or fill in a new client below."))
    new_initials = forms.CharField(label=_("New client: initials"), max_length=20, required=False)
    new_last_name = forms.CharField(label=_("New client: last name"), max_length=120, required=False)
    new_date_of_birth = forms.DateField(label=_("New client: date of birth"), required=False, widget=DateInput())
    new_email = forms.EmailField(label=_("New client: email"), required=False)
    new_language = forms.ChoiceField(label=_("New client: language"), required=False,
                                     choices=[("", "—")] + list(Client._meta.get_field("language").choices))
    date = forms.DateField(label=_("Date"), widget=DateInput())
    time = forms.TimeField(label=_("Time"), widget=TimeInput())
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=5, max_value=480, initial=20)
    client_number = forms.CharField(label=_("Client number"), max_length=60, required=False)
    personal_message = forms.CharField(label=_("Personal message for the email"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 3}))
    guests = forms.ModelMultipleChoiceField(
        label=_("Extra participants"), queryset=Client.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("External participants (family, home care) who join while the client is present."),
    )
    questionnaires = forms.ModelMultipleChoiceField(
        label=_("Questionnaires"), queryset=Questionnaire.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The client gets them in their own language where there is a version in it, with an email "
                    "that links to their patient portal."),
    )

    paid = forms.BooleanField(label=_("Paid consult"), required=False,
                              help_text=_("The client pays online before the waiting room opens."))
    rate = forms.ModelChoiceField(label=_("Rate"), queryset=Rate.objects.none(), required=False)

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member
        if not questionnaire_choices(self.fields["questionnaires"], member):
            del self.fields["questionnaires"]
        if not rate_choices(self.fields["rate"], member):
            del self.fields["paid"], self.fields["rate"]
        self.practitioners = {str(p.pk): p for p in practitioners_for(member)}
        self.fields["practitioner"].choices = [("", "—")] + [
            (pk, f"{p.user.get_full_name() or p.user.email}") for pk, p in self.practitioners.items()
        ]
        from .selectors import clients_for

        self.fields["client"].queryset = clients_for(member, external=False)
        self.fields["guests"].queryset = clients_for(member, external=True)
        if member.organization.strict_departments:
            self.fields["department"].queryset = departments_for_appointments(member)
        else:
            del self.fields["department"]

    def clean(self):
        data = super().clean()
        practitioner = self.practitioners.get(data.get("practitioner") or "")
        data["practitioner"] = practitioner
        new_fields = ("new_initials", "new_last_name", "new_date_of_birth", "new_email")
        if not data.get("client"):
            if not any(data.get(name) for name in new_fields):
                self.add_error("client", _("Choose a client, or fill in a new one."))
            else:
                for name in new_fields:
                    if not data.get(name) and name not in self.errors:
                        self.add_error(name, _("Needed for a new client."))
        if practitioner is None and not data.get("department"):
            self.add_error("practitioner", _("Choose a practitioner."))
        charge_clean(self, data)
        if data.get("date") and data.get("time"):
            try:
                data["starts_at"] = local_start(data["date"], data["time"], self.member.organization)
            except forms.ValidationError as error:
                self.add_error("time", error)
        return data


def rate_choices(field, member, appointment=None):
    """Offer the organisation's active rates when it has payments on and `member` may set them. False: no
    choice for this member (the charge is then shown read-only, if any)."""
    from payments.selectors import settings_for

    if not settings_for(member.organization).enabled or not policy.can_set_appointment_rate(member, appointment):
        return False
    field.queryset = Rate.objects.filter(organization_id=member.organization_id, is_active=True)
    field.label_from_instance = rate_label
    return True


def rate_label(rate):
    """"Consultation 20 min — €45.00 excl. VAT": staff see what the client is charged before VAT, written as the
    emails and the appointment page write it."""
    from payments.charges import money

    return _("%(name)s — %(amount)s excl. VAT") % {"name": rate.name, "amount": money(rate.amount, rate.currency)}


def charge_clean(form, data):
    """"Paid consult" needs a rate; unticked, the appointment is free (rate None)."""
    if "rate" not in form.fields:
        data["rate"] = None
        return
    if data.get("paid") and not data.get("rate"):
        form.add_error("rate", _("Choose the rate of this paid consult."))
    data["rate"] = data.get("rate") if data.get("paid") else None


class ChargeForm(forms.Form):
    """The charge of an existing appointment (F-PAY-2), on its page."""

    paid = forms.BooleanField(label=_("Paid consult"), required=False,
                              help_text=_("The client pays online before the waiting room opens. Untick to make "
                                          "it free."))
    rate = forms.ModelChoiceField(label=_("Rate"), queryset=Rate.objects.none(), required=False)

    def __init__(self, *args, member, appointment, **kwargs):
        super().__init__(*args, **kwargs)
        self.offered = rate_choices(self.fields["rate"], member, appointment)

    def clean(self):
        data = super().clean()
        charge_clean(self, data)
        return data


class RescheduleForm(forms.Form):
    date = forms.DateField(label=_("New date"), widget=DateInput())
    time = forms.TimeField(label=_("New time"), widget=TimeInput())
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=5, max_value=480)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("time"):
            try:
                data["starts_at"] = local_start(data["date"], data["time"], self.organization)
            except forms.ValidationError as error:
                self.add_error("time", error)
        return data


class DetailsForm(forms.Form):
    client_number = forms.CharField(label=_("Client number"), max_length=60, required=False)
    personal_message = forms.CharField(label=_("Personal message"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 3}),
                                       help_text=_("When you change it, the client gets an updated email."))


class CancelForm(forms.Form):
    message = forms.CharField(label=_("Message to the client (optional)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))


class AnnouncementForm(forms.Form):
    text = forms.CharField(label=_("Announcement"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Shown at once to everyone waiting, e.g. “We are running 15 minutes late.”"))
    department = forms.ModelChoiceField(label=_("For"), queryset=Department.objects.none(), required=False,
                                        empty_label=_("Everyone waiting"))
    expires_at = forms.DateTimeField(label=_("Show until"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                format="%Y-%m-%dT%H:%M"),
                                     help_text=_("Empty: until you delete it."))

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        departments = policy.visible_departments(member, Department.objects.all())
        if member.role != "org_admin":
            departments = departments.filter(pk__in=policy.member_department_ids(member))
            self.fields["department"].required = True
            self.fields["department"].empty_label = None
        self.fields["department"].queryset = departments


class EmailSetForm(forms.ModelForm):
    class Meta:
        model = EmailSet
        fields = ["name", "is_default"]  # departments: see __init__ (querysets are built in the request's scope)

    def __init__(self, *args, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)
        self.fields["departments"] = forms.ModelMultipleChoiceField(
            label=_("Departments"), queryset=Department.objects.all(), required=False,
            widget=forms.CheckboxSelectMultiple, initial=self.instance.departments.all() if self.instance.pk else None,
            help_text=_("Departments whose appointments use these texts."),
        )

    def save_departments(self, email_set):
        email_set.departments.set(self.cleaned_data["departments"])


class EmailTemplateForm(forms.ModelForm):
    """The email text editor: unknown *|codes|* are refused with the list of known ones."""

    class Meta:
        model = EmailTemplate
        fields = ["kind", "language", "subject", "body"]  # email_set: see __init__
        widgets = {"body": forms.Textarea(attrs={"rows": 16})}

    def __init__(self, *args, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)
        self.fields = {"email_set": forms.ModelChoiceField(
            label=_("Email set"), queryset=EmailSet.objects.all(), initial=self.instance.email_set_id
            if self.instance.pk else None), **self.fields}
        self.fields["kind"].choices = [c for c in self.fields["kind"].choices if c[0] not in FIXED_TEXT_KINDS]
        codes = ", ".join(f"*|{code}|* ({description})" for code, description in PLACEHOLDERS.items())
        self.fields["body"].help_text = _("Codes you can use: %(codes)s.") % {"codes": codes}

    def clean(self):
        data = super().clean()
        for field in ("subject", "body"):
            unknown = unknown_placeholders(data.get(field, ""))
            if unknown:
                self.add_error(field, _("Unknown codes: %(codes)s. Known codes: %(known)s.") % {
                    "codes": ", ".join(f"*|{c}|*" for c in unknown),
                    "known": ", ".join(f"*|{c}|*" for c in PLACEHOLDERS),
                })
        if data.get("email_set"):
            self.instance.email_set = data["email_set"]
        return data


class ParticipantGroupForm(forms.ModelForm):
    class Meta:
        model = ParticipantGroup
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)


class RoomParticipantForm(forms.Form):
    """Add someone to a consult in progress (F-ROOM-7): they get their own link by email."""

    first_name = forms.CharField(label=_("First name"), max_length=80,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    last_name = forms.CharField(label=_("Last name"), max_length=120,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    email = forms.EmailField(label=_("Email"), help_text=_("The link to join is sent to this address."))
