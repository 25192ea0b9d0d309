"""Writes for clients, availability and appointments.

Each function checks the policy and validates before it writes, runs in one transaction, audits, and
sends its emails only after the transaction has committed.
"""

import copy
import zoneinfo
from datetime import UTC, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from orgs import policy
from orgs.models import Department, Membership
from orgs.scoping import organization_scope
from orgs.services import audit_record

from . import links
from .default_texts import DEFAULT_EMAIL_TEXTS
from .models import (
    Appointment,
    AppointmentKind,
    AppointmentParticipant,
    AppointmentStatus,
    Availability,
    Client,
    EmailKind,
    EmailSet,
    EmailTemplate,
    ParticipantGroup,
    ParticipantRole,
    RetiredLink,
)
from .slots import Booked, normalise_rrule, occurrence_days, occurrences

CLIENT_FIELDS = ("initials", "first_name", "last_name", "date_of_birth", "email", "phone", "client_number",
                 "department", "language")


class SlotTakenError(ValidationError):
    pass


def _zone(organization):
    return zoneinfo.ZoneInfo(organization.time_zone)


# --- clients ------------------------------------------------------------------------------------

def _check_department(member, department):
    if department is None:
        return
    if department.organization_id != member.organization_id or not policy.can_view_department(member, department):
        raise ValidationError({"department": _("Choose one of your own departments.")})


@transaction.atomic
def client_create(*, member, is_external=False, groups=(), request=None, **fields):
    organization = member.organization
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown client fields: {unknown}")
    _check_department(member, fields.get("department"))
    if organization.strict_departments and not policy.sees_whole_organization(member) and not fields.get("department"):
        raise ValidationError({"department": _("Choose the client's department.")})
    if any(g.organization_id != organization.pk for g in groups):
        raise ValidationError({"groups": _("Choose groups of your own organisation.")})
    with organization_scope(organization):
        client = Client(organization=organization, is_external=is_external, created_by=member.user, **fields)
        client.full_clean()
        client.save()
        client.groups.set(groups)
        if member.pk and member.role == "practitioner":
            client.practitioners.add(member.user)  # a practitioner keeps sight of the clients they add
    audit_record(organization=organization, actor=member.user, action="client.create", target=client,
                 request=request)
    return client


@transaction.atomic
def client_update(*, member, client, changes, groups=None, request=None):
    # Visibility is decided on the record as stored, not on the edited copy (which could name another department).
    stored = Client.objects.with_scopes_disabled().filter(pk=client.pk, organization_id=member.organization_id).first()
    if stored is None or not policy.can_view_client(member, stored):
        raise PermissionDenied
    if client.department_id != stored.department_id:  # moving a client needs sight of where it goes
        _check_department(member, client.department)
    if groups is not None and any(g.organization_id != member.organization_id for g in groups):
        raise ValidationError({"groups": _("Choose groups of your own organisation.")})
    with organization_scope(member.organization):
        client.full_clean()
        client.save()
        if groups is not None:
            client.groups.set(groups)
    if changes:
        audit_record(organization=member.organization, actor=member.user, action="client.update", target=client,
                     changes=changes, request=request)
    return client


def client_record_viewed(*, member, client, request=None):
    """Every view of a client's record is logged: who, when, which client, acting for whom."""
    if not policy.can_view_client(member, client):
        raise PermissionDenied
    acting_for = ""
    if getattr(member, "is_remote_support", False):
        acting_for = _("remote support")
    audit_record(organization=member.organization, actor=member.user, action="client.view", target=client,
                 changes={"acting_for": [None, acting_for or member.get_role_display()]}, request=request)


# --- availability -------------------------------------------------------------------------------

# Overlaps are looked for this far ahead: a repeat is checked over its next year of occurrences.
OVERLAP_HORIZON = timedelta(days=366)


def _day_and_hours(organization, start, end):
    zone = _zone(organization)
    start, end = start.astimezone(zone), end.astimezone(zone)
    return date_format(start.date(), "l j F Y"), f"{start:%H:%M}", f"{end:%H:%M}"


