"""The waiting room: who is waiting (presence in the database), who sees them, calling them in.

Changes are announced to channel groups after the transaction commits; the groups carry no data
beyond "something changed" or the patient's own call, so nothing leaks to a wrong listener.
"""

from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs import policy
from orgs.scoping import organization_scope
from orgs.services import audit_record

from .models import Appointment, AppointmentStatus, WaitingEntry, WaitingStatus

# A patient whose socket has been silent this long is shown as gone (a closed laptop, a lost network).
PRESENCE_TIMEOUT = timedelta(seconds=75)


def practitioner_group(membership_id):
    return f"waiting.practitioner.{membership_id}"


def department_group(department_id):
    return f"waiting.department.{department_id}"


def appointment_group(appointment_id):
    return f"waiting.appointment.{appointment_id}"


def staff_groups_for(appointment):
    if appointment.practitioner_id:
        return [practitioner_group(appointment.practitioner_id)]
    if appointment.department_id:
        return [department_group(appointment.department_id)]
    return []


def _announce(groups, message):
    layer = get_channel_layer()

    def send():
        for group in groups:
            async_to_sync(layer.group_send)(group, message)

    transaction.on_commit(send)


def waiting_enter(*, participant, now=None):
    """The patient's waiting-room socket connected: enter, or come back to the same place."""
    now = now or timezone.now()
    appointment = participant.appointment
    with transaction.atomic(), organization_scope(appointment.organization):
        entry, created = WaitingEntry.objects.get_or_create(
            participant=participant,
            defaults={"organization": appointment.organization, "appointment": appointment, "entered_at": now,
                      "last_seen_at": now},
        )
        if not created:
            if entry.status == WaitingStatus.LEFT:
                entry.status = WaitingStatus.WAITING
            entry.connected = True
            entry.last_seen_at = now
            entry.save(update_fields=["status", "connected", "last_seen_at"])
        _announce(staff_groups_for(appointment), {"type": "waiting.changed"})
    return entry


def waiting_seen(*, entry, now=None):
    WaitingEntry.objects.with_scopes_disabled().filter(pk=entry.pk).update(
        last_seen_at=now or timezone.now(), connected=True
    )


def waiting_disconnected(*, entry):
    """The socket closed; the place is kept (a reload or a new tab comes back to it)."""
    with transaction.atomic():
        WaitingEntry.objects.with_scopes_disabled().filter(pk=entry.pk).update(connected=False)
        _announce(staff_groups_for(entry.appointment), {"type": "waiting.changed"})


def waiting_for(member, *, now=None):
    """Who waits for `member`: their own appointments and their departments' appointments (F-WAIT-2, F-APPT-5)."""
    now = now or timezone.now()
    mine = Q(appointment__practitioner=member.pk) if member.pk else Q(pk__in=[])
    departments = policy.member_department_ids(member)
    theirs = Q(appointment__practitioner__isnull=True, appointment__department__in=departments)
    if member.role == "org_admin":
        theirs |= Q(appointment__practitioner__isnull=True)
    visible = policy.visible_appointments(member, Appointment.objects.all())
    return (
        WaitingEntry.objects.filter(mine | theirs, appointment__in=visible, status=WaitingStatus.WAITING,
                                    appointment__status=AppointmentStatus.SCHEDULED,
                                    last_seen_at__gte=now - PRESENCE_TIMEOUT)
        .select_related("appointment__department", "appointment__practitioner__user", "participant__person")
        .order_by("entered_at")
    )


def waiting_entry_for(member, entry_id):
    return waiting_for(member).filter(pk=entry_id).first()


def arrival_state(entry):
    """green: on time; red: late (waiting after the start); yellow: walk-in."""
    if entry.appointment.kind == "walk_in":
        return "walk_in"
    return "late" if timezone.now() > entry.appointment.starts_at else "on_time"


def waiting_call_in(*, member, entry, request=None):
    """Bring the patient in: their waiting room hears it at once (F-WAIT-3)."""
    appointment = entry.appointment
    if not policy.can_view_appointment(member, appointment):
        raise PermissionDenied
    if entry.status != WaitingStatus.WAITING:
        raise ValidationError(_("This person is no longer waiting."))
    with transaction.atomic(), organization_scope(member.organization):
        entry.status = WaitingStatus.CALLED
        entry.called_at = timezone.now()
        entry.called_by = member if member.pk else None
        entry.save(update_fields=["status", "called_at", "called_by"])
        audit_record(organization=member.organization, actor=member.user, action="waiting.call_in",
                     target=appointment, request=request)
        _announce([appointment_group(appointment.pk)], {"type": "waiting.called"})
        _announce(staff_groups_for(appointment), {"type": "waiting.changed"})
    return entry
