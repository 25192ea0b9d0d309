"""Writes from the public widgets: a walk-in visitor enters a waiting room, a visitor books a slot.

The visitor is no employee, so the policy questions are answered by the widget itself (its organisation,
its departments, its practitioners); the appointment is written by consult.services.book, the same
locked and checked code staff scheduling uses. Everything a submission writes (the client too) is one
transaction: a refusal leaves nothing behind.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from consult.models import AppointmentKind, Client, ParticipantRole
from consult.services import SlotTakenError, book, participant_link
from orgs.scoping import organization_scope
from orgs.services import audit_record

from . import selectors

WALK_IN_MINUTES = 20


def _visitor_language():
    language = (get_language() or "")[:2]
    return language if language in dict(settings.LANGUAGES) else None


def split_given_name(given):
    """"J.K." or "JK" are initials; "Jan" is a first name whose initial is kept too."""
    given = " ".join((given or "").split())
    if not given:
        return "", ""
    if "." in given or (len(given) <= 3 and given.isupper()):
        return given, ""
    return f"{given[0].upper()}.", given


def client_match_or_create(*, organization, details, department=None, request=None):
    """The organisation's client with the same last name, date of birth and email (case-insensitive), or a
    new one. A match is only used, never changed: a visitor cannot rewrite someone's record."""
    last_name = details["last_name"].strip()
    date_of_birth = details.get("date_of_birth")
    email = (details.get("email") or "").strip()
    if date_of_birth and email:
        existing = Client.objects.filter(
            organization=organization, is_external=False, last_name__iexact=last_name,
            date_of_birth=date_of_birth, email__iexact=email,
        ).order_by("pk").first()
        if existing is not None:
            return existing
    initials, first_name = split_given_name(details.get("given_name", ""))
    client = Client(
        organization=organization, initials=initials or "-", first_name=first_name, last_name=last_name,
        date_of_birth=date_of_birth, email=email, phone=details.get("phone", ""),
        client_number=details.get("client_number", ""), department=department,
        language=_visitor_language() or organization.default_language,
    )
    client.full_clean(exclude=["email"] if not email else None)  # a walk-in may come without an address
    client.save()
    audit_record(organization=organization, actor=None, action="client.create", target=client, request=request,
                 changes={"source": [None, "widget"]})
    return client


def _department_for(widget, practitioner, department=None):
    if department is not None:
        return department
    chosen = {d.pk for d in selectors.widget_departments(widget)}
    return next((d for d in practitioner.departments.all() if d.pk in chosen), None)


def walk_in_start(*, widget, practitioner_id, details, department_id=None, request=None, now=None):
    """A walk-in appointment starting now with the chosen practitioner; returns (appointment, link).

    Refused with a ValidationError, nothing written, when the practitioner is not (or no longer) available.
    """
    organization = widget.organization
    now = now or timezone.now()
    gone = ValidationError({"practitioner": _(
        "This person is no longer available for walk-ins. Choose someone else or try again later."
    )})
    with organization_scope(organization):
        return _walk_in_start(widget, practitioner_id, department_id, details, gone, request, now)


def _walk_in_start(widget, practitioner_id, department_id, details, gone, request, now):
    organization = widget.organization
    practitioner = next((p for p in selectors.widget_practitioners(widget) if p.pk == practitioner_id), None)
    if practitioner is None:
        raise gone
    department = _department_for(widget, practitioner, next(
        (d for d in practitioner.departments.all() if d.pk == department_id), None))

    def still_available():
        # Read again under the agenda lock: the switch may have gone off since the visitor loaded the page.
        practitioner.refresh_from_db(fields=["walk_in_open", "is_active"])
        if not practitioner.is_active or not selectors.is_available_for_walk_in(practitioner, now):
            raise gone

    with transaction.atomic():
        client = client_match_or_create(organization=organization, details=details, department=department,
                                        request=request)
        appointment = book(
            organization=organization, client=client, practitioner=practitioner, department=department,
            starts_at=now,
            duration_minutes=WALK_IN_MINUTES, kind=AppointmentKind.WALK_IN, client_number=details.get(
                "client_number", ""), precondition=still_available, check_free=False,
            audit_changes={"widget": [None, widget.name]}, rate=widget.charged_rate(), request=request,
        )
        participant = appointment.participants.get(role=ParticipantRole.CLIENT)
    return appointment, participant_link(participant)


def booking_make(*, widget, slot_value, details, request=None, now=None):
    """Book the slot the visitor chose; returns the appointment (its confirmation email goes after commit).

    Raises SlotTakenError, nothing written, when the slot was taken or is no longer offered meanwhile.
    """
    organization = widget.organization
    now = now or timezone.now()
    with organization_scope(organization):
        return _booking_make(widget, slot_value, details, request, now)


def _booking_make(widget, slot_value, details, request, now):
    organization = widget.organization
    taken = SlotTakenError({"slot": _("This time was just booked; pick another.")})
    slot, practitioner = selectors.find_slot(widget, slot_value, now=now)
    if slot is None:
        raise taken

    def still_free():
        # Under the agenda lock: a booking that committed since the page was shown is seen here.
        again, _practitioner = selectors.find_slot(widget, slot_value, now=now)
        if again is None:
            raise taken

    department = _department_for(widget, practitioner)
    with transaction.atomic():
        client = client_match_or_create(organization=organization, details=details, department=department,
                                        request=request)
        appointment = book(
            organization=organization, client=client, practitioner=practitioner, department=department,
            starts_at=slot.starts_at, duration_minutes=int((slot.ends_at - slot.starts_at) / timedelta(minutes=1)),
            kind=AppointmentKind.APPOINTMENT, client_number=details.get("client_number", ""),
            precondition=still_free, audit_changes={"widget": [None, widget.name]}, rate=widget.charged_rate(),
            request=request,
        )
    return appointment
