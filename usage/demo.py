"""Demo history for the usage reports (`manage.py demo`): 40 days of past appointments, consults, sign-ins,
a few failed emails and client-side errors, then the roll-ups, so `make run` shows filled charts.

Only days not rolled up yet get history (a later `make run` adds the days since), only weekdays before
today, and at :07 and :37 past the hour, where no bookable slot or demo link starts (slots run from the
hour and half hour, demo links every 5 minutes): today's demo (waiting room, Today list) stays as it was.
Rows are written directly, not through the booking services, so nobody is emailed.
"""

import random
from contextlib import contextmanager
from datetime import datetime, time, timedelta

from consult import links
from consult.models import (
    Appointment,
    AppointmentParticipant,
    AppointmentStatus,
    Client,
    Consult,
    ConsultStatus,
    DeliveryStatus,
    EmailDelivery,
    EmailKind,
)
from consult.selectors import zone_of
from orgs.models import AuditEvent, Membership, Role
from orgs.scoping import organization_scope

from . import services
from .models import ClientError, ClientErrorKind, ClientErrorRole, ClientErrorSource, UsageDay

FIRST_HOURS = (9, 10, 11, 13, 14, 15)


def usage_demo(organization, *, history=True, today=None):
    """Add history to the window's days not rolled up yet (with `history`), then roll them up."""
    today = today or services.local_today(organization)
    window = services.report_window(today)
    if history:
        with organization_scope(organization):
            done = set(UsageDay.objects.filter(day__in=window).values_list("day", flat=True))
            missing = [day for day in window if day not in done and day.weekday() < 5]
            if missing:
                _history(organization, missing)
    return services.rollup_organization(organization=organization, today=today)


@contextmanager
def _created_at_as_given(*models):
    """auto_now_add would stamp the history rows with this moment; here they keep the past time they were
    given. Only for the bulk inserts below, in this thread (the demo command runs alone)."""
    fields = [model._meta.get_field("created_at") for model in models]
    for field in fields:
        field.pre_save = lambda instance, add, name=field.attname: getattr(instance, name)
    try:
        yield
    finally:
        for field in fields:
            del field.pre_save


def _history(organization, days):
    zone = zone_of(organization)
    members = list(Membership.objects.filter(is_active=True).select_related("user").prefetch_related("departments"))
    practitioners = [m for m in members if m.role == Role.PRACTITIONER]
    clients = list(Client.objects.filter(is_external=False).order_by("pk"))
    if not practitioners or not clients:
        return
    department_admin = next((m for m in members if m.role == Role.DEPARTMENT_ADMIN), None)
    # The demo practice has had its people for a while: the report's employee count is not zero before today.
    opened = datetime.combine(days[0] - timedelta(days=30), time(9, 0), tzinfo=zone)
    Membership.objects.filter(created_at__gt=opened).update(created_at=opened)
    appointments, consult_plans, audit_rows, deliveries, errors = [], [], [], [], []
    for day in days:
        rng = random.Random(f"{organization.subdomain}-{day.isoformat()}")  # the same history every time

        def at(hour, minute, day=day):
            return datetime.combine(day, time(hour, minute), tzinfo=zone)

        for member in members:
            if rng.random() < 0.85:
                audit_rows.append(AuditEvent(
                    organization=organization, actor=member.user, actor_label=member.user.email,
                    action=services.SIGN_IN_ACTION, created_at=at(8, rng.randrange(0, 60))))
        for practitioner in practitioners:
            department = next(iter(practitioner.departments.all()), None)
            for hour in rng.sample(FIRST_HOURS, rng.randint(3, 6)):
                starts_at = at(hour, rng.choice((7, 37)))
                outcome = rng.choices(("held", "no_show", "cancelled"), weights=(80, 9, 11))[0]
                appointment = Appointment(
                    organization=organization, practitioner=practitioner, department=department,
                    client=rng.choice(clients), starts_at=starts_at, duration_minutes=20,
                    status=AppointmentStatus.CANCELLED if outcome == "cancelled" else AppointmentStatus.SCHEDULED,
                    cancelled_at=starts_at - timedelta(days=1) if outcome == "cancelled" else None,
                    created_at=starts_at - timedelta(days=rng.randint(2, 20)),
                )
                appointments.append(appointment)
                if outcome == "held":
                    consult_plans.append((appointment, practitioner, rng))
        if department_admin is not None and rng.random() < 0.5:
            # A booking for the department, not for anyone in it, taken by its admin.
            department = next(iter(department_admin.departments.all()), None)
            if department is not None:
                starts_at = at(16, 7)
                appointment = Appointment(
                    organization=organization, department=department, client=rng.choice(clients),
                    starts_at=starts_at, duration_minutes=20, status=AppointmentStatus.SCHEDULED,
                    created_at=starts_at - timedelta(days=3))
                appointments.append(appointment)
                consult_plans.append((appointment, department_admin, rng))
        if rng.random() < 0.2:
            deliveries.append(EmailDelivery(
                organization=organization, kind=rng.choice((EmailKind.CONFIRMATION, EmailKind.REMINDER)),
                to=rng.choice(clients).email, status=rng.choice((DeliveryStatus.FAILED, DeliveryStatus.BOUNCED)),
                error="550 Mailbox unavailable", created_at=at(7, rng.randrange(0, 60))))
        for _ in range(rng.choices((0, 1, 2), weights=(60, 30, 10))[0]):
            kind = rng.choices([ClientErrorKind.PERMISSION_DENIED, ClientErrorKind.ICE_FAILED,
                                ClientErrorKind.CONNECTION_DROPPED, ClientErrorKind.JS_ERROR],
                               weights=(4, 2, 3, 1))[0]
            errors.append(ClientError(
                organization=organization, kind=kind, role=ClientErrorRole.CLIENT,
                source=ClientErrorSource.WAITING_ROOM if kind == ClientErrorKind.PERMISSION_DENIED
                else ClientErrorSource.ROOM,
                message="Demo: reported by the browser", user_agent="Mozilla/5.0 (demo)",
                created_at=at(rng.choice(FIRST_HOURS), rng.randrange(0, 60))))
    with _created_at_as_given(Appointment, AppointmentParticipant, EmailDelivery, ClientError, AuditEvent):
        Appointment.objects.bulk_create(appointments)
        participants = []
        for appointment in appointments:
            nonce = links.new_nonce()
            participants.append(AppointmentParticipant(
                organization=organization, appointment=appointment, person=appointment.client, role="client",
                token_nonce=nonce, token_hash=links.token_hash(links.token_for(nonce)),
                created_at=appointment.created_at))
        AppointmentParticipant.objects.bulk_create(participants)
        EmailDelivery.objects.bulk_create(deliveries)
        ClientError.objects.bulk_create(errors)
        AuditEvent.objects.bulk_create(audit_rows)
    consults = []
    for appointment, member, rng in consult_plans:
        started_at = appointment.starts_at + timedelta(minutes=rng.randint(0, 6), seconds=rng.randint(0, 59))
        # Mostly 10 to 20 minutes, now and then a quick check or a long talk.
        minutes = min(max(rng.gauss(15, 7), 2), 70)
        consults.append(Consult(
            organization=organization, appointment=appointment, status=ConsultStatus.ENDED,
            started_at=started_at, ended_at=started_at + timedelta(minutes=minutes), started_by=member,
            ended_by=member))
    Consult.objects.bulk_create(consults)