def _check_no_overlap(member, availability, first_day, last_day):
    """Refuse hours that overlap the practitioner's other blocks between two local dates: slots would be offered
    twice and the agenda would show both. Occurrences are compared as real instants, so DST is taken care of."""
    organization = member.organization
    zone = _zone(organization)
    mine = occurrences(availability, zone, first_day, last_day)
    if not mine:
        return
    others = [other for other in Availability.objects.filter(practitioner_id=availability.practitioner_id)
              .exclude(pk=availability.pk).order_by("date", "start_time", "pk")]
    theirs = Booked(interval for other in others for interval in occurrences(other, zone, first_day, last_day))
    for start, end in mine:
        if not theirs.overlaps(start, end):
            continue
        local_day = start.astimezone(zone).date()
        for other in others:  # name the block it runs into: only that day's occurrences are expanded
            for other_start, other_end in occurrences(other, zone, local_day - timedelta(days=1),
                                                      local_day + timedelta(days=1)):
                if other_start < end and start < other_end:
                    day, hours_from, hours_until = _day_and_hours(organization, other_start, other_end)
                    values = {"day": day, "start": hours_from, "end": hours_until,
                              "name": availability.practitioner.user.get_full_name()}
                    if member.pk == availability.practitioner_id:
                        message = _("These hours overlap your hours on %(day)s %(start)s–%(end)s.") % values
                    else:
                        message = _("These hours overlap the hours of %(name)s on %(day)s %(start)s–%(end)s.") % values
                    raise ValidationError(message, code="overlap")
        raise ValidationError(_("These hours overlap other hours in this agenda."), code="overlap")


@transaction.atomic
def availability_save(*, member, availability, request=None):
    practitioner = availability.practitioner
    if not policy.can_manage_agenda(member, practitioner):
        raise PermissionDenied
    availability.organization = member.organization
    availability.rrule = normalise_rrule(availability.rrule)
    availability.full_clean()
    if availability.repeat_until and availability.repeat_until < availability.date:
        raise ValidationError({"repeat_until": _("The repeat must end after it starts.")})
    created = availability.pk is None
    with organization_scope(member.organization):
        _lock_agenda(practitioner)  # as for bookings: two overlapping blocks saved at once would both pass the check
        first_day = availability.date
        if availability.rrule:  # an old repeat matters from today on; its past is history
            first_day = max(first_day, timezone.localdate(timezone=_zone(member.organization)))
        _check_no_overlap(member, availability, first_day, first_day + OVERLAP_HORIZON)
        availability.save()
    audit_record(organization=member.organization, actor=member.user,
                 action="availability.create" if created else "availability.update", target=availability,
                 request=request)
    return availability


def _stored_availability(member, availability):
    """The block as stored, locked for the change; a block of another organisation or agenda is refused."""
    stored = Availability.objects.select_for_update().filter(
        pk=availability.pk, organization_id=member.organization_id).first()
    if stored is None or not policy.can_manage_agenda(member, stored.practitioner):
        raise PermissionDenied
    return stored


def _is_occurrence(availability, day):
    every_day = copy.copy(availability)
    every_day.exceptions = []
    return bool(availability.rrule) and day in occurrence_days(every_day, day, day)


@transaction.atomic
def availability_skip_day(*, member, availability, day, request=None):
    """Leave out one day of a repeating block (a holiday, a course): its slots disappear, the series stays."""
    with organization_scope(member.organization):
        stored = _stored_availability(member, availability)
        _require_occurrence(stored, day)
        skipped = list(stored.exceptions or [])
        if day.isoformat() in skipped:  # a second click on the same button
            return stored
        stored.exceptions = sorted([*skipped, day.isoformat()])
        stored.save(update_fields=["exceptions"])
    audit_record(organization=member.organization, actor=member.user, action="availability.update", target=stored,
                 changes={"exceptions": [skipped, stored.exceptions]}, request=request)
    availability.exceptions = stored.exceptions
    return stored


def _require_occurrence(availability, day):
    if not _is_occurrence(availability, day):
        raise ValidationError(_("These hours do not repeat on %(day)s.") % {"day": date_format(day, "l j F Y")},
                              code="not_an_occurrence")


