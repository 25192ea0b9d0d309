"""The organisation admin inside Wagtail: our screens in, platform-wide screens out, trees scoped."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from .views.admin import (
    AuditViewSet,
    DepartmentViewSet,
    EmployeeViewSet,
    OrganizationMenuItem,
    OrganizationViewSet,
    admin_urls,
)

# Menu items that belong to the platform, never to an organisation admin.
# On the platform's own host: organisation content is reached only through remote support.
ORGANIZATION_CONTENT_MENU_ITEMS = {"explorer", "images", "documents"}
PLATFORM_MENU_ITEMS = {
    "reports", "help", "sites", "collections", "users", "groups", "workflows", "workflow-tasks", "redirects",
    "locales",
}


@hooks.register("register_admin_viewset")
def register_viewsets():
    return [DepartmentViewSet(), EmployeeViewSet(), AuditViewSet(), OrganizationViewSet()]


@hooks.register("register_admin_urls")
def register_admin_urls():
    return admin_urls()


@hooks.register("register_settings_menu_item")
def register_settings_item():
    return OrganizationMenuItem(
        _("Organisation settings"), reverse("org_settings"), name="organisation-settings", icon_name="cogs", order=10
    )


@hooks.register("register_settings_menu_item")
def register_package_item():
    return OrganizationMenuItem(_("My package"), reverse("org_package"), name="package", icon_name="doc-full", order=20)


@hooks.register("register_admin_urls")
def register_lockout_urls():
    from django.urls import path

    from .views.lockouts import LockoutsView

    return [path("lockouts/", LockoutsView.as_view(), name="org_lockouts")]


@hooks.register("register_settings_menu_item")
def register_lockouts_item():
    return OrganizationMenuItem(_("Sign-in lockouts"), reverse("org_lockouts"), name="signin-lockouts",
                                icon_name="lock", order=31)


def _prune(request, menu_items):
    # Our own items decide for themselves (OrganizationMenuItem, PlatformMenuItem); Wagtail's
    # platform-wide items are removed by their fixed names.
    hidden = PLATFORM_MENU_ITEMS if request.organization is not None else ORGANIZATION_CONTENT_MENU_ITEMS
    menu_items[:] = [item for item in menu_items if item.name not in hidden]


@hooks.register("construct_main_menu")
def prune_main_menu(request, menu_items):
    _prune(request, menu_items)


@hooks.register("construct_settings_menu")
def prune_settings_menu(request, menu_items):
    _prune(request, menu_items)


def _org_tree(request, pages):
    if request.organization is None:
        return pages
    return pages.descendant_of(request.organization.root_page, inclusive=True)


@hooks.register("construct_explorer_page_queryset")
def scope_explorer(parent_page, pages, request):
    return _org_tree(request, pages)


@hooks.register("construct_page_chooser_queryset")
def scope_page_chooser(pages, request):
    return _org_tree(request, pages)


# Wagtail's page listing filters offer every site, page owner and editor of the whole installation;
# on an organisation's host they offer only the organisation's own.
def _scope_page_filters():
    from django.contrib.auth import get_user_model
    from wagtail.admin.views.pages.listing import PageFilterSet
    from wagtail.models import Page, PageLogEntry, Site

    def sites(request):
        if request.organization is None:
            return Site.objects.all()
        return Site.objects.filter(pk=request.organization.site_id)

    def org_page_ids(request):
        return _org_tree(request, Page.objects.all()).values_list("pk", flat=True)

    def owners(request):
        owner_ids = _org_tree(request, Page.objects.order_by()).values_list("owner_id", flat=True)
        return get_user_model().objects.filter(pk__in=owner_ids)

    def editors(request):
        user_ids = PageLogEntry.objects.filter(action="wagtail.edit", page_id__in=org_page_ids(request)).values_list(
            "user_id", flat=True
        )
        return get_user_model().objects.filter(pk__in=user_ids)

    replacements = {"site": sites, "owner": owners, "edited_by": editors}
    filtersets = [PageFilterSet]
    while filtersets:
        filterset = filtersets.pop()
        filtersets.extend(filterset.__subclasses__())
        for collection in (filterset.declared_filters, filterset.base_filters):
            for name, queryset in replacements.items():
                if name in collection:
                    collection[name].queryset = queryset


_scope_page_filters()


@hooks.register("register_account_menu_item")
def account_profile_item(request):
    # Name, phone, photo and password live in one place, the portal's My profile (allauth underneath).
    return {"url": reverse("portal:profile"), "label": _("My profile"), "help_text": _("Name, phone, photo, language")}


@hooks.register("construct_homepage_summary_items", order=1000)  # after Wagtail adds its items
def no_content_summary_on_the_platform_host(request, summary_items):
    # Page, image and document counts link into organisation content, which the platform host does not serve.
    if request.organization is None:
        summary_items.clear()


@hooks.register("register_admin_urls")
def register_api_key_urls():
    from .views.api_keys import admin_urls as api_key_urls

    return api_key_urls()


@hooks.register("register_settings_menu_item")
def register_api_keys_item():
    return OrganizationMenuItem(_("API keys"), reverse("api_keys"), name="api-keys", icon_name="key", order=40)


@hooks.register("insert_global_admin_css")
def admin_css():
    from django.templatetags.static import static
    from django.utils.html import format_html

    return format_html('<link rel="stylesheet" href="{}">', static("css/admin.css"))
