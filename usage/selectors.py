"""Reads of the usage roll-ups (F-USAGE-1) for the report page and its CSV files.

Only the roll-up tables are read, and only with aggregate queries (GROUP BY day, department, bucket, …): the
page costs the same few queries for a practice with ten appointments a day as for a hospital with thousands
(tests/usage/test_reports.py counts them). Everything runs inside the organisation's scope; only platform
staff's "All organisations" totals read across organisations, with scopes disabled.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Max, Sum
from django.utils import timezone

from consult.selectors import zone_of
from orgs.models import Department, Organization
from orgs.scoping import organization_scope, scopes_disabled

from .models import DURATION_BUCKETS, ClientErrorKind, UsageAppointments, UsageDay, UsageDurations, UsageErrors

WINDOW_DAYS = 40
APPOINTMENT_FIGURES = ("planned", "held", "no_show", "cancelled")
USER_FIGURES = ("employees", "active_employees", "logins", "failed_emails")


def today_of(organization, *, now=None):
    """Today in the organisation's time zone (the platform's for "All organisations")."""
    zone = zone_of(organization) if organization is not None else timezone.get_default_timezone()
    return timezone.localdate(now, timezone=zone)


def report_window(today):
    """The 40 days that end yesterday: (first, last), both included. Today is never in it: it is not over."""
    return today - timedelta(days=WINDOW_DAYS), today - timedelta(days=1)


@contextmanager
def _reading(organization):
    # Platform staff's totals (organization None) are the one read across organisations.
    if organization is None:
        with scopes_disabled():
            yield
    else:
        with organization_scope(organization):
            yield


def _rows(model, organization, first, last):
    rows = model.objects.filter(day__gte=first, day__lte=last)
    if organization is not None:
        rows = rows.filter(organization=organization)
    return rows.order_by()  # the models' default ordering would join the GROUP BY


def _in_department(rows, department):
    return rows if department is None else rows.filter(department=department)


def _sums(names):
    return {name: Sum(name) for name in names}


def report_organizations():
    """The organisations platform staff can pick (the platform host reads without a scope)."""
    return Organization.objects.order_by("name")


def report_departments(organization):
    """The departments the report can be narrowed to."""
    with organization_scope(organization):
        return list(Department.objects.filter(organization=organization).order_by("name"))


@dataclass
class Figures:
    """Appointment figures of one row of a table (a day, department, practitioner or organisation)."""

    label: str = ""
    planned: int = 0
    held: int = 0
    no_show: int = 0
    cancelled: int = 0

    @property
    def no_show_rate(self):
        """No-shows as a share of the planned (not cancelled) appointments; None without any."""
        return self.no_show / self.planned if self.planned else None

    @property
    def no_show_percent(self):
        return None if self.planned == 0 else round(100 * self.no_show / self.planned, 1)

    def add(self, other):
        for name in APPOINTMENT_FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _figures(row, label=""):
    return Figures(label=label, **{name: row[name] or 0 for name in APPOINTMENT_FIGURES})


@dataclass
class Report:
    organization: Organization | None
    department: Department | None
    first: date
    last: date
    days: list = field(default_factory=list)
    rolled_up: dict = field(default_factory=dict)  # day → UsageDay figures (a dict); absent: not rolled up
    last_refreshed: object = None
    appointments_per_day: dict = field(default_factory=dict)  # day → Figures
    appointments_total: Figures = field(default_factory=Figures)
    by_department: list = field(default_factory=list)
    by_practitioner: list = field(default_factory=list)
    by_organization: list = field(default_factory=list)
    durations: list = field(default_factory=list)  # one dict per DURATION_BUCKETS entry, empty ones too
    consults: int = 0
    consult_seconds: int = 0
    errors_per_day: dict = field(default_factory=dict)  # day → {kind: count}
    errors_by_kind_source: list = field(default_factory=list)

    @property
    def is_empty(self):
        return not self.rolled_up

    @property
    def missing_days(self):
        return [day for day in self.days if day not in self.rolled_up]

    @property
    def average_minutes(self):
        return self.consult_seconds / self.consults / 60 if self.consults else None

    @property
    def median_bucket(self):
        """The length bucket of the middle consult (the lower middle one of an even count)."""
        if not self.consults:
            return None
        middle, seen = (self.consults + 1) // 2, 0
        for bucket in self.durations:
            seen += bucket["consults"]
            if seen >= middle:
                return bucket
        return None

    def user_totals(self):
        days = [self.rolled_up[day] for day in self.days if day in self.rolled_up]
        if not days:
            return None
        return {
            "employees": days[-1]["employees"],  # a snapshot: the latest day's, not a sum
            "active_average": sum(d["active_employees"] for d in days) / len(days),
            "active_most": max(d["active_employees"] for d in days),
            "logins": sum(d["logins"] for d in days),
            "failed_emails": sum(d["failed_emails"] for d in days),
        }

    def error_totals(self):
        return {
            "client_errors": sum(row["count"] for row in self.errors_by_kind_source),
            "failed_emails": sum(d["failed_emails"] for d in self.rolled_up.values()),
        }


def usage_report(organization, *, department=None, today=None):
    """The report page's figures for the window ending yesterday. `organization` None: all organisations
    (platform staff), summed per day. `department` narrows the appointments, the consult durations and the
    browser errors; the user figures and failed emails (UsageDay) know no department and stay whole."""
    first, last = report_window(today or today_of(organization))
    report = Report(organization=organization, department=department, first=first, last=last,
                    days=[first + timedelta(days=n) for n in range((last - first).days + 1)])
    with _reading(organization):
        for row in (_rows(UsageDay, organization, first, last).values("day")
                    .annotate(**_sums(USER_FIGURES), refreshed=Max("rolled_up_at"))):
            report.rolled_up[row["day"]] = row
            if report.last_refreshed is None or row["refreshed"] > report.last_refreshed:
                report.last_refreshed = row["refreshed"]

        appointments = _in_department(_rows(UsageAppointments, organization, first, last), department)
        for row in appointments.values("day").annotate(**_sums(APPOINTMENT_FIGURES)):
            report.appointments_per_day[row["day"]] = _figures(row)
            report.appointments_total.add(report.appointments_per_day[row["day"]])
        if organization is None:
            # Every organisation rolled up in the window, those without appointments too (a row of zeros).
            sums = {row["organization_id"]: row for row in
                    appointments.values("organization_id").annotate(**_sums(APPOINTMENT_FIGURES))}
            zero = dict.fromkeys(APPOINTMENT_FIGURES, 0)
            report.by_organization = [
                _figures(sums.get(row["organization_id"], zero), row["organization__name"]) for row in
                _rows(UsageDay, None, first, last).values("organization_id", "organization__name").distinct()
                .order_by("organization__name")
            ]
        else:
            report.by_department = [
                _figures(row, row["department_name"]) for row in
                appointments.values("department_id", "department_name").annotate(**_sums(APPOINTMENT_FIGURES))
                .order_by("department_name")
            ]
            report.by_practitioner = [
                _figures(row, row["practitioner_name"]) for row in
                appointments.values("practitioner_id", "practitioner_name").annotate(**_sums(APPOINTMENT_FIGURES))
                .order_by("practitioner_name")
            ]

        per_bucket = {row["bucket"]: row for row in _in_department(_rows(UsageDurations, organization, first, last),
                                                                   department)
                      .values("bucket").annotate(consults=Sum("consults"), seconds=Sum("total_seconds"))}
        for bound, label in DURATION_BUCKETS:
            row = per_bucket.get(bound, {})
            report.durations.append({"bucket": bound, "label": label, "consults": row.get("consults") or 0,
                                     "seconds": row.get("seconds") or 0})
        report.consults = sum(bucket["consults"] for bucket in report.durations)
        report.consult_seconds = sum(bucket["seconds"] for bucket in report.durations)

        errors = _in_department(_rows(UsageErrors, organization, first, last), department)
        for row in errors.values("day", "kind").annotate(count=Sum("count")):
            report.errors_per_day.setdefault(row["day"], {})[row["kind"]] = row["count"]
        report.errors_by_kind_source = list(errors.values("kind", "source").annotate(count=Sum("count"))
                                            .order_by("kind", "source"))
    return report


def error_kinds_seen(report):
    """The kinds of client-side error in the window, in ClientErrorKind's order."""
    seen = {kind for per_kind in report.errors_per_day.values() for kind in per_kind}
    return [kind for kind in ClientErrorKind if kind.value in seen]