@transaction.atomic
def availability_restore_day(*, member, availability, day, request=None):
    """Undo a skipped day. Refused when other hours have since been put on that day at the same time."""
    with organization_scope(member.organization):
        stored = _stored_availability(member, availability)
        skipped = list(stored.exceptions or [])
        if day.isoformat() not in skipped:
            return stored
        _require_occurrence(stored, day)
        _lock_agenda(stored.practitioner)
        stored.exceptions = [text for text in skipped if text != day.isoformat()]
        _check_no_overlap(member, stored, day, day)
        stored.save(update_fields=["exceptions"])
    audit_record(organization=member.organization, actor=member.user, action="availability.update", target=stored,
                 changes={"exceptions": [skipped, stored.exceptions]}, request=request)
    availability.exceptions = stored.exceptions
    return stored


@transaction.atomic
def availability_delete(*, member, availability, request=None):
    if not policy.can_manage_agenda(member, availability.practitioner):
        raise PermissionDenied
    audit_record(organization=member.organization, actor=member.user, action="availability.delete",
                 target=availability, request=request)
    with organization_scope(member.organization):
        availability.delete()


# --- appointments -------------------------------------------------------------------------------

def _add_participant(appointment, person, role):
    nonce = links.new_nonce()
    return AppointmentParticipant.objects.create(
        organization=appointment.organization, appointment=appointment, person=person, role=role,
        token_nonce=nonce, token_hash=links.token_hash(links.token_for(nonce)),
    )


def _check_target(member, practitioner, department):
    organization = member.organization
    if practitioner is None and department is None:
        raise ValidationError({"practitioner": _("Choose a practitioner.")})
    if department is not None and (
        department.organization_id != organization.pk or not policy.can_view_department(member, department)
    ):
        raise ValidationError({"department": _("Choose one of your own departments.")})
    if practitioner is not None:
        if not policy.can_schedule_for(member, practitioner):
            raise ValidationError({"practitioner": _("You cannot make appointments for this practitioner.")})
    else:
        if not policy.can_be_appointment_target(member, with_department=True):
            raise ValidationError({"practitioner": _("Choose a practitioner.")})
        if department.organization_id != organization.pk or not policy.can_view_department(member, department):
            raise ValidationError({"department": _("Choose one of your own departments.")})


def _lock_agenda(practitioner):
    """Serialise bookings per practitioner: the overlap check and the insert then happen one at a time.
    (The unique constraint only catches identical starts; a 40-minute appointment at 8:00 and one at 8:20
    would otherwise both pass the check under concurrency on PostgreSQL.)"""
    if practitioner is not None:
        Membership.objects.with_scopes_disabled().select_for_update().filter(pk=practitioner.pk).exists()


def _check_free(practitioner, starts_at, duration, exclude=None):
    if practitioner is None:
        return
    ends_at = starts_at + timedelta(minutes=duration)
    overlapping = Appointment.objects.with_scopes_disabled().filter(
        practitioner=practitioner, status=AppointmentStatus.SCHEDULED,
        starts_at__lt=ends_at, starts_at__gt=starts_at - timedelta(hours=8),
    )
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude.pk)
    for other in overlapping:
        if other.ends_at > starts_at:
            raise SlotTakenError({"starts_at": _("%(name)s already has an appointment at %(time)s.") % {
                "name": practitioner, "time": other.starts_at.astimezone(_zone(practitioner.organization))
                .strftime("%H:%M")}})


def _on_commit_send(appointment, kind, participants):
    from .emails import deliver

    def send():
        for participant in participants:
            mail_kind = kind
            if kind in (EmailKind.CONFIRMATION,) and participant.role == ParticipantRole.GUEST:
                mail_kind = EmailKind.INVITATION
            deliver(appointment=appointment, participant=participant, kind=mail_kind)

    transaction.on_commit(send)


def _check_questionnaires(member, questionnaires):
    from formbuilder.models import Questionnaire

    for questionnaire in questionnaires:
        if not isinstance(questionnaire, Questionnaire) or not policy.can_send_questionnaire(member, questionnaire):
            raise ValidationError({"questionnaires": _("You cannot send “%(title)s”.") % {
                "title": getattr(questionnaire, "title", questionnaire)}})


