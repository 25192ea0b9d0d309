from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def grant_widget_permissions(app_config, using="default", **kwargs):
    """Organisations that existed before the widgets let their admins manage them too (new organisations get
    the permissions from orgs.services.group_permissions_sync)."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission

    from orgs.models import Organization

    create_permissions(app_config, using=using, verbosity=0)  # ours may not exist yet on the first migrate
    permissions = list(Permission.objects.using(using).filter(content_type__app_label=app_config.label))
    for organization in Organization.objects.using(using).select_related("admins_group"):
        organization.admins_group.permissions.add(*permissions)


class WidgetsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "widgets"
    verbose_name = _("Widgets")

    def ready(self):
        post_migrate.connect(grant_widget_permissions, sender=self)
