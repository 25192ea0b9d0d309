"""Scheduled work: reminders on the day, anonymisation of old appointments. Called by consult/tasks.py.

Both are safe to run again at any moment: a reminder's delivery row is claimed before it is sent
(unique once_key), and anonymised appointments are skipped.
"""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from chat.models import Message
from orgs.models import Organization
from orgs.scoping import organization_scope
from orgs.services import audit_record

from .emails import deliver, send_claimed
from .models import (
    Appointment,
    AppointmentParticipant,
    AppointmentStatus,
    ConsultMessage,
    DeliveryStatus,
    EmailDelivery,
    EmailKind,
    RetiredLink,
)
from .selectors import day_bounds, zone_of

REMINDERS_FROM = time(7, 0)  # local time: nobody gets a reminder at night
STALE_CLAIM = timedelta(minutes=15)


def reminder_key(participant):
    # Per participant and start time: a moved appointment gets its own reminder on its new day.
    return f"reminder:{participant.pk}:{participant.appointment.starts_at:%Y%m%dT%H%M}"


def send_due_reminders(*, now=None):
    """Today's reminders for appointments booked before today. Returns the number of emails sent."""
    now = now or timezone.now()
    sent = 0
    for organization in Organization.objects.filter(is_active=True, do_not_send_emails=False):
        zone = zone_of(organization)
        local_now = now.astimezone(zone)
        if local_now.time() < REMINDERS_FROM:
            continue
        start_of_day, end_of_day = day_bounds(organization, local_now.date())
        with organization_scope(organization):
            sent += _resend_stale_claims(now)
            appointments = Appointment.objects.filter(
                status=AppointmentStatus.SCHEDULED, starts_at__gt=now, starts_at__lt=end_of_day,
                created_at__lt=start_of_day, anonymised_at__isnull=True,
            ).select_related("organization", "practitioner__user", "department")
            participants = AppointmentParticipant.objects.filter(appointment__in=appointments).select_related(
                "person", "appointment"
            )
            for participant in participants:
                delivery = deliver(appointment=participant.appointment, participant=participant,
                                   kind=EmailKind.REMINDER, once_key=reminder_key(participant))
                sent += delivery is not None and delivery.status == DeliveryStatus.SENT
    return sent


def _resend_stale_claims(now):
    """A worker that died between claiming and sending left a "sending" row: send it now, once."""
    sent = 0
    for delivery in EmailDelivery.objects.filter(
        kind=EmailKind.REMINDER, status=DeliveryStatus.SENDING, updated_at__lt=now - STALE_CLAIM,
        appointment__status=AppointmentStatus.SCHEDULED, appointment__starts_at__gt=now,
    ).select_related("appointment", "participant__person"):
        # Take the claim over atomically: only one run may move it on.
        taken = EmailDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING,
                                             updated_at=delivery.updated_at).update(updated_at=now)
        if taken:
            sent += send_claimed(delivery).status == DeliveryStatus.SENT
    return sent


def anonymise_old_appointments(*, now=None):
    """Strip client data from appointments older than the organisation's limit (F-ORG-9). Irreversible:
    only date, time, duration, practitioner and department remain; audit rows stay."""
    now = now or timezone.now()
    total = 0
    for organization in Organization.objects.filter(anonymise_after_days__isnull=False):
        cutoff = now - timedelta(days=organization.anonymise_after_days)
        with organization_scope(organization), transaction.atomic():
            # Emails that belong to no appointment (chat notifications) keep an address only as long, too.
            EmailDelivery.objects.filter(appointment__isnull=True, created_at__lt=cutoff).exclude(to="").update(
                to="", error="")
            old = Appointment.objects.filter(starts_at__lt=cutoff, anonymised_at__isnull=True)
            ids = list(old.values_list("pk", flat=True))
            if not ids:
                continue
            AppointmentParticipant.objects.filter(appointment_id__in=ids).update(person=None)
            EmailDelivery.objects.filter(appointment_id__in=ids).update(to="", error="")
            RetiredLink.objects.filter(appointment_id__in=ids).delete()
            # Chat: a message sent from the waiting room would tie the appointment to its client's channel again,
            # and room chat lines keep the client's name and words.
            Message.objects.filter(organization=organization, appointment_id__in=ids).update(appointment=None)
            ConsultMessage.objects.filter(organization=organization, consult__appointment_id__in=ids).delete()
            Appointment.objects.filter(pk__in=ids).update(
                client=None, client_number="", personal_message="", anonymised_at=now
            )
            audit_record(organization=organization, actor=None, action="appointments.anonymise",
                         changes={"count": [None, len(ids)], "before": [None, cutoff.date().isoformat()]})
            total += len(ids)
    return total


def local_datetime(organization, day, at):
    return datetime.combine(day, at, tzinfo=zone_of(organization))
