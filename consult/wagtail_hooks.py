"""Organisation admins manage email texts and external-participant groups in the admin (F-TEXT-1, F-CLIENT-3)."""

import django_filters
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import BooleanColumn, Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from orgs.services import audit_record
from orgs.views.admin import OrgAdminOnly, OrganizationViewSetMixin, ServiceErrorsAsFormErrors

from .forms import EmailSetForm, EmailTemplateForm, ParticipantGroupForm
from .models import FIXED_TEXT_KINDS, EmailKind, EmailSet, EmailTemplate, ParticipantGroup


class OwnedCreateView(OrgAdminOnly, ServiceErrorsAsFormErrors, generic.CreateView):
    """New rows belong to the request's organisation; the save is audited."""

    def get_initial_form_instance(self):
        return self.model(organization=self.request.organization)

    def save_instance(self):
        with transaction.atomic():
            instance = self.form.save(commit=False)
            instance.organization = self.request.organization
            instance.full_clean()
            instance.save()
            if hasattr(self.form, "save_departments"):
                self.form.save_departments(instance)
            audit_record(organization=self.request.organization, actor=self.request.user,
                         action=f"{self.model._meta.model_name}.create", target=instance, request=self.request)
        return instance


class OwnedEditView(OrgAdminOnly, ServiceErrorsAsFormErrors, generic.EditView):
    def save_instance(self):
        from orgs.services import changed_fields

        with transaction.atomic():
            instance = self.form.save(commit=False)
            instance.full_clean()
            instance.save()
            if hasattr(self.form, "save_departments"):
                self.form.save_departments(instance)
            audit_record(organization=self.request.organization, actor=self.request.user,
                         action=f"{self.model._meta.model_name}.update", target=instance,
                         changes=changed_fields(self.form), request=self.request)
        return instance


class OwnedDeleteView(OrgAdminOnly, generic.DeleteView):
    def delete_action(self):
        with transaction.atomic():
            audit_record(organization=self.request.organization, actor=self.request.user,
                         action=f"{self.model._meta.model_name}.delete", target=self.object, request=self.request)
            self.object.delete()


class OwnedIndexView(OrgAdminOnly, generic.IndexView):
    pass


class OwnedViewSet(OrganizationViewSetMixin, ModelViewSet):
    index_view_class = OwnedIndexView
    add_view_class = OwnedCreateView
    edit_view_class = OwnedEditView
    delete_view_class = OwnedDeleteView
    copy_view_enabled = False

    def get_form_class(self, for_update=False):
        return self.form_class


class EmailSetViewSet(OwnedViewSet):
    model = EmailSet
    name = menu_name = "email-sets"
    icon = "mail"
    menu_label = gettext_lazy("Email sets")
    form_class = EmailSetForm
    search_fields = ["name"]
    list_display = [TitleColumn("name", label=gettext_lazy("Name"), url_name="email-sets:edit"),
                    BooleanColumn("is_default", label=gettext_lazy("Default"))]


class EmailTemplateFilterSet(WagtailFilterSet):
    # The set list is built per request (a queryset made once would keep the first organisation's scope).
    email_set = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Set"), queryset=lambda request: EmailSet.objects.all()
    )
    kind = django_filters.ChoiceFilter(label=gettext_lazy("Email"), choices=[
        choice for choice in EmailKind.choices if choice[0] not in FIXED_TEXT_KINDS])
    language = django_filters.ChoiceFilter(label=gettext_lazy("Language"), choices=settings.LANGUAGES)

    class Meta:
        model = EmailTemplate
        fields = ["email_set", "kind", "language"]


class EmailTemplateViewSet(OwnedViewSet):
    model = EmailTemplate
    name = menu_name = "email-texts"
    icon = "doc-full"
    menu_label = gettext_lazy("Email texts")
    form_class = EmailTemplateForm
    search_fields = ["subject", "body"]
    filterset_class = EmailTemplateFilterSet
    list_display = [
        TitleColumn("subject", label=gettext_lazy("Subject"), url_name="email-texts:edit"),
        Column("email_set", label=gettext_lazy("Set")),
        Column("kind", label=gettext_lazy("Email"), accessor="get_kind_display"),
        Column("language", label=gettext_lazy("Language"), accessor="get_language_display"),
    ]


class ParticipantGroupViewSet(OwnedViewSet):
    model = ParticipantGroup
    name = menu_name = "participant-groups"
    icon = "group"
    menu_label = gettext_lazy("Participant groups")
    form_class = ParticipantGroupForm
    search_fields = ["name"]
    list_display = [TitleColumn("name", label=gettext_lazy("Name"), url_name="participant-groups:edit")]


class ConsultationTextsGroup(ViewSetGroup):
    menu_label = gettext_lazy("Consultations")
    menu_icon = "mail"
    menu_order = 230
    items = (EmailSetViewSet, EmailTemplateViewSet, ParticipantGroupViewSet)


@hooks.register("register_admin_viewset")
def register_viewsets():
    return ConsultationTextsGroup()
