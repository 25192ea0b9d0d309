"""The organisation admin's screens in the Wagtail admin: departments, employees, settings, plan, audit log.

Thin adapters: forms validate, services write (and audit), the scoped managers keep every lookup inside
the request's organisation, so another organisation's id is a 404.
"""

import django_filters
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.admin.ui.components import MediaContainer
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from .. import policy, selectors, services
from ..forms import (
    DepartmentForm,
    EmployeeCreateForm,
    EmployeeEditForm,
    OrganizationCreateForm,
    OrganizationPlanForm,
    OrganizationSettingsForm,
    add_service_errors,
)
from ..models import AuditEvent, Department, Membership, Organization, Role


class ServiceErrorsAsFormErrors:
    """A service that refuses (plan limit, last admin, duplicate) shows its reason on the form."""

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ValidationError as error:
            add_service_errors(form, error)
            self.produced_error_message = self.get_error_message() if hasattr(self, "get_error_message") else None
            return self.form_invalid(form)


def require_org_admin(request):
    if request.organization is None or not policy.can_manage_organization(request.membership):
        raise Http404


class OrgAdminOnly:
    def dispatch(self, request, *args, **kwargs):
        require_org_admin(request)
        return super().dispatch(request, *args, **kwargs)


class OrganizationMenuItem(MenuItem):
    """Shown to organisation admins on their organisation's host, whatever the language of the label."""

    def is_shown(self, request):
        return request.organization is not None and policy.can_manage_organization(request.membership)


class PlatformMenuItem(MenuItem):
    def is_shown(self, request):
        return request.organization is None and request.user.is_superuser


class OrganizationViewSetMixin:
    menu_item_class = OrganizationMenuItem


# --- departments --------------------------------------------------------------------------------

class DepartmentCreateView(OrgAdminOnly, ServiceErrorsAsFormErrors, generic.CreateView):
    def get_initial_form_instance(self):
        return Department(organization=self.request.organization)

    def save_instance(self):
        data = self.form.cleaned_data
        return services.department_create(
            organization=self.request.organization, actor=self.request.user, name=data["name"],
            colour=data["colour"], request=self.request,
        )


class DepartmentEditView(OrgAdminOnly, ServiceErrorsAsFormErrors, generic.EditView):
    def save_instance(self):
        department = self.form.save(commit=False)
        return services.department_update(
            department=department, actor=self.request.user, changes=services.changed_fields(self.form),
            request=self.request,
        )


class DepartmentDeleteView(OrgAdminOnly, generic.DeleteView):
    def delete_action(self):
        services.department_delete(department=self.object, actor=self.request.user, request=self.request)


class DepartmentIndexView(OrgAdminOnly, generic.IndexView):
    def get_base_queryset(self):
        return selectors.departments_for(self.request.membership)


class DepartmentViewSet(OrganizationViewSetMixin, ModelViewSet):
    model = Department
    name = menu_name = "departments"
    icon = "group"
    menu_label = gettext_lazy("Departments")
    menu_order = 210
    add_to_admin_menu = True
    form_class = DepartmentForm
    copy_view_enabled = False
    search_fields = ["name"]
    index_view_class = DepartmentIndexView
    add_view_class = DepartmentCreateView
    edit_view_class = DepartmentEditView
    delete_view_class = DepartmentDeleteView
    list_display = [
        TitleColumn("name", label=gettext_lazy("Name"), url_name="departments:edit"),
        Column("employee_count", label=gettext_lazy("Employees")),
        Column("colour", label=gettext_lazy("Colour")),
    ]

    def get_form_class(self, for_update=False):
        return DepartmentForm


# --- employees ----------------------------------------------------------------------------------

def with_two_factor(queryset):
    """Employees with `has_two_factor`: an authenticator app or a security key (recovery codes alone are none)."""
    from allauth.mfa.models import Authenticator

    second_factors = Authenticator.objects.filter(
        user_id=OuterRef("user_id"), type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])
    return queryset.annotate(has_two_factor=Exists(second_factors))


