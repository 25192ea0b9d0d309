"""The versioned REST API (F-ORG-4): /api/v1/…, its OpenAPI schema at /api/openapi.json, docs at /api/docs.

Authentication: ``Authorization: Bearer oc_<prefix>_<secret>`` on an organisation's host; the key must be
one of that organisation's (orgs/api_keys.py). Wrong keys are throttled per address on the organisation's host
(accounts/signin_throttle.py, path "api_key"), never per key prefix: the prefix is not secret, the 256-bit secret
cannot be guessed, and a prefix lock would let anyone keep an integration locked out. A good key has a rate limit
of its own. The call then acts
as the key's org-admin-like member, inside the organisation's scope, and its audit rows name the key.
Bearer auth needs no CSRF token (no cookie is involved).
"""

import functools
import math
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.openapi.docs import DocsBase
from ninja.security import HttpBearer

from accounts import signin_throttle
from consult.api import router as consult_router
from consult.services import SlotTakenError
from orgs import api_keys
from orgs.services import audit_acting_as
from portal import throttle

CALLS_PER_MINUTE = 600  # per key: plenty for an agenda sync, a brake on a runaway loop
# Field names of the forms and models behind the API, as the API's bodies call them.
FIELD_NAMES = {"department": "department_id", "client": "client_id", "practitioner": "practitioner_id"}


class TooManyRequestsError(Exception):
    def __init__(self, retry_after, message):
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))
        self.message = message


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key from the admin (Settings → API keys): oc_<id>_<secret>."

    def authenticate(self, request, token):
        organization = getattr(request, "organization", None)
        if organization is None:
            return None  # the platform host has no API
        locked = signin_throttle.locked_until(path="api_key", key=None, organization=organization, request=request)
        if locked is not None:
            raise TooManyRequestsError(locked.timestamp() - time.time(), signin_throttle.message(locked))
        api_key = api_keys.authenticate(organization, token)
        if api_key is None:
            until = signin_throttle.failed(path="api_key", key=None, organization=organization, request=request)
            if until is not None:
                raise TooManyRequestsError(until.timestamp() - time.time(), signin_throttle.message(until))
            return None
        window_end = throttle.hit(f"api:calls:{api_key.pk}", limit=CALLS_PER_MINUTE, window_seconds=60)
        if window_end is not None:
            raise TooManyRequestsError(window_end - time.time(),
                                  _("Too many requests for this key; slow down and try again shortly."))
        api_key.organization = organization
        api_keys.mark_used(api_key)
        member = api_keys.api_member(api_key)
        request.membership = member
        return member


class LocalSwagger(DocsBase):
    """Swagger UI from our own origin (django-ninja's bundled copy, VENDOR_STATIC in settings): our CSP
    allows scripts from 'self' only, so the CDN page ninja renders without it in INSTALLED_APPS cannot load."""

    def render_page(self, request, api, **kwargs):
        return render(request, "orgs/api_keys/docs.html", {
            "api": api, "openapi_url": reverse(f"{api.urls_namespace}:openapi-json"),
            "swagger_js": static("vendor/swagger-ui/swagger-ui-bundle.js"),
            "swagger_css": static("vendor/swagger-ui/swagger-ui.css"),
        })


api = NinjaAPI(
    title="OpenConsult API",
    version="1",
    description=(
        "Clients, appointments, availability and free slots of one organisation. Call it on the organisation's "
        "own address with `Authorization: Bearer <API key>`; org admins create keys in the admin."
    ),
    urls_namespace="api-1",
    auth=ApiKeyAuth(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=LocalSwagger(),
)


def acting_as_key(view_func):
    """Audit rows written during the call name the key (they have no user as actor)."""

    @functools.wraps(view_func)
    def wrapper(request, *args, **kwargs):
        member = getattr(request, "auth", None)
        if member is None or not hasattr(member, "api_key"):
            return view_func(request, *args, **kwargs)
        with audit_acting_as(api_keys.acting_label(member.api_key)):
            return view_func(request, *args, **kwargs)

    return wrapper


api.add_decorator(acting_as_key, mode="operation")
api.add_router("/v1", consult_router)


def _field_errors(error, status):
    details = []
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            name = FIELD_NAMES.get(field, field)
            loc = ["body"] if field == "__all__" else ["body", name]
            details.extend({"loc": loc, "msg": message, "type": "value_error"} for message in errors)
    else:
        details.extend({"loc": ["body"], "msg": message, "type": "value_error"} for message in error.messages)
    return details


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    status = 409 if isinstance(exc, SlotTakenError) else 422
    return api.create_response(request, {"detail": _field_errors(exc, status)}, status=status)


@api.exception_handler(TooManyRequestsError)
def too_many_requests(request, exc):
    response = api.create_response(request, {"detail": exc.message}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Http404)
def not_found(request, exc):
    message = str(exc) if exc.args and isinstance(exc.args[0], str) else _("Not found.")
    return api.create_response(request, {"detail": message}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    # The key acts as an organisation admin; what it still may not do is not there for it.
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc):
    return api.create_response(request, {"detail": _("A valid API key of this organisation is required.")},
                               status=401)
