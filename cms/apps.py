from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def grant_translation_permission(app_config, using="default", **kwargs):
    """Organisations made before web pages could be translated let their admins translate them too."""
    from orgs.services import admins_permissions_grant_on_migrate

    admins_permissions_grant_on_migrate(using=using, app_label="wagtail_localize", codenames=["submit_translation"])


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Web pages")

    def ready(self):
        from . import signals  # noqa: F401
        from .page_cache import connect_signals

        connect_signals()  # site changes clear the organisation's cached pages
        post_migrate.connect(grant_translation_permission, sender=self)