# --- CSV rows: finer than the page (per day), still aggregates of the roll-ups --------------------

def _keyed(organization, names):
    # All organisations: every row says which organisation it is of.
    return (["organization__name"] if organization is None else []) + names


def appointment_rows(organization, first, last, *, department=None):
    """Per day × department × practitioner."""
    with _reading(organization):
        rows = _in_department(_rows(UsageAppointments, organization, first, last), department)
        keys = _keyed(organization, ["day", "department_name", "practitioner_name"])
        return list(rows.values(*keys).annotate(**_sums(APPOINTMENT_FIGURES)).order_by(*keys))


def duration_rows(organization, first, last, *, department=None):
    """Per day × department × length bucket. The department's name is today's (a department that is gone
    has become "no department": these rows keep no copy of the name)."""
    with _reading(organization):
        keys = _keyed(organization, ["day", "department__name", "bucket"])
        return _sorted(_in_department(_rows(UsageDurations, organization, first, last), department).values(*keys)
                       .annotate(consults=Sum("consults"), seconds=Sum("total_seconds")), keys)


def _sorted(rows, keys):
    # Sorted here, not by the database: SQLite puts "no department" (NULL) first, PostgreSQL last.
    return sorted(rows, key=lambda row: [("" if row[key] is None else row[key]) for key in keys])


def user_rows(organization, first, last):
    """Per day (summed over organisations for all of them)."""
    with _reading(organization):
        return list(_rows(UsageDay, organization, first, last).values("day").annotate(**_sums(USER_FIGURES))
                    .order_by("day"))


def error_rows(organization, first, last, *, department=None):
    """Client-side errors per day × department × kind × source (named as duration_rows does), and failed
    emails per day, for the whole organisation whatever the department."""
    with _reading(organization):
        keys = _keyed(organization, ["day", "department__name", "kind", "source"])
        client_errors = _sorted(_in_department(_rows(UsageErrors, organization, first, last), department)
                                .values(*keys).annotate(count=Sum("count")), keys)
        day_keys = _keyed(organization, ["day"])
        failed_emails = list(_rows(UsageDay, organization, first, last).filter(failed_emails__gt=0)
                             .values(*day_keys).annotate(count=Sum("failed_emails")).order_by(*day_keys))
    return client_errors, failed_emails