def appointment_create(
    *, member, client, starts_at, practitioner=None, department=None, duration_minutes=20, client_number="",
    personal_message="", guests=(), kind=AppointmentKind.APPOINTMENT, questionnaires=(), rate=None, request=None,
):
    """Schedule an appointment and email the client (and guests) their personal links.

    With `questionnaires`, the client gets their copies (F-FORM-3) in the same transaction and one
    questionnaire email after the commit. Raises ValidationError (nothing written) for a bad target,
    client, time, a questionnaire the member may not send, or a taken slot.
    """
    organization = member.organization
    starts_at = starts_at.astimezone(UTC)
    _check_target(member, practitioner, department)
    if client.organization_id != organization.pk or not policy.can_view_client(member, client):
        raise ValidationError({"client": _("Choose one of your clients.")})
    if any(g.organization_id != organization.pk or not g.is_external for g in guests):
        raise ValidationError({"guests": _("Extra participants must be external participants of your organisation.")})
    questionnaires = list(questionnaires)
    _check_questionnaires(member, questionnaires)
    if rate is not None:  # a paid appointment (F-PAY-2): the rate itself is checked again by book()
        from payments.charges import rate_check

        if not policy.can_set_appointment_rate(member):
            raise ValidationError({"rate": _("You cannot make paid appointments.")})
        rate_check(organization, rate)
    now = timezone.now()
    if kind == AppointmentKind.APPOINTMENT and starts_at < now - timedelta(minutes=5):
        raise ValidationError({"starts_at": _("This time has passed; choose a time in the future.")})
    return book(
        organization=organization, client=client, starts_at=starts_at, practitioner=practitioner,
        department=department, duration_minutes=duration_minutes, kind=kind, client_number=client_number,
        personal_message=personal_message, guests=guests, actor=member.user, request=request,
        questionnaires=questionnaires, sender=member, rate=rate,
    )


def book(
    *, organization, client, starts_at, practitioner=None, department=None, duration_minutes=20,
    kind=AppointmentKind.APPOINTMENT, client_number="", personal_message="", guests=(), actor=None,
    precondition=None, check_free=True, audit_changes=None, questionnaires=(), sender=None, rate=None, request=None,
):
    """Write an appointment whose caller has checked who may make it: lock the practitioner's agenda,
    run `precondition()` under that lock (it raises ValidationError to refuse), check the time is free,
    add the participants, audit, and email their links after the commit.

    Staff scheduling and the public widgets (whose visitor is no member) share it, so both keep the same
    double-booking guarantees. Walk-ins queue in the waiting room, so they skip the overlap check
    (`check_free=False`). `questionnaires` (checked by the caller; `sender` is the member sending them)
    become the client's copies for this appointment, in the same transaction, and one email after it.
    With `rate` (checked by the caller for who may use it) the appointment carries a charge (F-PAY-2).
    Raises ValidationError / SlotTakenError with nothing written.
    """
    starts_at = starts_at.astimezone(UTC)
    try:
        with transaction.atomic(), organization_scope(organization):
            _lock_agenda(practitioner)
            if precondition is not None:
                precondition()
            if check_free:
                _check_free(practitioner, starts_at, duration_minutes)
            appointment = Appointment(
                organization=organization, practitioner=practitioner,
                department=department or (client.department if practitioner is None else None) or department,
                client=client, starts_at=starts_at, duration_minutes=duration_minutes, kind=kind,
                client_number=client_number or client.client_number, personal_message=personal_message,
                created_by=actor,
            )
            if appointment.department is None and practitioner is not None and client.department_id:
                appointment.department = client.department
            appointment.full_clean(validate_unique=False, validate_constraints=False)
            appointment.save()
            participants = [_add_participant(appointment, client, ParticipantRole.CLIENT)]
            participants += [_add_participant(appointment, guest, ParticipantRole.GUEST) for guest in guests]
            if practitioner is not None:
                client.practitioners.add(practitioner.user)
            # The client's chat with their practitioner (or department) exists from the first appointment on
            # (F-CHAT-1); every way of booking (portal, widgets, quick consult, API) comes through here.
            from chat.services import channel_ensure_for_appointment

            channel_ensure_for_appointment(appointment=appointment)
            audit_record(organization=organization, actor=actor, action="appointment.create",
                         target=appointment, request=request,
                         changes={"starts_at": [None, starts_at.isoformat()], "client_id": [None, client.pk],
                                  **(audit_changes or {})})
            if rate is not None:
                from payments.charges import charge_attach

                charge_attach(appointment=appointment, rate=rate, actor=actor, request=request)
            _on_commit_send(appointment, EmailKind.CONFIRMATION, participants)
            if questionnaires:
                _questionnaires_for_booking(sender, client, appointment, questionnaires, actor, request)
    except IntegrityError:
        # Two requests raced for the same slot; the database let exactly one in.
        raise SlotTakenError({"starts_at": _("This time has just been booked by someone else; choose another.")})
    return appointment


