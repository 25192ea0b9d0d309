from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def grant_sso_permissions(app_config, using="default", **kwargs):
    """Organisations that existed before single sign-on let their admins manage its providers too."""
    from orgs.services import admins_permissions_grant_on_migrate

    admins_permissions_grant_on_migrate(using=using, app_label=app_config.label)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import receivers  # noqa: F401

        post_migrate.connect(grant_sso_permissions, sender=self)
