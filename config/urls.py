from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from accounts import sso as account_sso
from accounts import views as account_views
from cms import views as cms_views
from config.api import api
from orgs.views import remote_support as remote_support_views

urlpatterns = [
    # One sign-in for the portal and the admin: allauth's (throttled, MFA-aware).
    # Django's own admin (django.contrib.admin) is not mounted anywhere, so it has no unthrottled login
    # (/django-admin/, /admin/django/ are 404s: tests/accounts/test_throttle_paths.py). Every staff sign-in is
    # allauth's, throttled by accounts/signin_throttle.py; a POST of credentials here only redirects.
    path("admin/login/", RedirectView.as_view(pattern_name="account_login", query_string=True)),
    path("admin/account/", account_views.admin_account),
    # The login email is managed by the organisation (employees) or platform staff, never self-served:
    # an address added here could later receive another organisation's invitation.
    re_path(r"^accounts/(email|confirm-email)/", account_views.not_available),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # Single sign-on: our views in front of allauth's (this host's providers only; ID token signatures checked).
    path("accounts/oidc/<str:provider_id>/login/", account_sso.login),
    path("accounts/oidc/<str:provider_id>/login/callback/", account_sso.callback),
    path("accounts/", include("allauth.urls")),
    path("portal/", include("portal.urls")),
    path("patient/", include("portal.patient_urls")),
    path("c/", include("consult.urls")),
    path("pay/", include("payments.urls")),
    path("usage/", include("usage.urls")),  # error reports from the room and the waiting room (#10)
    # Remote support by platform staff (F-ORG-10): the handoff from the platform host, ending it, why it ended.
    path("support/enter/<str:token>/", remote_support_views.enter, name="remote_support_enter"),
    path("support/end/", remote_support_views.end, name="remote_support_end"),
    path("support/ended/", remote_support_views.ended, name="remote_support_ended"),
    path("widgets/chat/", include("chat.urls_widget")),  # the public chat widget (F-CHAT-6)
    path("widgets/", include("widgets.urls")),
    # REST API (F-ORG-4): /api/v1/…, /api/openapi.json, /api/docs (config/api.py).
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", cms_views.home, name="home"),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
urlpatterns += [path("", include(wagtail_urls))]
