from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def grant_translation_permission(app_config, using="default", **kwargs):
    """Organisations made before web pages could be translated let their admins translate them too (new
    organisations get the permission from orgs.services.group_permissions_sync)."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission

    from orgs.models import Organization

    create_permissions(apps.get_app_config("wagtail_localize"), using=using, verbosity=0)  # may not exist yet
    permission = Permission.objects.using(using).filter(
        content_type__app_label="wagtail_localize", codename="submit_translation").first()
    if permission is None:
        return
    for organization in Organization.objects.using(using).select_related("admins_group"):
        organization.admins_group.permissions.add(permission)


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Web pages")

    def ready(self):
        from . import signals  # noqa: F401

        post_migrate.connect(grant_translation_permission, sender=self)
