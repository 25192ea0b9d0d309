"""Writes of the usage roll-ups (F-USAGE-1): one organisation's local day at a time.

Every figure is counted by the database (values()/annotate()), so a day costs the same handful of queries
however many appointments it had. A day is rebuilt whole: its rows in the four tables are deleted and
written again in one transaction, so running it twice, or again after late data, gives the same rows.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, Q, Sum, Value, When
from django.utils import timezone

from consult.models import Appointment, AppointmentStatus, Consult, ConsultStatus, DeliveryStatus, EmailDelivery
from consult.selectors import day_bounds
from orgs.models import AuditEvent, Membership
from orgs.scoping import organization_scope

from . import selectors
from .models import DURATION_BUCKETS, ClientError, UsageAppointments, UsageDay, UsageDurations, UsageErrors

SIGN_IN_ACTION = "account.sign_in"
# A consult that ends after midnight belongs to the day it started: that day is rebuilt the next night too.
ALWAYS_REBUILT_DAYS = 2


def report_window(today):
    """The report's days, oldest first (selectors.report_window's first to last)."""
    first, last = selectors.report_window(today)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def local_today(organization, now=None):
    return selectors.today_of(organization, now=now)


def rollup_organization(*, organization, today=None):
    """Roll up yesterday and the day before (late data), and every day of the window not rolled up yet.
    Returns the days rolled up, oldest first."""
    today = today or local_today(organization)
    window = report_window(today)
    with organization_scope(organization):
        done = set(UsageDay.objects.filter(day__gte=window[0], day__lte=window[-1]).values_list("day", flat=True))
    days = sorted({today - timedelta(days=n) for n in range(1, ALWAYS_REBUILT_DAYS + 1)}
                  | {day for day in window if day not in done})
    now = timezone.now()
    for day in days:
        rollup_day(organization=organization, day=day, now=now)
    return days


def rollup_day(*, organization, day, now=None):
    """Rebuild the roll-up rows of `organization`'s local `day`. Returns its UsageDay."""
    now = now or timezone.now()
    start, end = day_bounds(organization, day)
    with organization_scope(organization), transaction.atomic():
        appointments = _appointment_rows(organization, day, start, end)
        durations = _duration_rows(organization, day, start, end)
        errors = [
            UsageErrors(organization=organization, day=day, department_id=row["appointment__department_id"],
                        kind=row["kind"], source=row["source"], count=row["count"])
            # A left join: an error without an appointment (or one of a department-less appointment) is counted
            # under no department.
            for row in ClientError.objects.filter(created_at__gte=start, created_at__lt=end)
            .values("appointment__department_id", "kind", "source").annotate(count=Count("pk")).order_by()
        ]
        usage_day = UsageDay(organization=organization, day=day, rolled_up_at=now, **_user_figures(start, end))
        for model in (UsageDay, UsageAppointments, UsageDurations, UsageErrors):
            model.objects.filter(day=day).delete()
        usage_day.save()
        UsageAppointments.objects.bulk_create(appointments)
        UsageDurations.objects.bulk_create(durations)
        UsageErrors.objects.bulk_create(errors)
    return usage_day


def _appointment_rows(organization, day, start, end):
    cancelled = Q(status=AppointmentStatus.CANCELLED)
    # Held: the room was opened for it (whatever became of the consult), or it was marked held by hand.
    # A join, counted by distinct id (an appointment may have had several consults), not an EXISTS per row: the
    # subquery's scope filter led SQLite to scan the organisation's consults for every appointment (quadratic;
    # bench/usage_reports.py: 333 s for 100 000 appointments).
    held = ~cancelled & (Q(status=AppointmentStatus.COMPLETED) | Q(consults__isnull=False))
    rows = list(
        Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .values("department_id", "department__name", "practitioner_id")
        .annotate(cancelled=Count("pk", filter=cancelled, distinct=True), held=Count("pk", filter=held, distinct=True),
                  total=Count("pk", distinct=True))
        .order_by()
    )
    practitioner_ids = {row["practitioner_id"] for row in rows} - {None}
    # str(membership) is the employee's name as the portal shows it everywhere.
    names = {m.pk: str(m) for m in Membership.objects.filter(pk__in=practitioner_ids).select_related("user")}
    result = []
    for row in rows:
        no_show = row["total"] - row["cancelled"] - row["held"]  # days rolled up are over: not held is a no-show
        result.append(UsageAppointments(
            organization=organization, day=day,
            department_id=row["department_id"], department_name=row["department__name"] or "",
            practitioner_id=row["practitioner_id"], practitioner_name=names.get(row["practitioner_id"], ""),
            planned=row["held"] + no_show, held=row["held"], no_show=no_show, cancelled=row["cancelled"],
        ))
    return result


def _duration_rows(organization, day, start, end):
    length = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
    bucket = Case(
        *[When(length__gte=timedelta(minutes=lower), then=Value(lower)) for lower, _ in reversed(DURATION_BUCKETS)],
        default=Value(0),
    )
    rows = (
        Consult.objects.filter(status=ConsultStatus.ENDED, started_at__gte=start, started_at__lt=end,
                               ended_at__gte=F("started_at"))  # a clock that went back would give a negative length
        .annotate(length=length).annotate(bucket=bucket)
        .values("appointment__department_id", "bucket").annotate(consults=Count("pk"), total=Sum("length"))
        .order_by()
    )
    return [
        UsageDurations(organization=organization, day=day, department_id=row["appointment__department_id"],
                       bucket=row["bucket"], consults=row["consults"],
                       total_seconds=int(_as_timedelta(row["total"]).total_seconds()))
        for row in rows
    ]


def _as_timedelta(value):
    # SQLite hands a sum of durations back as microseconds; PostgreSQL as an interval.
    return value if isinstance(value, timedelta) else timedelta(microseconds=value or 0)


def _user_figures(start, end):
    in_day = Q(created_at__gte=start, created_at__lt=end)
    members = Membership.objects.all()
    # Anyone who left a trace in the audit log (a sign-in included) or opened or closed the room.
    audited = AuditEvent.objects.filter(in_day, actor_id__in=members.values("user_id")) \
        .values_list("actor_id").order_by()
    started = Consult.objects.filter(started_at__gte=start, started_at__lt=end, started_by__isnull=False) \
        .values_list("started_by__user_id").order_by()
    ended = Consult.objects.filter(ended_at__gte=start, ended_at__lt=end, ended_by__isnull=False) \
        .values_list("ended_by__user_id").order_by()
    return {
        "employees": members.filter(is_active=True, created_at__lt=end).count(),
        "logins": AuditEvent.objects.filter(in_day, action=SIGN_IN_ACTION).count(),
        "active_employees": len(set(audited.union(started, ended))),
        "failed_emails": EmailDelivery.objects.filter(
            in_day, status__in=[DeliveryStatus.FAILED, DeliveryStatus.BOUNCED]).count(),
    }