class EmployeeFilterSet(WagtailFilterSet):
    role = django_filters.ChoiceFilter(label=gettext_lazy("Role"), choices=Role.choices)
    is_active = django_filters.BooleanFilter(label=gettext_lazy("Active"))
    has_two_factor = django_filters.BooleanFilter(label=gettext_lazy("Two-factor authentication"),
                                                  method="filter_two_factor")

    class Meta:
        model = Membership
        fields = ["role", "is_active"]

    def filter_two_factor(self, queryset, name, value):
        return queryset if value is None else with_two_factor(queryset).filter(has_two_factor=value)


class EmployeeIndexView(OrgAdminOnly, generic.IndexView):
    def get_base_queryset(self):
        return with_two_factor(selectors.employees_for(self.request.membership))


def two_factor_label(membership):
    return _("on") if getattr(membership, "has_two_factor", False) else _("off")


class EmployeeFormKwargs:
    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["member"] = self.request.membership
        return kwargs


class EmployeeCreateView(OrgAdminOnly, EmployeeFormKwargs, ServiceErrorsAsFormErrors, generic.CreateView):
    success_message = gettext_lazy("Employee “%(object)s” added; the invitation email is on its way.")

    def get_initial_form_instance(self):
        return None

    def get_success_message(self, instance):
        return self.success_message % {"object": instance}

    def save_instance(self):
        data = self.form.cleaned_data
        return services.employee_create(
            organization=self.request.organization, actor=self.request.user, email=data["email"],
            first_name=data["first_name"], last_name=data["last_name"], role=data["role"],
            departments=list(data["departments"]), job_title=data["job_title"], request=self.request,
        )


class EmployeeEditView(OrgAdminOnly, EmployeeFormKwargs, ServiceErrorsAsFormErrors, generic.EditView):
    @cached_property
    def header_more_buttons(self):
        buttons = [*super().header_more_buttons, Button(_("Send a new invitation"), icon_name="mail", priority=40,
                                                        url=reverse("employee_invite", args=[self.object.pk]))]
        if policy.can_disable_two_factor_of(self.request.membership, self.object) and \
                policy.has_two_factor(self.object.user):
            buttons.append(Button(_("Disable two-factor authentication"), icon_name="lock-open", priority=50,
                                  url=reverse("employee_disable_two_factor", args=[self.object.pk])))
        return buttons

    def save_instance(self):
        membership = self.form.save(commit=False)
        changes = services.changed_fields(self.form)
        services.employee_update(membership=membership, actor=self.request.user, changes=changes, request=self.request)
        if not self.form.shared_user:
            membership.user.save(update_fields=["first_name", "last_name"])
        membership.departments.set(self.form.cleaned_data["departments"])
        return membership


class EmployeeInviteView(OrgAdminOnly, WagtailAdminTemplateMixin, TemplateView):
    """Send a new invitation (GET asks, POST sends): for a link that expired or an email that got lost."""

    template_name = "orgs/admin/invite.html"
    page_title = gettext_lazy("Send a new invitation")
    header_icon = "mail"

    def dispatch(self, request, *args, pk, **kwargs):
        require_org_admin(request)
        self.membership = selectors.employee_for(request.membership, pk)
        if self.membership is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "membership": self.membership}

    def post(self, request, *args, **kwargs):
        try:
            services.invitation_resend(membership=self.membership, actor=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("A new invitation has been sent to %(email)s.") % {
                "email": self.membership.user.email})
        return redirect("employees:edit", self.membership.pk)


