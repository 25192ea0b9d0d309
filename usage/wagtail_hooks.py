"""The usage reports in the Wagtail admin: a main menu item and the page's URLs (usage/views/reports.py)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from .views.reports import UsageReportsMenuItem, admin_urls


@hooks.register("register_admin_urls")
def register_usage_report_urls():
    return admin_urls()


@hooks.register("register_admin_menu_item")
def register_usage_reports_item():
    # Not named "reports": that is Wagtail's own (platform-only) reports menu, pruned on organisation hosts.
    return UsageReportsMenuItem(_("Usage reports"), reverse("usage_reports"), name="usage-reports",
                                icon_name="table", order=240)
