from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from accounts import views as account_views
from cms import views as cms_views

urlpatterns = [
    # One sign-in for the portal and the admin: allauth's (throttled, MFA-aware).
    path("admin/login/", RedirectView.as_view(pattern_name="account_login", query_string=True)),
    path("admin/account/", account_views.admin_account),
    # The login email is managed by the organisation (employees) or platform staff, never self-served:
    # an address added here could later receive another organisation's invitation.
    re_path(r"^accounts/(email|confirm-email)/", account_views.not_available),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("allauth.urls")),
    path("portal/", include("portal.urls")),
    path("patient/", include("portal.patient_urls")),
    path("c/", include("consult.urls")),
    path("widgets/", include("widgets.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", cms_views.home, name="home"),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
urlpatterns += [path("", include(wagtail_urls))]