def _questionnaires_for_booking(sender, client, appointment, questionnaires, actor, request):
    from formbuilder.services import responses_create

    from .emails import questionnaire_request_on_commit

    responses = responses_create(member=sender, client=client, questionnaires=questionnaires,
                                 appointment=appointment)
    for response in responses:
        audit_record(organization=appointment.organization, actor=actor, action="questionnaire.send",
                     target=response, request=request)
    questionnaire_request_on_commit(client=client, responses=responses, appointment=appointment)


def quick_consult_create(*, member, client, guests=(), rate=None, request=None):
    """A consult that starts now with the member as practitioner (F-APPT-7)."""
    if not policy.can_act_live(member):
        raise ValidationError(_("Only employees of the organisation hold consults."))
    return appointment_create(
        member=member, client=client, practitioner=member, starts_at=timezone.now().replace(microsecond=0),
        guests=guests, kind=AppointmentKind.QUICK, rate=rate, request=request,
    )


def _editable(member, appointment):
    if not policy.can_change_appointment(member, appointment):
        raise PermissionDenied
    if appointment.status != AppointmentStatus.SCHEDULED or appointment.anonymised_at:
        raise ValidationError(_("This appointment is cancelled or over and cannot be changed."))
    if appointment.ends_at < timezone.now():
        raise ValidationError(_("This appointment is over and cannot be changed."))


def appointment_reschedule(*, member, appointment, starts_at, duration_minutes=None, request=None):
    """Move an appointment: old links stop working (with a clear message), everyone gets new ones."""
    _editable(member, appointment)
    starts_at = starts_at.astimezone(UTC)
    if starts_at < timezone.now() - timedelta(minutes=5):
        raise ValidationError({"starts_at": _("This time has passed; choose a time in the future.")})
    old, old_duration = appointment.starts_at, appointment.duration_minutes
    duration = duration_minutes or appointment.duration_minutes
    if starts_at == old and duration == old_duration:
        return appointment  # nothing moves: no new links, no emails
    try:
        with transaction.atomic(), organization_scope(member.organization):
            _lock_agenda(appointment.practitioner)
            _check_free(appointment.practitioner, starts_at, duration, exclude=appointment)
            appointment.starts_at = starts_at
            appointment.duration_minutes = duration
            appointment.ical_sequence += 1
            appointment.save()
            participants = list(appointment.participants.all())
            for participant in participants:
                RetiredLink.objects.create(organization=appointment.organization, appointment=appointment,
                                           token_hash=participant.token_hash)
                participant.token_nonce = links.new_nonce()
                participant.token_hash = links.token_hash(links.token_for(participant.token_nonce))
                participant.save(update_fields=["token_nonce", "token_hash"])
            audit_record(organization=member.organization, actor=member.user, action="appointment.reschedule",
                         target=appointment, request=request,
                         changes={"starts_at": [old.isoformat(), starts_at.isoformat()],
                                  "duration_minutes": [old_duration, duration]})
            _on_commit_send(appointment, EmailKind.RESCHEDULE, participants)
    except IntegrityError:
        appointment.refresh_from_db()  # the caller's object shows what is stored, not the refused change
        raise SlotTakenError({"starts_at": _("This time has just been booked by someone else; choose another.")})
    return appointment


