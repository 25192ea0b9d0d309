from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

# What organisation admins may do in the questionnaire editor (Wagtail checks these model permissions).
ADMIN_PERMISSIONS = ["add_questionnaire", "change_questionnaire", "delete_questionnaire", "view_questionnaire"]


def grant_questionnaire_permissions(app_config, using="default", **kwargs):
    """Organisations that existed before questionnaires let their admins edit them too."""
    from orgs.services import admins_permissions_grant_on_migrate

    admins_permissions_grant_on_migrate(using=using, app_label=app_config.label, codenames=ADMIN_PERMISSIONS)


def admins_group_grant(organization):
    from django.contrib.auth.models import Permission

    permissions = Permission.objects.filter(content_type__app_label="formbuilder", codename__in=ADMIN_PERMISSIONS)
    organization.admins_group.permissions.add(*permissions)


class FormbuilderConfig(AppConfig):
    """Questionnaires with encrypted answers (issue 6)."""

    name = "formbuilder"
    verbose_name = _("Questionnaires")

    def ready(self):
        from orgs.events import organization_created

        from .anamnesis import default_questionnaires_create

        def starting_data(sender, organization, **kwargs):
            admins_group_grant(organization)
            default_questionnaires_create(organization=organization)

        organization_created.connect(starting_data, dispatch_uid="formbuilder.starting_data", weak=False)
        post_migrate.connect(grant_questionnaire_permissions, sender=self)
