"""Single sign-on providers in the Wagtail admin (F-AUTH-4): organisation admins only, under Settings.

The scoped manager keeps every lookup inside the request's organisation (another organisation's id is a
404); writes and audit rows go through accounts.sso.
"""

from django import forms
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from orgs import policy
from orgs.models import Department
from orgs.services import changed_fields
from orgs.views.admin import OrgAdminOnly, OrganizationViewSetMixin, ServiceErrorsAsFormErrors

from . import sso
from .models import OidcProvider

SECRET_SET = "••••••••"


class OidcProviderForm(WagtailAdminModelForm):
    client_secret = forms.CharField(
        label=gettext_lazy("Client secret"), required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("From the provider's app registration. Stored encrypted and never shown again."),
    )

    issuer = forms.URLField(
        label=OidcProvider._meta.get_field("issuer").verbose_name, max_length=300, assume_scheme="https",
        help_text=OidcProvider._meta.get_field("issuer").help_text,
    )
    new_user_departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Departments for created users"), required=False,
        queryset=Department.objects.with_scopes_disabled().none(), widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = OidcProvider
        fields = [
            "name", "enabled", "button_text", "issuer", "allowed_domains", "client_id", "create_users_on_login",
            "new_user_role", "new_user_departments",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["client_secret"]
        if self.instance.pk and self.instance.has_secret:
            field.help_text = _("•••• set, type to replace. Leave empty to keep the stored secret.")
            field.widget.attrs["placeholder"] = SECRET_SET
        # Built per form, for the provider's organisation only, never at import.
        self.fields["new_user_departments"].queryset = Department.objects.with_scopes_disabled().filter(
            organization_id=self.instance.organization_id)

    def clean_issuer(self):
        return sso.normalize_issuer(self.cleaned_data.get("issuer"))

    def clean_allowed_domains(self):
        return sso.normalize_domains(self.cleaned_data.get("allowed_domains"))

    def clean(self):
        cleaned_data = super().clean()
        if not self.instance.pk and not cleaned_data.get("client_secret"):
            self.add_error("client_secret", _("Enter the client secret."))
        return cleaned_data


class CallbackUrlPanel(HelpPanel):
    """The exact redirect URI to register with the provider."""

    class BoundPanel(HelpPanel.BoundPanel):
        def render_html(self, parent_context=None):
            provider = self.instance
            url = sso.callback_url(provider) if provider is not None and provider.pk else ""
            return render_to_string("accounts/admin/sso_callback_url.html", {"callback_url": url})


PROVIDER_PANELS = ObjectList([
    CallbackUrlPanel(heading=gettext_lazy("Callback URL")),
    FieldPanel("name"), FieldPanel("enabled"), FieldPanel("button_text"),
    MultiFieldPanel([FieldPanel("issuer"), FieldPanel("client_id"), FieldPanel("client_secret")],
                    heading=gettext_lazy("Provider")),
    FieldPanel("allowed_domains"),
    MultiFieldPanel([FieldPanel("create_users_on_login"), FieldPanel("new_user_role"),
                     FieldPanel("new_user_departments")],
                    heading=gettext_lazy("New employees")),
], base_form_class=OidcProviderForm)


class ProvidersInPerson(OrgAdminOnly):
    def dispatch(self, request, *args, **kwargs):
        if request.organization is not None and not policy.can_manage_sign_in_providers(request.membership):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class ProviderIndexView(ProvidersInPerson, generic.IndexView):
    def get_base_queryset(self):
        return OidcProvider.objects.select_related("organization")


class ProviderCreateView(ProvidersInPerson, ServiceErrorsAsFormErrors, generic.CreateView):
    def get_initial_form_instance(self):
        return OidcProvider(organization=self.request.organization)

    def get_success_url(self):
        # To the edit page: it shows the callback URL to register with the provider.
        return reverse("sso_providers:edit", args=[self.object.pk])

    def save_instance(self):
        data = self.form.cleaned_data
        provider = self.form.save(commit=False)
        provider.organization = self.request.organization
        return sso.oidc_provider_create(
            provider=provider, actor=self.request.user, client_secret=data.get("client_secret", ""),
            departments=list(data.get("new_user_departments") or []), request=self.request,
        )


class ProviderEditView(ProvidersInPerson, ServiceErrorsAsFormErrors, generic.EditView):
    def save_instance(self):
        data = self.form.cleaned_data
        changes = changed_fields(self.form)
        changes.pop("client_secret", None)  # never in the audit log
        provider = self.form.save(commit=False)
        return sso.oidc_provider_update(
            provider=provider, actor=self.request.user, changes=changes,
            client_secret=data.get("client_secret", ""),
            departments=list(data.get("new_user_departments") or []), request=self.request,
        )


class ProviderDeleteView(ProvidersInPerson, generic.DeleteView):
    def delete_action(self):
        sso.oidc_provider_delete(provider=self.object, actor=self.request.user, request=self.request)


class OidcProviderViewSet(OrganizationViewSetMixin, ModelViewSet):
    model = OidcProvider
    name = menu_name = "sso_providers"
    icon = "key"
    menu_label = gettext_lazy("Single sign-on")
    add_to_settings_menu = True
    menu_order = 25
    copy_view_enabled = False
    inspect_view_enabled = False
    edit_handler = PROVIDER_PANELS
    index_view_class = ProviderIndexView
    add_view_class = ProviderCreateView
    edit_view_class = ProviderEditView
    delete_view_class = ProviderDeleteView
    list_display = [
        TitleColumn("name", label=gettext_lazy("Name"), url_name="sso_providers:edit"),
        Column("issuer", label=gettext_lazy("Issuer")),
        BooleanColumn("enabled", label=gettext_lazy("Enabled")),
        BooleanColumn("create_users_on_login", label=gettext_lazy("Creates users")),
        Column("callback_url", label=gettext_lazy("Callback URL"), accessor=sso.callback_url),
    ]


@hooks.register("register_admin_viewset")
def register_sso_viewset():
    return OidcProviderViewSet()
