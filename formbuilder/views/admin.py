"""The organisation admin's questionnaire screens in the Wagtail admin (F-FORM-1, F-FORM-7).

Thin adapters, like orgs/views/admin.py: the editor's form sets a questionnaire and its questions in
memory, formbuilder.services validates and writes (and audits). The scoped managers keep every lookup
inside the request's organisation, so another organisation's questionnaire is a 404.
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import View
from wagtail.admin import messages
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, HelpPanel, InlinePanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from orgs import selectors as org_selectors
from orgs.models import AUDIT_ACTIONS, AuditEvent, Department
from orgs.services import changed_fields
from orgs.views.admin import (
    AuditFilterSet,
    OrgAdminOnly,
    OrganizationViewSetMixin,
    ServiceErrorsAsFormErrors,
    require_org_admin,
)

from .. import services
from ..models import DISPLAY_ONLY_TYPES, Questionnaire, QuestionnaireField, QuestionnaireResponse

# --- the editor ---------------------------------------------------------------------------------

class QuestionnaireAdminForm(WagtailAdminModelForm):
    # Declared with no choices: the form class is built when the admin's URLs load, outside any
    # organisation's scope; each form instance gets its own organisation's departments below.
    departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Departments"), queryset=Department.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Only these departments can send it. None selected: every department."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization_id = self.instance.organization_id
        self.fields["departments"].queryset = Department.objects.filter(organization_id=organization_id)
        if self.instance.pk:
            self.fields["departments"].initial = list(
                Questionnaire.departments.through.objects.filter(questionnaire=self.instance)
                .values_list("department_id", flat=True))
        self.fields["intro"].widget = forms.Textarea(attrs={"rows": 3})


question_panels = [
    FieldPanel("label", heading=gettext_lazy("Question"), help_text=gettext_lazy(
        "The question as the client reads it; for a title or paragraph, the text shown.")),
    FieldPanel("field_type", classname="formbuilder-type", required_on_save=True),
    FieldPanel("required"),
    FieldPanel("choices", classname="formbuilder-choices", help_text=gettext_lazy(
        "One choice per line. For drop-downs, radio buttons, checkboxes and selects.")),
    FieldPanel("default_value", classname="formbuilder-default"),
    FieldPanel("help_text"),
]

editor_panels = ObjectList([
    MultiFieldPanel([FieldPanel("title"), FieldPanel("intro"), FieldPanel("language"), FieldPanel("departments")],
                    heading=gettext_lazy("Questionnaire")),
    HelpPanel(content=gettext_lazy(
        "A title starts a new page for the client, so a long questionnaire becomes a few short steps. Titles "
        "and paragraphs only show text. Changes apply to questionnaires sent from now on; answers already "
        "given keep the questions they were sent with."
    )),
    InlinePanel("fields", panels=question_panels, heading=gettext_lazy("Questions"),
                label=gettext_lazy("Question")),
], base_form_class=QuestionnaireAdminForm)


def duplicate_button(url, priority=25):
    """A one-click POST (Wagtail's w-action controller sends the CSRF token), no form page in between."""
    return Button(_("Duplicate"), icon_name="copy", priority=priority, attrs={
        "data-controller": "w-action", "data-action": "w-action#post", "data-w-action-url-value": url,
    })


class QuestionnaireIndexView(OrgAdminOnly, generic.IndexView):
    def get_base_queryset(self):
        answers = ~Q(fields__field_type__in=DISPLAY_ONLY_TYPES)
        return (Questionnaire.objects.filter(organization=self.request.organization)
                .annotate(question_count=Count("fields", filter=answers)).prefetch_related("departments"))

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        buttons.append(duplicate_button(reverse("questionnaires:duplicate", args=[instance.pk])))
        return buttons


class QuestionnaireCreateView(OrgAdminOnly, ServiceErrorsAsFormErrors, generic.CreateView):
    def get_initial_form_instance(self):
        organization = self.request.organization
        return Questionnaire(organization=organization, language=organization.default_language)

    def save_instance(self):
        questionnaire = self.form.save(commit=False)
        return services.questionnaire_create(
            organization=self.request.organization, actor=self.request.user, questionnaire=questionnaire,
            departments=self.form.cleaned_data["departments"], request=self.request,
        )


class QuestionnaireEditView(OrgAdminOnly, ServiceErrorsAsFormErrors, generic.EditView):
    @cached_property
    def header_more_buttons(self):
        return [*super().header_more_buttons,
                duplicate_button(reverse("questionnaires:duplicate", args=[self.object.pk]), priority=15)]

    def save_instance(self):
        before = QuestionnaireField.objects.filter(questionnaire_id=self.object.pk).count()
        changes = changed_fields(self.form)
        questionnaire = self.form.save(commit=False)
        if any(formset.has_changed() for formset in self.form.formsets.values()):
            changes["questions"] = [before, len(questionnaire.fields.all())]
        return services.questionnaire_update(
            organization=self.request.organization, actor=self.request.user, questionnaire=questionnaire,
            departments=self.form.cleaned_data["departments"], changes=changes, request=self.request,
        )


class QuestionnaireDeleteView(OrgAdminOnly, generic.DeleteView):
    @property
    def confirmation_message(self):
        answered = QuestionnaireResponse.objects.filter(questionnaire=self.object).count()
        kept = ngettext(
            "The answers clients gave (%(count)s questionnaire sent) are not deleted: they keep their own copy "
            "of the questions and stay with the client.",
            "The answers clients gave (%(count)s questionnaires sent) are not deleted: they keep their own copy "
            "of the questions and stay with the client.",
            answered,
        ) % {"count": answered}
        return _("Delete “%(title)s” and its questions? It can no longer be sent. %(kept)s") % {
            "title": self.object, "kept": kept}

    def delete_action(self):
        services.questionnaire_delete(organization=self.request.organization, actor=self.request.user,
                                      questionnaire=self.object, request=self.request)


class QuestionnaireDuplicateView(View):
    """POST only: copy the questionnaire with all its questions, then open the copy in the editor."""

    http_method_names = ["post"]

    def post(self, request, pk):
        require_org_admin(request)
        original = Questionnaire.objects.filter(pk=pk, organization=request.organization).first()
        if original is None:
            raise Http404
        try:
            copy = services.questionnaire_duplicate(organization=request.organization, actor=request.user,
                                                    questionnaire=original, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("questionnaires:index")
        messages.success(request, _("“%(copy)s” is a copy of “%(original)s” with all its questions. Change it "
                                    "here.") % {"copy": copy.title, "original": original.title})
        return redirect("questionnaires:edit", copy.pk)


class QuestionnaireViewSet(OrganizationViewSetMixin, ModelViewSet):
    model = Questionnaire
    name = menu_name = "questionnaires"
    icon = "form"
    menu_label = gettext_lazy("Questionnaires")
    menu_order = 225
    add_to_admin_menu = True
    copy_view_enabled = False
    edit_handler = editor_panels
    search_fields = ["title", "intro"]
    index_view_class = QuestionnaireIndexView
    add_view_class = QuestionnaireCreateView
    edit_view_class = QuestionnaireEditView
    delete_view_class = QuestionnaireDeleteView
    list_display = [
        "title",  # a plain name: Wagtail makes it the title column, with the row's buttons (Edit, Duplicate…)
        Column("language", label=gettext_lazy("Language"), accessor="get_language_display"),
        Column("departments", label=gettext_lazy("Departments"),
               accessor=lambda q: ", ".join(d.name for d in q.departments.all()) or _("All departments")),
        Column("question_count", label=gettext_lazy("Questions")),
        Column("is_default", label=gettext_lazy("Standard"),
               accessor=lambda q: _("Yes") if q.is_default else ""),
        DateColumn("updated_at", label=gettext_lazy("Changed")),
    ]

    def get_common_view_kwargs(self, **kwargs):
        return {**super().get_common_view_kwargs(**kwargs), "history_url_name": None, "usage_url_name": None}

    def get_urlpatterns(self):
        from django.urls import path

        # No history or usage screens: changes are in the audit log, and nothing links to a questionnaire.
        patterns = [p for p in super().get_urlpatterns()
                    if p.name not in ("history", "history_results", "usage")]
        return [*patterns, path("duplicate/<int:pk>/", QuestionnaireDuplicateView.as_view(), name="duplicate")]


# --- who read which answers (F-FORM-7) -----------------------------------------------------------

# Reads of answers, and what lets a client read them without staff: a portal PIN or QR code that an
# employee sent (a printed QR letter in the wrong hands opens the portal).
ACCESS_ACTIONS = [(action, label) for action, label in AUDIT_ACTIONS.items()
                  if action.startswith("answers.") or action in ("portal.pin_sent", "portal.qr_created")]


class AccessLogFilterSet(AuditFilterSet):
    action = django_filters.ChoiceFilter(label=gettext_lazy("Action"), choices=ACCESS_ACTIONS)

    class Meta(AuditFilterSet.Meta):
        fields = ["actor_label", "action", "created_at"]


class AccessLogIndexView(OrgAdminOnly, generic.IndexView):
    page_title = gettext_lazy("Questionnaire access log")

    def get_base_queryset(self):
        actions = [action for action, _label in ACCESS_ACTIONS]
        return org_selectors.audit_events_for(self.request.membership).filter(action__in=actions)


class AccessLogViewSet(OrganizationViewSetMixin, ModelViewSet):
    """Who viewed or downloaded which client's answers, when, and in what capacity."""

    model = AuditEvent
    name = menu_name = "questionnaire-access-log"
    icon = "view"
    menu_label = gettext_lazy("Questionnaire access log")
    add_to_settings_menu = True
    menu_order = 31
    filterset_class = AccessLogFilterSet
    index_view_class = AccessLogIndexView
    search_fields = ["subject_label"]
    form_fields = []
    list_display = [
        DateColumn("created_at", label=gettext_lazy("When")),
        Column("actor_label", label=gettext_lazy("Who")),
        Column("acting_for", label=gettext_lazy("Acting for")),
        Column("action", label=gettext_lazy("Action"), accessor="action_label"),
        Column("target_label", label=gettext_lazy("Answers")),
        Column("subject_label", label=gettext_lazy("Whose data")),
    ]

    def get_urlpatterns(self):
        return [p for p in super().get_urlpatterns() if p.name in ("index", "index_results")]

    # The audit log's viewset (orgs) registers the model's URL finder and permissions; not twice.
    def register_admin_url_finder(self):
        pass

    def register_permissions(self):
        pass
