"""Client-side error reports from the room and the waiting room (issue #10, F-USAGE-1 "errors").

    client_error_record(organization=, kind=, source=, role=, appointment=, message=, detail=, user_agent=)
    reporter_for(request, appointment_id=None) -> Reporter | None
    rate_limited(request, reporter) -> bool

Kept apart from usage/services.py (the roll-ups) so the two can change independently. A report holds no
patient data beyond the appointment's id: the text is the browser's own, cut to the field lengths, and
stripped of control and format characters so it cannot break a log line or turn a report page's text around
(U+202E and friends).
"""

import hashlib
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from orgs import policy
from orgs.scoping import organization_scope
from portal import throttle

from .models import ClientError, ClientErrorKind, ClientErrorRole, ClientErrorSource

# Per participant or employee session: a page reports at most 10 (error-report.js), so 20 in 10 minutes
# is a reload or two; a loop or a script gets 429s, not rows.
SESSION_LIMIT = 20
# Per address, over every session on this organisation's host: higher, as a practice (or a family) behind
# one address may have several people in rooms at once.
ADDRESS_LIMIT = 100
WINDOW_SECONDS = 10 * 60

_FIELD = {name: ClientError._meta.get_field(name).max_length for name in ("message", "detail", "user_agent")}


@dataclass(frozen=True)
class Reporter:
    """Who sends a report: their role, the appointment their session is for (None for staff outside a
    room), and the key their reports are counted under."""

    role: str
    appointment: object
    key: str


def clean_text(value, max_length):
    """The text without control or format characters (line breaks become spaces), cut to `max_length`."""
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    value = value[: max_length * 4]  # bounded work however long the input
    kept = []
    for char in value:
        if char in "\t\n\r":
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf", "Cs"):
            kept.append(char)
    return "".join(kept).strip()[:max_length]


def client_error_record(*, organization, kind, source, role, appointment=None, message="", detail="",
                        user_agent=""):
    """Store one report. Raises ValidationError for a kind, source or role we do not know."""
    if kind not in ClientErrorKind.values:
        raise ValidationError(_("Unknown kind of error."))
    if source not in ClientErrorSource.values:
        raise ValidationError(_("Unknown place of the error."))
    if role not in ClientErrorRole.values:
        raise ValidationError(_("Unknown role."))
    if appointment is not None and appointment.organization_id != organization.pk:
        raise ValidationError(_("Unknown appointment."))  # a caller's mistake; never another organisation's link
    with organization_scope(organization):
        return ClientError.objects.create(
            organization=organization, kind=kind, source=source, role=role, appointment=appointment,
            message=clean_text(message, _FIELD["message"]), detail=clean_text(detail, _FIELD["detail"]),
            user_agent=clean_text(user_agent, _FIELD["user_agent"]),
        )


def reporter_for(request, appointment_id=None):
    """Who may report on this host: an employee of the host's organisation signed in here, or the patient or
    extra participant whose link this browser opened (consult/views.py keeps it in the session). Anyone else:
    None. An employee wins when a browser is both (staff trying a patient link in their own browser).

    The appointment comes from the session for a participant. An employee's session names none; the staff
    room's page passes its appointment in the report URL, and it counts only when this employee may hold that
    consult (a foreign id: None, so the view answers 404 as everywhere)."""
    from consult import room, selectors
    from consult.views import SESSION_PARTICIPANT, SESSION_TOKEN

    organization = request.organization
    if organization is None:
        return None
    session_key = request.session.session_key or ""
    member = getattr(request, "membership", None)
    if request.user.is_authenticated and policy.can_use_portal(member):
        appointment = None
        if appointment_id is not None:
            with organization_scope(organization):
                appointment = selectors.appointment_for(member, appointment_id)
            if appointment is None or not policy.can_hold_consult(member, appointment):
                return None
        return Reporter(role=ClientErrorRole.STAFF, appointment=appointment, key=f"m{member.pk}:{session_key}")
    if appointment_id is not None:
        return None  # only the staff room names an appointment
    participant = room.participant_by_session(organization, request.session.get(SESSION_PARTICIPANT),
                                              request.session.get(SESSION_TOKEN))
    if participant is None:
        return None
    role = ClientErrorRole.CLIENT if participant.role == "client" else ClientErrorRole.GUEST
    return Reporter(role=role, appointment=participant.appointment, key=f"p{participant.pk}:{session_key}")


def _digest(value):
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def rate_limited(request, reporter):
    """Count one report for the reporter's session and the request's address; True when either is over its
    limit (the shared cache: Redis in production, so every worker counts together)."""
    organization = request.organization.pk
    if throttle.hit(f"clienterr:s:{organization}:{_digest(reporter.key)}", limit=SESSION_LIMIT,
                    window_seconds=WINDOW_SECONDS) is not None:
        return True
    address = request.META.get("REMOTE_ADDR", "")
    return throttle.hit(f"clienterr:a:{organization}:{_digest(address)}", limit=ADDRESS_LIMIT,
                        window_seconds=WINDOW_SECONDS) is not None