class EmployeeDisableTwoFactorView(OrgAdminOnly, WagtailAdminTemplateMixin, TemplateView):
    """An employee lost their phone: remove their authenticators (GET asks, POST removes; audited)."""

    template_name = "orgs/admin/disable_two_factor.html"
    page_title = gettext_lazy("Disable two-factor authentication")
    header_icon = "lock-open"

    def dispatch(self, request, *args, pk, **kwargs):
        require_org_admin(request)
        self.membership = selectors.employee_for(request.membership, pk)
        self.works_elsewhere = self.membership is not None and policy.two_factor_reaches_beyond(self.membership)
        if not self.works_elsewhere and not policy.can_disable_two_factor_of(request.membership, self.membership):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "membership": self.membership,
                "works_elsewhere": self.works_elsewhere,
                "has_two_factor": policy.has_two_factor(self.membership.user)}

    def post(self, request, *args, **kwargs):
        from accounts.services import two_factor_disable

        if not policy.can_disable_two_factor_of(request.membership, self.membership):
            raise PermissionDenied
        two_factor_disable(membership=self.membership, actor=request.user, request=request)
        messages.success(request, _("Two-factor authentication of %(name)s has been disabled.") % {
            "name": self.membership})
        return redirect("employees:edit", self.membership.pk)


class EmployeeViewSet(OrganizationViewSetMixin, ModelViewSet):
    model = Membership
    name = menu_name = "employees"
    icon = "user"
    menu_label = gettext_lazy("Employees")
    menu_order = 220
    add_to_admin_menu = True
    copy_view_enabled = False
    search_fields = ["user__email", "user__first_name", "user__last_name", "job_title"]
    filterset_class = EmployeeFilterSet
    index_view_class = EmployeeIndexView
    add_view_class = EmployeeCreateView
    edit_view_class = EmployeeEditView
    list_display = [
        TitleColumn("__str__", label=gettext_lazy("Name"), url_name="employees:edit"),
        Column("email", label=gettext_lazy("Email"), accessor="user.email"),
        Column("role", label=gettext_lazy("Role"), accessor="get_role_display"),
        Column("departments", label=gettext_lazy("Departments"), accessor="department_names"),
        BooleanColumn("is_active", label=gettext_lazy("Active")),
        # As words, not a colour: "on" / "off".
        Column("has_two_factor", label=gettext_lazy("Two-factor"), accessor=two_factor_label),
    ]

    def get_form_class(self, for_update=False):
        return EmployeeEditForm if for_update else EmployeeCreateForm

    def get_urlpatterns(self):
        # Employees are deactivated, never deleted: their appointments and audit trail stay intact.
        return [p for p in super().get_urlpatterns() if p.name != "delete"]


# --- audit log ----------------------------------------------------------------------------------

class AuditFilterSet(WagtailFilterSet):
    action = django_filters.CharFilter(label=gettext_lazy("Action"), lookup_expr="startswith")
    actor_label = django_filters.CharFilter(label=gettext_lazy("Who"), lookup_expr="icontains")
    created_at = django_filters.DateFromToRangeFilter(label=gettext_lazy("When"), widget=DateRangePickerWidget)
    remote_support = django_filters.BooleanFilter(label=gettext_lazy("Remote support"), method="filter_remote_support")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor_label", "created_at", "remote_support"]

    def filter_remote_support(self, queryset, name, value):
        """Start, end and everything done during remote support by platform staff (orgs/remote_support.py)."""
        from django.db.models import Q

        from ..remote_support import remote_support_labels

        during = Q(action__startswith="remote_support.") | Q(acting_for__in=remote_support_labels())
        if value is None:
            return queryset
        return queryset.filter(during) if value else queryset.exclude(during)


class AuditIndexView(OrgAdminOnly, generic.IndexView):
    def get_base_queryset(self):
        return selectors.audit_events_for(self.request.membership)


class AuditViewSet(OrganizationViewSetMixin, ModelViewSet):
    model = AuditEvent
    name = menu_name = "audit"
    icon = "history"
    menu_label = gettext_lazy("Audit log")
    add_to_settings_menu = True
    menu_order = 30
    filterset_class = AuditFilterSet
    index_view_class = AuditIndexView
    search_fields = ["action", "actor_label", "target_label"]
    form_fields = []
    list_display = [
        DateColumn("created_at", label=gettext_lazy("When")),
        Column("actor_label", label=gettext_lazy("Who")),
        Column("action", label=gettext_lazy("Action"), accessor="action_label"),
        Column("target_label", label=gettext_lazy("Object")),
        Column("changes", label=gettext_lazy("Changes"), accessor="changes_summary"),
    ]

    def get_urlpatterns(self):
        return [p for p in super().get_urlpatterns() if p.name in ("index", "index_results")]