@transaction.atomic
def appointment_cancel(*, member, appointment, message="", request=None):
    _editable(member, appointment)
    with organization_scope(member.organization):
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = timezone.now()
        appointment.ical_sequence += 1
        if message:
            appointment.personal_message = message
        appointment.save()
        participants = list(appointment.participants.all())
    audit_record(organization=member.organization, actor=member.user, action="appointment.cancel",
                 target=appointment, request=request)
    _on_commit_send(appointment, EmailKind.CANCELLATION, participants)
    _on_commit_refund(appointment)
    return appointment


def _on_commit_refund(appointment):
    """A paid appointment that is cancelled is refunded through the provider (F-PAY). The refund is recorded
    with the cancellation (a lost task only delays it: the refund schedule retries it); the provider is asked
    from a queued task, because it may be slow or down, and only once the cancellation is committed. A broker
    that is down does not fail the cancellation: refund_retry picks the pending refund up."""
    from payments.services import refund_open_for_cancellation, refund_queue_on_commit

    refund_open_for_cancellation(appointment)
    refund_queue_on_commit("payments.tasks.refund_for_cancelled_appointment", appointment.pk)


@transaction.atomic
def appointment_update_details(*, member, appointment, personal_message, client_number, request=None):
    _editable(member, appointment)
    # The audit log says what changed, not the text: it outlives anonymisation.
    changes = {}
    if personal_message != appointment.personal_message:
        changes["personal_message"] = [None, "changed"]
    if client_number != appointment.client_number:
        changes["client_number"] = [None, "changed"]
    if not changes:
        return appointment
    appointment.personal_message = personal_message
    appointment.client_number = client_number
    appointment.ical_sequence += 1
    with organization_scope(member.organization):
        appointment.save(update_fields=["personal_message", "client_number", "ical_sequence"])
        participants = list(appointment.participants.all())
    audit_record(organization=member.organization, actor=member.user, action="appointment.update",
                 target=appointment, changes=changes, request=request)
    if "personal_message" in changes:  # the client hears about what they can read; links stay the same
        _on_commit_send(appointment, EmailKind.RESCHEDULE, participants[:1])
    return appointment


def participant_link(participant):
    return links.link_url(participant.appointment.organization, links.token_for(participant.token_nonce))


# --- email sets ---------------------------------------------------------------------------------

def default_email_set_create(*, organization):
    """Every organisation starts with a default set in nl, en, de and es (idempotent)."""
    with organization_scope(organization):
        email_set = EmailSet.objects.filter(is_default=True).first()
        if email_set is None:
            email_set = EmailSet.objects.create(organization=organization, name=_("Standard texts"), is_default=True)
        for kind, languages in DEFAULT_EMAIL_TEXTS.items():
            for language, (subject, body) in languages.items():
                EmailTemplate.objects.get_or_create(
                    organization=organization, email_set=email_set, kind=kind, language=language,
                    defaults={"subject": subject, "body": body},
                )
    return email_set


def default_participant_groups_create(*, organization):
    with organization_scope(organization):
        for name in (_("Family"), _("Home care")):
            ParticipantGroup.objects.get_or_create(organization=organization, name=name)


def practitioners_for(member):
    """Colleagues `member` may make appointments for (active practitioners and admins with departments)."""
    queryset = policy.visible_employees(member, Membership.objects.select_related("user", "organization")).filter(
        is_active=True
    )
    # Practitioners first; admins who also see clients (a GP running a small practice) after them.
    members = sorted(queryset, key=lambda m: (m.role != "practitioner", m.user.last_name, m.user.first_name))
    return [m for m in members if policy.can_schedule_for(member, m)]


def default_practitioner(member):
    """Whose agenda a screen starts with: one's own as a practitioner, else the first practitioner."""
    if member.role == "practitioner" and member.pk is not None:
        return member
    fallback = member if member.pk is not None else None
    return next((m for m in practitioners_for(member) if m.role == "practitioner"), fallback)


def departments_for_appointments(member):
    return policy.visible_departments(member, Department.objects.all())


def walk_in_set(*, member, is_open):
    """The practitioner's walk-in switch (F-ROOM-10): whether the walk-in widget may send visitors now."""
    if not policy.can_act_live(member) or member.role not in ("practitioner", "department_admin", "org_admin"):
        raise PermissionDenied
    type(member).objects.with_scopes_disabled().filter(pk=member.pk).update(walk_in_open=is_open)
    member.walk_in_open = is_open
    return member
