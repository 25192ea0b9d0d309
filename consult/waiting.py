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

from .models import Announcement, Appointment, AppointmentStatus, WaitingEntry, WaitingStatus

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
    from .room import consult_start

    appointment = entry.appointment
    if not policy.can_hold_consult(member, appointment):
        raise PermissionDenied  # also platform staff giving remote support (member.is_remote_support): they look
    if entry.status != WaitingStatus.WAITING:
        raise ValidationError(_("This person is no longer waiting."))
    # Calling in and opening the consult succeed or fail together: no one is left "called" with no room.
    with transaction.atomic(), organization_scope(member.organization):
        entry.status = WaitingStatus.CALLED
        entry.called_at = timezone.now()
        entry.called_by = member if member.pk else None
        entry.save(update_fields=["status", "called_at", "called_by"])
        audit_record(organization=member.organization, actor=member.user, action="waiting.call_in",
                     target=appointment, request=request)
        _announce(staff_groups_for(appointment), {"type": "waiting.changed"})
        consult_start(member=member, appointment=appointment, request=request)  # lets the patient in
    return entry


# --- service announcements (F-WAIT-4) -----------------------------------------------------------

def announcements_group(organization_id):
    return f"waiting.announcements.{organization_id}"


def active_announcements(appointment, *, now=None):
    """What a patient waiting for `appointment` is shown: organisation-wide and their department's, newest first."""
    now = now or timezone.now()
    return list(
        Announcement.objects.with_scopes_disabled()
        .filter(Q(department__isnull=True) | Q(department=appointment.department_id),
                organization_id=appointment.organization_id)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at")
        .values_list("text", flat=True)[:10]
    )


def announcements_for(member):
    """The announcements `member` may manage: all of them for organisation admins, their departments' otherwise."""
    queryset = Announcement.objects.select_related("department").filter(organization_id=member.organization_id)
    if member.role == "org_admin":
        return queryset
    return queryset.filter(department__in=policy.member_department_ids(member))


def announcement_create(*, member, text, department=None, expires_at=None, request=None):
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError({"text": _("Write the announcement.")})
    if department is not None and department.organization_id != member.organization_id:
        raise ValidationError({"department": _("Choose one of your own departments.")})
    if not policy.can_manage_announcements(member, department):
        raise ValidationError({"department": _("You can only make announcements for your own departments.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("Choose a moment in the future.")})
    with transaction.atomic(), organization_scope(member.organization):
        announcement = Announcement(organization=member.organization, department=department, text=text,
                                    expires_at=expires_at, created_by=member.user)
        announcement.full_clean()
        announcement.save()
        audit_record(organization=member.organization, actor=member.user, action="announcement.create",
                     target=announcement, request=request)
        _announce([announcements_group(member.organization_id)], {"type": "announcements.changed"})
    return announcement


def announcements_delete(*, member, announcements, request=None):
    """Delete these (one, or "delete all" of what the member manages)."""
    with transaction.atomic(), organization_scope(member.organization):
        doomed = announcements_for(member).filter(pk__in=[a.pk for a in announcements])
        count = doomed.count()
        doomed.delete()
        if count:
            audit_record(organization=member.organization, actor=member.user, action="announcement.delete",
                         changes={"count": [None, count]}, request=request)
            _announce([announcements_group(member.organization_id)], {"type": "announcements.changed"})
    return count
