"""The widget wizard's form: choices limited to the organisation's own departments and images."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.images.widgets import AdminImageChooser

from cms.models import OrgImage
from orgs.models import Department
from payments.models import PaymentSettings, Rate


class ColourInput(forms.TextInput):
    input_type = "color"


class WidgetAdminForm(WagtailAdminModelForm):
    # Declared with empty choices: the form class is built when the admin's URLs load, outside any
    # organisation's scope; each form instance gets its organisation's rows below.
    departments = forms.ModelMultipleChoiceField(
        label=_("Departments"), queryset=Department.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only practitioners of these departments are offered. None selected: all departments."),
    )
    logo = forms.ModelChoiceField(label=_("Logo"), queryset=OrgImage.objects.none(), required=False,
                                  widget=AdminImageChooser)
    background_image = forms.ModelChoiceField(label=_("Background image"), queryset=OrgImage.objects.none(),
                                              required=False, widget=AdminImageChooser)
    rate = forms.ModelChoiceField(
        label=_("Rate"), queryset=Rate.objects.none(), required=False,
        help_text=_("Visitors pay this rate online before the waiting room opens. Empty: free. If the rate is "
                    "deleted or made inactive, the widget becomes free."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization_id = self.instance.organization_id
        # Built per form, inside the request's scope and filtered by the widget's organisation: a
        # queryset made once with the form class would keep the first organisation's rows.
        if "departments" in self.fields:
            self.fields["departments"].queryset = Department.objects.filter(organization_id=organization_id)
        for name in ("logo", "background_image"):
            if name in self.fields:
                self.fields[name].queryset = OrgImage.objects.filter(organization_id=organization_id)
        if "rate" in self.fields:
            self._rate_field(organization_id)
        for name in ("title_colour", "text_colour", "background_colour", "button_colour", "button_text_colour"):
            if name in self.fields:
                self.fields[name].widget = ColourInput()
        if "text" in self.fields:
            self.fields["text"].widget = forms.Textarea(attrs={"rows": 4})
        if "absent_text" in self.fields:
            self.fields["absent_text"].widget = forms.Textarea(attrs={"rows": 3})
        if "custom_css" in self.fields:
            self.fields["custom_css"].widget = forms.Textarea(
                attrs={"rows": 8, "spellcheck": "false", "class": "monospace",
                       "aria-describedby": "custom-css-help"}
            )
            self.fields["custom_css"].help_text = _(
                "Extra styles for this widget, for example .widget-title { font-size: 2rem; }. Styles that "
                "load anything from other sites (imports, fonts, images elsewhere) are refused with the reason."
            )

    def _rate_field(self, organization_id):
        """Only the organisation's own active rates (and the one already chosen); no choice while payments
        are off, where the field is left out (a stored rate then stays, and charges nobody)."""
        enabled = PaymentSettings.objects.with_scopes_disabled().filter(
            organization_id=organization_id, enabled=True).exists()
        if not enabled:
            del self.fields["rate"]
            return
        rates = Rate.objects.filter(organization_id=organization_id)
        self.fields["rate"].queryset = rates.filter(Q(is_active=True) | Q(pk=self.instance.rate_id))
        self.fields["rate"].empty_label = _("Free (no payment)")
