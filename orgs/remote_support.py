"""Remote support (F-ORG-10): platform staff act as one employee of an organisation that allows it.

1. Start, on the platform host (orgs/views/remote_support.py, from the Organisations admin): the staff member
   picks an active employee, gives a reason and confirms with a fresh code of their own authenticator app
   (allauth's TOTP check, which refuses a replayed code). `remote_support_start` returns a handoff URL.
2. Handoff: cookies are host-only, so the organisation's host receives a signed token that lives 60 seconds
   and works once (a cache key is deleted on use). `remote_support_enter` signs in AS THE EMPLOYEE and keeps
   `remote_support = {staff_id, staff_email, reason, until, started}` in the session.
3. During the session `RemoteSupportMiddleware` ends it when its time is up or the organisation switched
   support off, refuses password / two-factor / sign-in connection pages, audits every unsafe request, and
   marks every audit row written meanwhile ("staff as employee (remote support)", see `current_support`).
   The member keeps the employee's rights except patient-facing live actions (orgs.policy.can_act_live).
"""

import re
import secrets
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import auth
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Membership

SESSION_KEY = "remote_support"
TOKEN_SALT = "openconsult.orgs.remote_support.handoff"
TOKEN_MAX_AGE = 60  # seconds
BACKEND = "accounts.auth_backends.OrganizationAuthenticationBackend"
# Wrong authenticator codes when starting: at most this many per staff member in CODE_FAILURE_WINDOW seconds.
MAX_CODE_FAILURES = 5
CODE_FAILURE_WINDOW = 15 * 60

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# The employee's password, two-factor authentication and sign-in connections are theirs alone: staff acting as
# them never reach these (allauth's pages, Wagtail's own password pages, the admin's two-factor/password
# actions on employees).
# Nor anything that would outlast the session: new employees (a set-password link to an address of the staff
# member's choosing), API keys, single sign-on providers or linked sign-in identities.
FORBIDDEN_PATHS = re.compile(
    r"^/(accounts/(password|2fa|mfa|3rdparty|social|reauthenticate|sessions|oidc)/"
    r"|admin/(employees/new|api-keys|sso_providers)(/|$)"
    r"|admin/password_reset/"
    r"|admin/employees/\d+/[^/]*(2fa|mfa|two[-_]factor|password|authenticator|passkey|webauthn)"
    r"|portal/profile/[^/]*(password|2fa|mfa|two[-_]factor|authenticator|passkey|webauthn))"
)

_current = ContextVar("remote_support", default=None)


def duration_minutes():
    return int(getattr(settings, "REMOTE_SUPPORT_MINUTES", 60))


# --- who acts: marks for the audit log -------------------------------------------------------------------

class Acting:
    """The running support session, as the audit log names it."""

    def __init__(self, staff_email, employee_email):
        self.staff_email = staff_email
        self.employee_email = employee_email

    @property
    def actor_label(self):
        return _("%(staff)s as %(employee)s (remote support)") % {
            "staff": self.staff_email, "employee": self.employee_email}

    @property
    def acting_for(self):
        return _("remote support")


def current_support():
    """The support session the current request (or socket message) runs in, else None (orgs.services.audit_record)."""
    return _current.get()


@contextmanager
def acting(data, employee_email):
    """Every audit row written inside names the staff member acting as the employee."""
    token = _current.set(Acting(data.get("staff_email", ""), employee_email))
    try:
        yield
    finally:
        _current.reset(token)


def remote_support_labels():
    """The "remote support" capacity in every language (rows are written in the request's language)."""
    labels = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            labels.add(_("remote support"))
    return labels


# --- the staff member's authenticator ----------------------------------------------------------------------

def staff_totp(user):
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).first()


def _failures_key(user):
    return f"remote_support.code_failures:{user.pk}"


def _check_code(staff, code):
    """allauth's TOTP check (a replayed code is refused); wrong codes are counted and then throttled."""
    from allauth.mfa.totp.internal.auth import TOTP

    authenticator = staff_totp(staff)
    if authenticator is None:
        raise ValidationError(_("Activate an authenticator app for your own account first."), code="no_totp")
    key = _failures_key(staff)
    if (cache.get(key) or 0) >= MAX_CODE_FAILURES:
        raise ValidationError({"code": _("Too many wrong codes. Try again in 15 minutes.")}, code="throttled")
    if not TOTP(authenticator).validate_code((code or "").strip()):
        if not cache.add(key, 1, CODE_FAILURE_WINDOW):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, CODE_FAILURE_WINDOW)
        raise ValidationError({"code": _("This code is not correct, or it was used already. Wait for the next code.")},
                              code="bad_code")
    cache.delete(key)


# --- services -----------------------------------------------------------------------------------------------

def supportable_employees(organization):
    return (Membership.objects.with_scopes_disabled().select_related("user")
            .filter(organization=organization, is_active=True, user__is_active=True)
            .order_by("user__last_name", "user__first_name", "user__email"))


def may_support(organization):
    return organization is not None and organization.is_active and organization.allow_remote_support


def _handoff_key(nonce):
    return f"remote_support.handoff:{nonce}"