# --- organisation settings (the org admin's own organisation; no id in the URL) ----------------

class PlaceholdersPanel(HelpPanel):
    """The *|codes|* texts for clients may use, with what each becomes (F-TEXT-2, F-TEXT-3)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("template", "orgs/admin/placeholders_help.html")
        super().__init__(**kwargs)

    class BoundPanel(HelpPanel.BoundPanel):
        def get_context_data(self, parent_context=None):
            from consult.placeholders import PLACEHOLDERS

            return {**super().get_context_data(parent_context), "placeholders": PLACEHOLDERS.items()}


settings_panels = TabbedInterface(
    [
        ObjectList(
            [
                FieldPanel("name"),
                FieldPanel("logo"),
                MultiFieldPanel(
                    [FieldPanel("contact_email"), FieldPanel("contact_phone"), FieldPanel("address"),
                     FieldPanel("website")],
                    heading=gettext_lazy("Contact information (shown to clients)"),
                ),
                FieldPanel("time_zone"),
                FieldPanel("default_language"),
                MultiFieldPanel(
                    [FieldPanel("address_form_nl"), FieldPanel("address_form_en"), FieldPanel("address_form_de"),
                     FieldPanel("address_form_es")],
                    heading=gettext_lazy("Forms of address for practitioners"),
                    help_text=gettext_lazy(
                        "Shown before a practitioner's name in texts for clients, for example “Dr. Jansen”."
                    ),
                ),
            ],
            heading=gettext_lazy("General"),
        ),
        ObjectList(
            [
                FieldPanel("strict_departments"), FieldPanel("strict_clients"), FieldPanel("anonymise_after_days"),
                FieldPanel("allow_remote_support", help_text=gettext_lazy(
                    "Platform support staff may then act as one of your employees, for at most an hour, after "
                    "confirming with two-factor authentication. Each session, its reason and every change made are "
                    "in the Audit log (filter on “Remote support”). Switching this off ends running sessions.")),
                FieldPanel("two_factor_policy", help_text=gettext_lazy(
                    "When required, employees cannot use the portal or admin until they have set it up. The "
                    "Employees list shows who has it (filter on “Two-factor authentication”) before you switch "
                    "it on.")),
                FieldPanel("session_idle_minutes"),
            ],
            heading=gettext_lazy("Privacy and security"),
        ),
        ObjectList(
            [
                FieldPanel("consult_link_opens_minutes"), FieldPanel("consult_link_closes_minutes"),
                FieldPanel("force_start"), FieldPanel("do_not_send_emails"), FieldPanel("notify_bounces"),
                FieldPanel("show_remaining_slots"), FieldPanel("sms_enabled"), FieldPanel("client_app_enabled"),
                FieldPanel("portal_pin_minutes"), FieldPanel("access_code_days"), FieldPanel("patient_session_minutes"),
            ],
            heading=gettext_lazy("Appointments and messages"),
        ),
        ObjectList(
            [
                FieldPanel("doorbell_sound"), FieldPanel("chat_in_waiting_room"),
                FieldPanel("questionnaire_in_waiting_room"), FieldPanel("disclaimer_enabled"),
                FieldPanel("disclaimer_text"), FieldPanel("explainer_video_url"), FieldPanel("more_info_iframe_url"),
            ],
            heading=gettext_lazy("Waiting room"),
        ),
        ObjectList(
            [
                PlaceholdersPanel(heading=gettext_lazy("Placeholders")),
                MultiFieldPanel(
                    [FieldPanel("waiting_room_text_nl"), FieldPanel("waiting_room_text_en"),
                     FieldPanel("waiting_room_text_de"), FieldPanel("waiting_room_text_es")],
                    heading=gettext_lazy("Text in the waiting room"),
                    help_text=gettext_lazy(
                        "Shown to clients while they wait, in their language; when a language is empty, the text "
                        "in your default language is shown."
                    ),
                ),
                MultiFieldPanel(
                    [FieldPanel("after_consult_text_nl"), FieldPanel("after_consult_text_en"),
                     FieldPanel("after_consult_text_de"), FieldPanel("after_consult_text_es")],
                    heading=gettext_lazy("Message after the consult"),
                ),
            ],
            heading=gettext_lazy("Texts for clients"),
        ),
        ObjectList(
            [
                FieldPanel("open_in_browser_on_iphone"), FieldPanel("allow_background_effects"),
                FieldPanel("warn_background_active"), FieldPanel("file_sharing"), FieldPanel("screen_sharing"),
                FieldPanel("video_fit"), FieldPanel("device_settings_first"), FieldPanel("allow_resolution_change"),
                FieldPanel("camera_failure_check"), FieldPanel("evaluation_survey_url"),
                FieldPanel("custom_room_template"),
            ],
            heading=gettext_lazy("Consultation room"),
        ),
        ObjectList(
            [
                FieldPanel("chat_open_after_consult"), FieldPanel("delete_chat_after_consult"),
                FieldPanel("public_chat_widget"), FieldPanel("chat_unread_email_minutes"),
                HelpPanel(content=gettext_lazy("Chat messages are never shown as HTML and are not for emergencies.")),
                # Where the widget's embed code is (its own screen under Widgets): a link, as {% url %} in a template.
                HelpPanel(template="orgs/admin/chat_widget_help.html", heading=gettext_lazy("Chat widget")),
            ],
            heading=gettext_lazy("Chat"),
        ),
        ObjectList(
            [FieldPanel("widget_allowed_origins")],
            heading=gettext_lazy("Widgets"),
        ),
    ],
    base_form_class=OrganizationSettingsForm,
).bind_to_model(Organization)


class OrganizationSettingsView(OrgAdminOnly, ServiceErrorsAsFormErrors, generic.EditView):
    model = Organization
    panel = settings_panels
    page_title = gettext_lazy("Organisation settings")
    header_icon = "cogs"
    success_message = gettext_lazy("Settings saved.")
    permission_policy = None

    def get_panel(self):
        return settings_panels

    def get_form_class(self):
        return settings_panels.get_form_class()

    def get_object(self, queryset=None):
        return Organization.objects.get(pk=self.request.organization.pk)

    @property
    def object_pk(self):
        return self.request.organization.pk

    def get_edit_url(self):
        return reverse("org_settings")

    def get_success_url(self):
        return reverse("org_settings")

    def get_success_message(self):
        return self.success_message

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_translations(self):
        return []

    def get_side_panels(self):
        return MediaContainer([])

    def get_history_url(self):
        return None

    def save_instance(self):
        organization = self.form.save(commit=False)
        if ("two_factor_policy" in self.form.changed_data and organization.two_factor_policy == "required"
                and not policy.has_two_factor(self.request.user)):
            # Saving would send the admin straight to the setup page: say so before, not after.
            raise ValidationError({"two_factor_policy": _(
                "Set up two-factor authentication for yourself first (My profile), then require it for everyone."
            )})
        return services.organization_update(
            organization=organization, actor=self.request.user, changes=services.changed_fields(self.form),
            request=self.request,
        )


class PackageView(OrgAdminOnly, WagtailAdminTemplateMixin, TemplateView):
    template_name = "orgs/admin/package.html"
    page_title = gettext_lazy("My package")
    header_icon = "doc-full"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["usage"] = selectors.plan_usage(self.request.organization)
        context["support_email"] = settings.PLATFORM_SUPPORT_EMAIL
        return context


# --- organisations (platform staff, on the platform's own host) ---------------------------------

class PlatformStaffOnly:
    def dispatch(self, request, *args, **kwargs):
        if request.organization is not None or not request.user.is_superuser:
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def remote_support_button(organization, button_class):
    """"Remote support" (orgs/views/remote_support.py) for an organisation that allows it, else None."""
    url = remote_support_url(organization)
    return button_class(_("Remote support"), url=url, icon_name="help", priority=40) if url else None


def remote_support_url(organization):
    if not (organization.is_active and organization.allow_remote_support):
        return None
    return reverse("organisations:remote_support", args=[organization.pk])


class OrganizationIndexView(PlatformStaffOnly, generic.IndexView):
    pass


class OrganizationCreateView(PlatformStaffOnly, ServiceErrorsAsFormErrors, generic.CreateView):
    def get_initial_form_instance(self):
        return None

    def save_instance(self):
        data = self.form.cleaned_data
        organization = services.org_create(
            name=data["name"], subdomain=data["subdomain"], plan_name=data["plan_name"],
            max_users=data["max_users"], max_departments=data["max_departments"], time_zone=data["time_zone"],
            default_language=data["default_language"], actor=self.request.user,
        )
        if data.get("admin_email"):
            services.employee_create(
                organization=organization, actor=self.request.user, email=data["admin_email"],
                first_name=data.get("admin_first_name", ""), last_name=data.get("admin_last_name", ""),
                role=Role.ORG_ADMIN, request=self.request,
            )
        return organization


class OrganizationEditView(PlatformStaffOnly, ServiceErrorsAsFormErrors, generic.EditView):
    @cached_property
    def header_more_buttons(self):
        # Organisations are never deleted here (no delete URL): only remote support, where it is allowed.
        button = remote_support_button(self.object, Button)
        return [button] if button else []

    def get_usage_url(self):
        return None  # the viewset has no usage or delete view (this page failed on reversing them)

    def get_delete_url(self):
        return None

    def save_instance(self):
        organization = self.form.save(commit=False)
        if ("two_factor_policy" in self.form.changed_data and organization.two_factor_policy == "required"
                and not policy.has_two_factor(self.request.user)):
            # Saving would send the admin straight to the setup page: say so before, not after.
            raise ValidationError({"two_factor_policy": _(
                "Set up two-factor authentication for yourself first (My profile), then require it for everyone."
            )})
        return services.organization_update(
            organization=organization, actor=self.request.user, changes=services.changed_fields(self.form),
            request=self.request,
        )


class OrganizationViewSet(ModelViewSet):
    model = Organization
    name = menu_name = "organisations"
    menu_item_class = PlatformMenuItem
    icon = "site"
    menu_label = gettext_lazy("Organisations")
    menu_order = 100
    add_to_admin_menu = True
    copy_view_enabled = False
    search_fields = ["name", "subdomain"]
    index_view_class = OrganizationIndexView
    add_view_class = OrganizationCreateView
    edit_view_class = OrganizationEditView
    list_display = [
        TitleColumn("name", label=gettext_lazy("Name"), url_name="organisations:edit"),
        Column("hostname", label=gettext_lazy("Address")),
        Column("plan_name", label=gettext_lazy("Plan")),
        Column("max_users", label=gettext_lazy("Max users")),
        BooleanColumn("is_active", label=gettext_lazy("Active")),
        TitleColumn("remote_support", label=gettext_lazy("Remote support"), get_url=remote_support_url,
                    accessor=lambda org: _("Remote support") if remote_support_url(org) else _("not allowed")),
    ]

    def get_form_class(self, for_update=False):
        return OrganizationPlanForm if for_update else OrganizationCreateForm

    def get_urlpatterns(self):
        from .remote_support import RemoteSupportStartView

        return [p for p in super().get_urlpatterns() if p.name not in ("delete", "usage")] + [
            path("<int:pk>/remote-support/", RemoteSupportStartView.as_view(), name="remote_support"),
        ]


def admin_urls():
    return [
        path("employees/<int:pk>/invite/", EmployeeInviteView.as_view(), name="employee_invite"),
        path("employees/<int:pk>/two-factor/disable/", EmployeeDisableTwoFactorView.as_view(),
             name="employee_disable_two_factor"),
        path("organisation/", OrganizationSettingsView.as_view(), name="org_settings"),
        path("package/", PackageView.as_view(), name="org_package"),
    ]
