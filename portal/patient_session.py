"""Who is signed in to the patient portal, kept in the Django session (patients have no accounts).

The session holds the signed-in client ids, the organisation, the QR access code that opened it (if any)
and the time of the last request. It ends after the organisation's idle period, at logout, when its access
code is revoked or expires, and whenever a staff sign-in shares the browser: the patient session never makes
`request.user` authenticated, and the two are never held at once.
"""

import time
from dataclasses import dataclass

from django.contrib import auth

KEY = "patient_portal"
HINT = "patient_hint"  # the client a personal portal link named (a hint only: it grants nothing)
PENDING = "patient_pending"  # what the last PIN request was for (also when nothing matched)
ENDED = "patient_ended"  # why the last session ended, shown once on the sign-in page

ENDED_IDLE = "idle"
ENDED_LOGOUT = "logout"
ENDED_CODE = "code"


@dataclass
class PatientSession:
    organization: object
    client_ids: list
    access_code_id: int | None = None


def sign_in(request, client_ids, access_code=None):
    """Start a patient session for `client_ids` of the host's organisation (a new session key)."""
    if request.user.is_authenticated:
        auth.logout(request)  # a staff sign-in in this browser ends: never both at once
    else:
        request.session.cycle_key()
    for key in (HINT, PENDING, ENDED):
        request.session.pop(key, None)
    request.session[KEY] = {
        "org": request.organization.pk,
        "clients": sorted(set(client_ids)),
        "code": access_code.pk if access_code is not None else None,
        "last": time.time(),
    }


def sign_out(request, reason=ENDED_LOGOUT):
    from consult.views import SESSION_DISCLAIMER, SESSION_PARTICIPANT, SESSION_TOKEN

    had = request.session.pop(KEY, None) is not None
    # The waiting room the portal opened for this patient ends too (a shared device is not left open).
    for key in (PENDING, SESSION_PARTICIPANT, SESSION_TOKEN, SESSION_DISCLAIMER):
        request.session.pop(key, None)
    if had:
        request.session.cycle_key()
        request.session[ENDED] = reason


def idle_seconds(organization):
    return max(1, organization.patient_session_minutes or 20) * 60


def current(request, *, touch=True):
    """The signed-in patient of this request, or None (ending a session that is no longer valid)."""
    from consult.models import Client

    from .models import AccessCode

    data = request.session.get(KEY)
    organization = getattr(request, "organization", None)
    if not data or organization is None:
        return None
    if data.get("org") != organization.pk or request.user.is_authenticated:
        request.session.pop(KEY, None)
        return None
    now = time.time()
    if now - data.get("last", 0) > idle_seconds(organization):
        sign_out(request, ENDED_IDLE)
        return None
    code_id = data.get("code")
    if code_id is not None:
        code = AccessCode.objects.filter(pk=code_id, client_id__in=data.get("clients", [])).first()
        if code is None or not code.is_valid:
            sign_out(request, ENDED_CODE)
            return None
    client_ids = list(Client.objects.filter(pk__in=data.get("clients", []), is_external=False)
                      .values_list("pk", flat=True))
    if not client_ids:
        sign_out(request, ENDED_LOGOUT)
        return None
    if touch:
        data["last"] = now
        request.session[KEY] = data
    return PatientSession(organization=organization, client_ids=client_ids, access_code_id=code_id)
