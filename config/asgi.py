"""One ASGI application: Django for HTTP, Channels consumers for WebSockets.

Fast paths sit in front of Django for HTTP: the health probes (config/health.py), static files
(config/static_files.py) and cached published site pages (cms/page_cache.py); they answer without entering
Django.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from cms.page_cache import PageCache  # noqa: E402
from config.health import HealthProbes  # noqa: E402
from config.static_files import StaticFiles  # noqa: E402
from config.websocket_urls import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": HealthProbes(StaticFiles(PageCache(django_asgi_app))),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
