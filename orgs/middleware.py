"""Host → organisation, the organisation scope, and who may enter which area.

Order in MIDDLEWARE: OrganizationHostMiddleware (before sessions) → … → AuthenticationMiddleware →
OrganizationAccessMiddleware → … → AdminTenantGuardMiddleware (needs the resolved view).
"""

import re
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from wagtail.models import Page

from . import policy, selectors
from .scoping import organization_scope, scopes_disabled

SESSION_ORG_KEY = "openconsult_organization"
PLATFORM = "platform"


def session_binding(organization):
    """What a session records about where it signed in: the organisation's id, or the platform host."""
    return organization.pk if organization is not None else PLATFORM


class OrganizationHostMiddleware:
    """Resolve the organisation from the host and run the whole request inside its scope.

    Unknown hosts are a 404: never Wagtail's default site, never another organisation.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        hostname = request.get_host().rsplit(":", 1)[0].lower().rstrip(".")
        if hostname == settings.BASE_DOMAIN or hostname in getattr(settings, "PLATFORM_HOST_ALIASES", ()):
            request.organization = None
            return self.get_response(request)
        organization = selectors.organization_for_host(hostname)
        if organization is None:
            raise Http404(_("There is no organisation at this address."))
        request.organization = organization
        request._wagtail_site = organization.site
        with organization_scope(organization), timezone.override(zoneinfo.ZoneInfo(organization.time_zone)):
            return self.get_response(request)


class OrganizationAccessMiddleware:
    """Bind sessions to the host they signed in on, attach `request.membership`, gate /admin/."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organization = request.organization
        request.membership = None
        if request.user.is_authenticated:
            # Cookies are host-only already; this makes a session useless on any other host even if
            # its cookie were copied there.
            if request.session.get(SESSION_ORG_KEY) != session_binding(organization):
                request.user = AnonymousUser()
            elif organization is not None:
                # Platform staff are here only through remote support, signed in as an employee
                # (orgs/remote_support.py marks that membership after this middleware).
                request.membership = selectors.membership_for(request.user, organization)
                if request.membership is None:  # deactivated since signing in
                    request.user = AnonymousUser()
            elif not request.user.is_superuser:
                request.user = AnonymousUser()

        language = getattr(request.user, "language", "")
        if language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            # An explicit choice in the language switch (the cookie) wins over the profile setting.
            translation.activate(language)
            request.LANGUAGE_CODE = language

        if organization is not None and request.path.startswith("/admin/") and request.user.is_authenticated:
            if not policy.can_use_admin(request.membership):
                if request.path != "/admin/":
                    raise Http404
                messages.info(request, _("The admin is for organisation admins. Here is your portal."))
                return redirect("portal:home")

        if organization is None and request.user.is_authenticated and request.user.is_superuser:
            with scopes_disabled():
                return self.get_response(request)
        return self.get_response(request)


# Admin areas that are the platform's, not an organisation's: on an organisation host they do not exist.
# Tags are one namespace for the whole installation, and page privacy lists every organisation's groups.
# An organisation has one media collection; "add to collection" (a bulk update that skips the media's save)
# could only move media into a collection of another organisation the user also belongs to.
PLATFORM_ONLY_ADMIN_PATHS = re.compile(
    r"^/admin/(sites|users|groups|workflows|workflow_tasks|workflow_history|redirects|locales|collections|"
    r"reports|settings|organisations|tag-autocomplete|pages/\d+/privacy|"
    r"bulk/cms/org(image|document)/(add_tags|add_to_collection)|"
    # wagtail-localize: its report lists every translation of the installation; no snippet of ours is translatable.
    r"localize/(reports|submit/snippet|api/snippets))(/|$)"
)
# Organisation content: platform staff reach it only through remote support on the organisation's host,
# where it is scoped and audited.
ORGANIZATION_ONLY_ADMIN_PATHS = re.compile(
    r"^/admin/(pages|images|documents|choose-page|bulk/(wagtailcore|cms)|localize/(submit|update|translate|page))(/|$)"
)
PAGE_ID_KWARGS = ("page_id", "parent_page_id", "page_to_move_id", "destination_id", "page_pk")
# Request fields through which Wagtail's page views, choosers, bulk actions and API name pages.
PAGE_ID_FIELDS = ("id", "child_of", "descendant_of", "parent_page_id", "new_parent_page", "chooser", "destination")
PAGE_PATHS = ("/admin/pages/", "/admin/bulk/wagtailcore/page/", "/admin/choose-page/", "/admin/api/main/pages/")


class AdminTenantGuardMiddleware:
    """Another organisation's page in the admin is a 404, never a 403 that confirms it exists.

    Images, documents and our own models are scoped by their managers; Wagtail's Page model is not,
    so every admin URL or form field that names a page is checked against the organisation's tree here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organization = getattr(request, "organization", None)
        if organization is None and request.path.startswith("/documents/"):
            raise Http404  # documents belong to organisations and are served on their hosts only
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.path.startswith("/admin/"):
            return None
        organization = getattr(request, "organization", None)
        if organization is None:
            if ORGANIZATION_ONLY_ADMIN_PATHS.match(request.path):
                raise Http404
            return None
        if PLATFORM_ONLY_ADMIN_PATHS.match(request.path):
            raise Http404
        page_ids = [str(view_kwargs[name]) for name in PAGE_ID_KWARGS if name in view_kwargs]
        if request.path.startswith("/admin/api/main/pages/") and "pk" in view_kwargs:
            page_ids.append(str(view_kwargs["pk"]))
        if request.path.startswith(PAGE_PATHS):
            for data in (request.GET, request.POST):
                for field in PAGE_ID_FIELDS:
                    # "root": the API's name for the request's site root, the organisation's own.
                    page_ids.extend(value for value in data.getlist(field) if value not in ("", "root"))
        if page_ids and not pages_belong_to(organization, page_ids):
            raise Http404
        if not translation_ids_belong_to(organization, view_kwargs):
            raise Http404
        return None


def pages_belong_to(organization, page_ids):
    """True when every id is written plainly (no "+4", " 4") and names a page in the organisation's tree
    (its site root, the root's translations in other languages, and everything below them)."""
    from cms.selectors import organization_pages

    if not all(isinstance(i, str) and i.isascii() and i.isdigit() for i in page_ids):
        return False
    ids = {int(i) for i in page_ids}
    # Wagtail's root node is the common parent of a site root and its translations, so the explorer starts
    # there for an organisation with translated pages; Wagtail lists only the pages the user may explore.
    ids.discard(Page.get_first_root_node().pk)
    found = organization_pages(organization).filter(pk__in=ids).count()
    return found == len(ids)


def translation_ids_belong_to(organization, view_kwargs):
    """wagtail-localize's views name a translation or a translation source: both must be of a page of the
    organisation (they are found by the translation key their pages share)."""
    from wagtail_localize.models import Translation, TranslationSource

    keys = []
    if "translation_source_id" in view_kwargs:
        source = TranslationSource.objects.filter(pk=view_kwargs["translation_source_id"]).values("object_id").first()
        keys.append(source["object_id"] if source else None)
    if "translation_id" in view_kwargs:
        row = Translation.objects.filter(pk=view_kwargs["translation_id"]).values("source__object_id").first()
        keys.append(row["source__object_id"] if row else None)
    if not keys:
        return True
    if None in keys:
        return False
    from cms.selectors import organization_pages

    return all(organization_pages(organization).filter(translation_key=key).exists() for key in keys)
