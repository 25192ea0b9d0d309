from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def grant_widget_permissions(app_config, using="default", **kwargs):
    """Organisations that existed before the widgets let their admins manage them too."""
    from orgs.services import admins_permissions_grant_on_migrate

    admins_permissions_grant_on_migrate(using=using, app_label=app_config.label)


class WidgetsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "widgets"
    verbose_name = _("Widgets")

    def ready(self):
        post_migrate.connect(grant_widget_permissions, sender=self)
