from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def grant_questionnaire_permissions(app_config, using="default", **kwargs):
    """Organisations that existed before questionnaires let their admins edit them too."""
    from orgs.services import admins_permissions_grant_on_migrate

    admins_permissions_grant_on_migrate(using=using, app_label=app_config.label)


class FormbuilderConfig(AppConfig):
    """Questionnaires with encrypted answers (issue 6)."""

    name = "formbuilder"
    verbose_name = _("Questionnaires")

    def ready(self):
        from orgs.events import organization_created

        from .anamnesis import default_questionnaires_create

        def starting_data(sender, organization, **kwargs):
            default_questionnaires_create(organization=organization)

        organization_created.connect(starting_data, dispatch_uid="formbuilder.starting_data", weak=False)
        post_migrate.connect(grant_questionnaire_permissions, sender=self)
