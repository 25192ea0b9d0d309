from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Web pages")

    def ready(self):
        from . import signals  # noqa: F401
        from .page_cache import connect_signals

        connect_signals()  # site changes clear the organisation's cached pages
