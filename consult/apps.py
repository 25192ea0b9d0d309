from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultConfig(AppConfig):
    """Clients, availability, appointments, waiting and consultation rooms, chat."""

    name = "consult"
    verbose_name = _("Consultations")

    def ready(self):
        from orgs.events import organization_created

        from .services import default_email_set_create, default_participant_groups_create

        def starting_data(sender, organization, **kwargs):
            default_email_set_create(organization=organization)
            default_participant_groups_create(organization=organization)

        organization_created.connect(starting_data, dispatch_uid="consult.starting_data", weak=False)