def remote_support_start(*, staff, organization, employee, reason, code):
    """Check the staff member's code and return the one-time URL that opens the session on the organisation's host.

    Nothing is written and no session exists until the URL is used (`remote_support_enter` audits the start).
    """
    if not staff.is_active or not staff.is_superuser or not may_support(organization):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you need access.")})
    if employee is None or employee.organization_id != organization.pk or not employee.is_active \
            or not employee.user.is_active:
        raise ValidationError({"employee": _("Choose an active employee of this organisation.")})
    _check_code(staff, code)
    nonce = secrets.token_urlsafe(16)
    cache.add(_handoff_key(nonce), 1, TOKEN_MAX_AGE + 5)
    token = signing.dumps({"o": organization.pk, "m": employee.pk, "s": staff.pk, "r": reason[:500], "n": nonce},
                          salt=TOKEN_SALT, compress=True)
    return f"{organization.base_url}/support/enter/{token}/"


def remote_support_enter(*, request, token):
    """Use a handoff token on the organisation's host: sign in as the employee; returns the Membership.

    Refused (PermissionDenied) when the token is forged, older than a minute, used before, meant for another
    organisation, or when the organisation no longer allows support or the employee is no longer active.
    """
    from .services import audit_record

    organization = request.organization
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        raise PermissionDenied from None
    if not may_support(organization) or data.get("o") != organization.pk:
        raise PermissionDenied
    if not cache.delete(_handoff_key(data.get("n", ""))):
        raise PermissionDenied  # used already (or expired)
    employee = supportable_employees(organization).filter(pk=data.get("m")).first()
    staff = auth.get_user_model().objects.filter(pk=data.get("s"), is_active=True, is_superuser=True).first()
    if employee is None or staff is None:
        raise PermissionDenied
    now = timezone.now()
    until = now + timedelta(minutes=duration_minutes())
    auth.login(request, employee.user, backend=BACKEND)
    support = {"staff_id": staff.pk, "staff_email": staff.email, "reason": data.get("r", ""),
               "until": until.isoformat(), "started": now.isoformat(), "employee_email": employee.user.email}
    request.session[SESSION_KEY] = support
    with acting(support, employee.user.email):
        audit_record(organization=organization, actor=staff, action="remote_support.start", target=employee,
                     changes={"staff": staff.email, "employee": employee.user.email, "reason": support["reason"],
                              "until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
                     request=request)
    return employee


def remote_support_end(*, request, why):
    """End the running session: audited with `why`, then signed out (the session is flushed)."""
    from .services import audit_record

    support = request.session.get(SESSION_KEY)
    organization = getattr(request, "organization", None)
    if support and organization is not None:
        user = request.user if request.user.is_authenticated else None
        with acting(support, getattr(user, "email", "") or support.get("employee_email", "")):
            audit_record(organization=organization, actor=user, action="remote_support.end",
                         changes={"staff": support.get("staff_email", ""), "reason": str(why)}, request=request)
    auth.logout(request)


def support_until(support):
    try:
        return datetime.fromisoformat(support["until"])
    except (KeyError, TypeError, ValueError):
        return None


def end_reason(request, support):
    """Why the session must end now, else None."""
    until = support_until(support)
    if until is None or timezone.now() >= until:
        return "expired"
    organization = request.organization
    if not may_support(organization):
        return "disabled"
    if not request.user.is_authenticated:
        return "invalid"  # the employee was deactivated or the session was no longer valid
    staff = auth.get_user_model().objects.filter(pk=support.get("staff_id"), is_active=True,
                                                 is_superuser=True).exists()
    return None if staff else "invalid"


END_REASONS = {
    "expired": lambda: _("time limit reached"),
    "disabled": lambda: _("the organisation switched remote support off"),
    "invalid": lambda: _("the session was no longer valid"),
    "ended": lambda: _("ended by the staff member"),
    "signed_out": lambda: _("signed out"),
}


def mark_member(member, session):
    """The staff WebSocket consumers' view of a member: marked like the middleware marks it during remote
    support, and None once the support session's time is up (the next page request ends it and audits)."""
    support = session.get(SESSION_KEY) if session is not None and member is not None else None
    if not support:
        return member
    until = support_until(support)
    if until is None or timezone.now() >= until or not may_support(member.organization):
        return None
    member.is_remote_support = True
    return member


# --- during the session ---------------------------------------------------------------------------------------

class RemoteSupportMiddleware:
    """After OrganizationAccessMiddleware (needs `request.membership`) and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.remote_support = None
        organization = getattr(request, "organization", None)
        session = getattr(request, "session", None)
        support = session.get(SESSION_KEY) if organization is not None and session is not None else None
        if not support:
            return self.get_response(request)

        why = end_reason(request, support)
        if why is not None:
            remote_support_end(request=request, why=END_REASONS[why]())
            return redirect(f"/support/ended/?why={why}")

        request.remote_support = dict(support, until_at=support_until(support))
        member = request.membership
        member.is_remote_support = True
        with acting(support, request.user.email):
            if FORBIDDEN_PATHS.match(request.path):
                return render(request, "orgs/remote_support/forbidden.html", status=403)
            if request.method == "POST" and request.path in ("/accounts/logout/", "/admin/logout/"):
                remote_support_end(request=request, why=END_REASONS["signed_out"]())
                return redirect("/support/ended/?why=signed_out")
            response = self.get_response(request)
            if request.method in UNSAFE_METHODS and not request.path.startswith("/support/"):
                from .services import audit_record

                audit_record(organization=organization, actor=request.user, action="remote_support.action",
                             changes={"method": request.method, "path": request.path[:300],
                                      "status": response.status_code}, request=request)
        return response
