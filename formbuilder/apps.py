from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FormbuilderConfig(AppConfig):
    """Questionnaires with encrypted answers (issue 6)."""

    name = "formbuilder"
    verbose_name = _("Questionnaires")
