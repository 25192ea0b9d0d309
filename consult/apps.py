from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultConfig(AppConfig):
    """Clients, availability, appointments, waiting and consultation rooms, chat (issues 3, 4, 9)."""

    name = "consult"
    verbose_name = _("Consultations")
