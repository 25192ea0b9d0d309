"""Usage roll-ups (usage/services.py, usage/jobs.py) against hand-computed fixtures (F-USAGE-1).

Every figure per organisation and local day; DST days (23 and 25 hours) in Europe/Amsterdam; another time
zone; the 40-day window; rebuilding a day; the nightly job; the sign-in audit row the figures count.
"""

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consult.models import (
    Appointment,
    AppointmentStatus,
    Consult,
    ConsultStatus,
    DeliveryStatus,
    EmailDelivery,
    EmailKind,
)
from orgs.models import AUDIT_ACTIONS, AuditEvent, Membership
from orgs.scoping import organization_scope, scopes_disabled
from orgs.services import audit_record
from tests.conftest import PASSWORD, host_client
from usage import jobs, services, tasks
from usage.models import ClientError, UsageAppointments, UsageDay, UsageDurations, UsageErrors

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAY = date(2026, 3, 10)  # a plain Tuesday (CET, UTC+1)
SCHEDULED, CANCELLED, COMPLETED = AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED


def local(day, hour, minute=0, second=0, zone=AMSTERDAM):
    return datetime.combine(day, time(hour, minute, second), tzinfo=zone)


def appointment(org, starts_at, practitioner="gp", department="gp", status=SCHEDULED):
    with organization_scope(org):
        return Appointment.objects.create(
            organization=org, starts_at=starts_at, status=status,
            practitioner=org.people[practitioner] if practitioner else None,
            department=org.departments_by_name[department] if department else None,
        )


def consult(appt, started_at, ended_at=None, started_by=None, ended_by=None):
    org = appt.organization
    with organization_scope(org):
        return Consult.objects.create(
            organization=org, appointment=appt, started_at=started_at, ended_at=ended_at,
            status=ConsultStatus.ENDED if ended_at else ConsultStatus.OPEN,
            started_by=org.people[started_by] if started_by else None,
            ended_by=org.people[ended_by] if ended_by else None,
        )


def at(moment):
    """Rows with auto_now_add created_at get `moment`."""
    return time_machine.travel(moment, tick=False)


def sign_in_row(org, user, moment, action="account.sign_in"):
    with at(moment):
        return audit_record(organization=org, actor=user, action=action)


def client_error(org, moment, kind="js_error", source="room", appointment=None):
    with at(moment), organization_scope(org):
        return ClientError.objects.create(organization=org, kind=kind, source=source, role="client",
                                          appointment=appointment)


def email(org, moment, status):
    with at(moment), organization_scope(org):
        return EmailDelivery.objects.create(organization=org, kind=EmailKind.CONFIRMATION, to="x@example.test",
                                            status=status)


def rows(org, model, *fields, day=None):
    with organization_scope(org):
        query = model.objects.all() if day is None else model.objects.filter(day=day)
        return sorted(query.values_list(*fields), key=_sort_key)


def _sort_key(row):
    return [(value is None, "" if value is None else value) for value in row]


def appointment_rows(org, day):
    return rows(org, UsageAppointments, "department_name", "practitioner_name", "planned", "held", "no_show",
                "cancelled", day=day)


def usage_day(org, day):
    with organization_scope(org):
        return UsageDay.objects.get(day=day)


def everything(org):
    """All roll-up rows of `org` without ids and times: equal before and after a second run."""
    return {
        UsageDay: rows(org, UsageDay, "day", "employees", "active_employees", "logins", "failed_emails"),
        UsageAppointments: rows(org, UsageAppointments, "day", "department_id", "department_name", "practitioner_id",
                                "practitioner_name", "planned", "held", "no_show", "cancelled"),
        UsageDurations: rows(org, UsageDurations, "day", "department_id", "bucket", "consults", "total_seconds"),
        UsageErrors: rows(org, UsageErrors, "day", "department_id", "kind", "source", "count"),
    }


# --- each figure's definition ---------------------------------------------------------------------------

@pytest.fixture
def busy_day(alpha, beta, superuser):
    """DAY in alpha, with what must count and what must not (other days, other statuses, beta)."""
    people = alpha.people
    # Appointments: gp in General practice; physio without a department; Physiotherapy without a practitioner.
    held_in_room = appointment(alpha, local(DAY, 9))
    consult(held_in_room, local(DAY, 9), local(DAY, 9, 12, 30), started_by="gp", ended_by="gp")  # 750 s
    consult(held_in_room, local(DAY, 9, 20), local(DAY, 9, 25), started_by="gp", ended_by="gp")  # 300 s: 5 min
    appointment(alpha, local(DAY, 9, 30), status=COMPLETED)  # marked held by hand, no consult
    appointment(alpha, local(DAY, 10))  # nobody came
    cancelled_after_start = appointment(alpha, local(DAY, 10, 30), status=CANCELLED)
    consult(cancelled_after_start, local(DAY, 10, 30), local(DAY, 10, 34, 59), started_by="physio")  # 299 s
    still_open = appointment(alpha, local(DAY, 11))
    consult(still_open, local(DAY, 11), started_by="gp")  # held, but no length yet
    appointment(alpha, local(DAY, 23, 59), practitioner="physio", department=None)  # no-show
    appointment(alpha, local(DAY, 14), practitioner=None, department="physio", status=CANCELLED)
    appointment(alpha, local(DAY, 14), practitioner=None, department="physio", status=COMPLETED)
    # The days around it.
    late = appointment(alpha, local(DAY - timedelta(days=1), 23, 59))
    consult(late, local(DAY - timedelta(days=1), 23, 50), local(DAY, 0, 20), started_by="admin", ended_by="admin")
    appointment(alpha, local(DAY + timedelta(days=1), 0, 0))
    # Employees: physio deactivated; admin's account made at the very end of the day.
    with scopes_disabled():
        Membership.objects.filter(organization=alpha).update(created_at=local(DAY - timedelta(days=30), 12))
        Membership.objects.filter(pk=people["physio"].pk).update(is_active=False)
        Membership.objects.filter(pk=people["admin"].pk).update(created_at=local(DAY + timedelta(days=1), 0))
    sign_in_row(alpha, people["gp"].user, local(DAY, 8))
    sign_in_row(alpha, people["gp"].user, local(DAY, 13))
    sign_in_row(alpha, people["deptadmin"].user, local(DAY, 0, 0))
    sign_in_row(alpha, people["admin"].user, local(DAY + timedelta(days=1), 0))  # the next day
    sign_in_row(alpha, people["admin"].user, local(DAY, 23, 59, 59) - timedelta(days=1))  # the day before
    sign_in_row(alpha, superuser, local(DAY, 12), action="remote_support.sign_in")  # no employee
    sign_in_row(alpha, None, local(DAY, 12), action="appointments.anonymise")  # the system
    # Emails and client-side errors.
    email(alpha, local(DAY, 10), DeliveryStatus.FAILED)
    email(alpha, local(DAY, 11), DeliveryStatus.BOUNCED)
    email(alpha, local(DAY, 12), DeliveryStatus.SENT)
    email(alpha, local(DAY, 12), DeliveryStatus.SENDING)
    email(alpha, local(DAY - timedelta(days=1), 23, 59), DeliveryStatus.FAILED)
    client_error(alpha, local(DAY, 9))
    client_error(alpha, local(DAY, 23, 59))
    client_error(alpha, local(DAY, 0, 0), kind="ice_failed", source="waiting_room")
    client_error(alpha, local(DAY + timedelta(days=1), 0, 0))
    # Beta, the same day: never alpha's.
    other = appointment(beta, local(DAY, 9))
    consult(other, local(DAY, 9), local(DAY, 9, 30), started_by="gp", ended_by="gp")
    sign_in_row(beta, beta.people["gp"].user, local(DAY, 8))
    email(beta, local(DAY, 10), DeliveryStatus.FAILED)
    client_error(beta, local(DAY, 9))
    return alpha


def test_appointments_per_department_and_practitioner(busy_day, beta):
    services.rollup_day(organization=busy_day, day=DAY)
    assert appointment_rows(busy_day, DAY) == sorted([
        # department, practitioner, planned, held, no_show, cancelled
        ("General practice", "Gp Alpha", 4, 3, 1, 1),
        ("", "Physio Alpha", 1, 0, 1, 0),
        ("Physiotherapy", "", 1, 1, 0, 1),
    ], key=_sort_key)
    with organization_scope(busy_day):
        by_name = {r.practitioner_name: r for r in UsageAppointments.objects.all()}
    assert by_name["Gp Alpha"].practitioner_id == busy_day.people["gp"].pk
    assert by_name["Gp Alpha"].department_id == busy_day.departments_by_name["gp"].pk
    assert by_name["Physio Alpha"].department_id is None
    assert by_name[""].practitioner_id is None
    assert by_name[""].department_id == busy_day.departments_by_name["physio"].pk
    assert rows(beta, UsageAppointments, "day") == []


def test_durations_by_bucket(busy_day):
    services.rollup_day(organization=busy_day, day=DAY)
    # bucket, consults, total seconds: 299 s is under 5 min, exactly 5 min is 5–10; the open one and the
    # one that started the day before (and ended on this day) are not counted.
    assert rows(busy_day, UsageDurations, "bucket", "consults", "total_seconds", day=DAY) == [
        (0, 1, 299), (5, 1, 300), (10, 1, 750)]


def test_user_figures_and_failed_emails(busy_day):
    now = datetime(2026, 3, 11, 2, 30, tzinfo=UTC)
    services.rollup_day(organization=busy_day, day=DAY, now=now)
    day = usage_day(busy_day, DAY)
    # gp and deptadmin (physio is deactivated, admin's account came after the day)
    assert day.employees == 2
    # gp twice and deptadmin; not the staff member, not the next or the previous day, not beta
    assert day.logins == 3
    # gp, deptadmin (signed in), physio (started a consult), admin (ended one that started the day before)
    assert day.active_employees == 4
    assert day.failed_emails == 2
    assert day.rolled_up_at == now


def test_client_errors_by_kind_and_source(busy_day):
    services.rollup_day(organization=busy_day, day=DAY)
    assert rows(busy_day, UsageErrors, "kind", "source", "count", day=DAY) == [
        ("ice_failed", "waiting_room", 1), ("js_error", "room", 2)]


def test_durations_per_department_of_the_consults_appointment(alpha):
    gp, physio = alpha.departments_by_name["gp"], alpha.departments_by_name["physio"]
    # Two 10-minute consults in General practice (a practitioner's booking), one of a department-only booking
    # in Physiotherapy, one of a booking without a department; and a 40-minute one in General practice.
    for hour in (9, 10):
        consult(appointment(alpha, local(DAY, hour)), local(DAY, hour), local(DAY, hour, 10))
    consult(appointment(alpha, local(DAY, 11), practitioner=None, department="physio"), local(DAY, 11),
            local(DAY, 11, 12))
    consult(appointment(alpha, local(DAY, 12), practitioner="physio", department=None), local(DAY, 12),
            local(DAY, 12, 14))
    consult(appointment(alpha, local(DAY, 13)), local(DAY, 13), local(DAY, 13, 40))
    services.rollup_day(organization=alpha, day=DAY)
    assert rows(alpha, UsageDurations, "department_id", "bucket", "consults", "total_seconds", day=DAY) == [
        (gp.pk, 10, 2, 1200), (gp.pk, 30, 1, 2400), (physio.pk, 10, 1, 720), (None, 10, 1, 840)]


def test_client_errors_per_department_of_their_appointment(alpha, beta):
    gp, physio = alpha.departments_by_name["gp"], alpha.departments_by_name["physio"]
    in_gp = appointment(alpha, local(DAY, 9))
    in_physio = appointment(alpha, local(DAY, 9), practitioner=None, department="physio")
    without_department = appointment(alpha, local(DAY, 9), practitioner="physio", department=None)
    client_error(alpha, local(DAY, 9), appointment=in_gp)
    client_error(alpha, local(DAY, 10), appointment=in_gp)
    client_error(alpha, local(DAY, 10), kind="ice_failed", appointment=in_gp)
    client_error(alpha, local(DAY, 11), appointment=in_physio)
    client_error(alpha, local(DAY, 12), appointment=without_department)
    client_error(alpha, local(DAY, 13))  # no appointment named
    client_error(beta, local(DAY, 9), appointment=appointment(beta, local(DAY, 9)))
    services.rollup_day(organization=alpha, day=DAY)
    assert rows(alpha, UsageErrors, "department_id", "kind", "source", "count", day=DAY) == [
        (gp.pk, "ice_failed", "room", 1), (gp.pk, "js_error", "room", 2), (physio.pk, "js_error", "room", 1),
        (None, "js_error", "room", 2)]


def test_a_day_without_data_is_one_row_of_zeros(alpha):
    empty = date(2020, 1, 6)  # before the seeded organisation's people existed
    services.rollup_day(organization=alpha, day=empty)
    day = usage_day(alpha, empty)
    assert (day.employees, day.active_employees, day.logins, day.failed_emails) == (0, 0, 0, 0)
    for model in (UsageAppointments, UsageDurations, UsageErrors):
        assert rows(alpha, model, "pk") == []


def test_query_count_does_not_grow_with_the_appointments(alpha):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            services.rollup_day(organization=alpha, day=DAY)
        return len(captured)

    # Rows of every kind from the start, rolled up before (an empty list is written, and no rows are
    # deleted, without a query).
    consult(appointment(alpha, local(DAY, 9)), local(DAY, 9), local(DAY, 9, 10), started_by="gp", ended_by="gp")
    client_error(alpha, local(DAY, 9))
    queries()
    few = queries()
    for hour in range(10, 20):
        appt = appointment(alpha, local(DAY, hour), practitioner="gp" if hour % 2 else "physio",
                           department="gp" if hour % 3 else "physio")
        consult(appt, local(DAY, hour), local(DAY, hour, hour), started_by="gp", ended_by="gp")
    client_error(alpha, local(DAY, 10), kind="ice_failed")
    assert queries() == few


# --- DST days and time zones ---------------------------------------------------------------------------

@pytest.mark.parametrize("change_day, consult_start, hours", [
    (date(2026, 3, 29), datetime(2026, 3, 29, 0, 30, tzinfo=UTC), 23),  # 01:30 CET → 03:30 CEST
    (date(2026, 10, 25), datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 25),  # 02:30 CEST → 02:30 CET
])
def test_dst_days(alpha, change_day, consult_start, hours):
    before, after = change_day - timedelta(days=1), change_day + timedelta(days=1)
    start, end = services.day_bounds(alpha, change_day)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)
    appointment(alpha, local(before, 23, 30))
    appointment(alpha, local(change_day, 0, 30))
    appointment(alpha, local(change_day, 23, 30))
    appointment(alpha, local(after, 0, 30))
    across = appointment(alpha, consult_start)
    consult(across, consult_start, consult_start + timedelta(hours=1), started_by="gp", ended_by="gp")
    for day in (before, change_day, after):
        services.rollup_day(organization=alpha, day=day)
    planned = dict(rows(alpha, UsageAppointments, "day", "planned"))
    assert planned == {before: 1, change_day: 3, after: 1}
    # One real hour, however the clocks moved.
    assert rows(alpha, UsageDurations, "day", "bucket", "consults", "total_seconds") == [(change_day, 60, 1, 3600)]


def test_an_organisation_in_another_time_zone(alpha, beta):
    alpha.time_zone = "America/New_York"
    alpha.save(update_fields=["time_zone"])
    moment = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)  # 22:00 on 9 June in New York, 04:00 on 10 June in Amsterdam
    appointment(alpha, moment)
    appointment(beta, moment)
    for day in (date(2026, 6, 9), date(2026, 6, 10)):
        services.rollup_day(organization=alpha, day=day)
        services.rollup_day(organization=beta, day=day)
    assert rows(alpha, UsageAppointments, "day", "planned") == [(date(2026, 6, 9), 1)]
    assert rows(beta, UsageAppointments, "day", "planned") == [(date(2026, 6, 10), 1)]
    # Its "today" is New York's: at 03:00 UTC on 10 June, yesterday there is 8 June.
    with time_machine.travel(datetime(2026, 6, 10, 3, 0, tzinfo=UTC), tick=False):
        days = services.rollup_organization(organization=alpha)
    assert days[-1] == date(2026, 6, 8)


# --- the window, idempotence, rebuilding ----------------------------------------------------------------

TODAY = date(2031, 3, 11)


def test_the_window_is_the_40_days_up_to_yesterday(alpha):
    for days_ago in (41, 40, 1, 0):
        appointment(alpha, local(TODAY - timedelta(days=days_ago), 10))
    with time_machine.travel(local(TODAY, 12), tick=False):
        days = services.rollup_organization(organization=alpha)
    window = [TODAY - timedelta(days=n) for n in range(40, 0, -1)]
    assert days == window
    assert [d for (d,) in rows(alpha, UsageDay, "day")] == window
    assert rows(alpha, UsageAppointments, "day", "planned") == [(TODAY - timedelta(days=40), 1),
                                                               (TODAY - timedelta(days=1), 1)]
    # The next run rebuilds only yesterday and the day before, for late data.
    with time_machine.travel(local(TODAY, 12), tick=False):
        assert services.rollup_organization(organization=alpha) == [TODAY - timedelta(days=2),
                                                                    TODAY - timedelta(days=1)]


def test_running_twice_gives_the_same_rows(busy_day):
    for day in (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)):
        services.rollup_day(organization=busy_day, day=day)
    first = everything(busy_day)
    for day in (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)):
        services.rollup_day(organization=busy_day, day=day)
    assert everything(busy_day) == first
    assert len(first[UsageDay]) == 3 and first[UsageAppointments] and first[UsageDurations] and first[UsageErrors]


def test_a_rebuild_replaces_stale_rows_of_that_day_only(alpha, beta):
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    for org in (alpha, beta):
        with organization_scope(org):
            for day in (DAY, DAY + timedelta(days=1)):
                UsageDay.objects.create(organization=org, day=day, logins=99, rolled_up_at=stamp)
                UsageAppointments.objects.create(organization=org, day=day, department_name="Gone", planned=9,
                                                 held=9)
                UsageDurations.objects.create(organization=org, day=day, bucket=60, consults=9, total_seconds=9)
                UsageErrors.objects.create(organization=org, day=day, kind="js_error", source="room", count=9)
    beta_before = everything(beta)
    appointment(alpha, local(DAY, 9))
    services.rollup_day(organization=alpha, day=DAY)
    assert usage_day(alpha, DAY).logins == 0
    assert appointment_rows(alpha, DAY) == [("General practice", "Gp Alpha", 1, 0, 1, 0)]
    assert rows(alpha, UsageDurations, "pk", day=DAY) == rows(alpha, UsageErrors, "pk", day=DAY) == []
    next_day = DAY + timedelta(days=1)
    assert usage_day(alpha, next_day).logins == 99
    assert len(rows(alpha, UsageAppointments, "pk", day=next_day)) == 1
    assert everything(beta) == beta_before


# --- the nightly job ---------------------------------------------------------------------------------

NIGHT = datetime(2031, 3, 11, 1, 30, tzinfo=UTC)  # 02:30 in Amsterdam


def test_nightly_job_rolls_up_every_active_organisation(alpha, beta):
    appointment(alpha, local(TODAY - timedelta(days=1), 10))
    appointment(beta, local(TODAY - timedelta(days=1), 10))
    appointment(beta, local(TODAY - timedelta(days=1), 11))
    summary = jobs.nightly_rollup(now=NIGHT)
    assert summary["failed"] == [] and summary["days"] >= 80
    assert len(rows(alpha, UsageDay, "day")) == len(rows(beta, UsageDay, "day")) == 40
    assert rows(alpha, UsageAppointments, "day", "planned") == [(TODAY - timedelta(days=1), 1)]
    assert rows(beta, UsageAppointments, "day", "planned") == [(TODAY - timedelta(days=1), 2)]
    # A deactivated organisation is left alone.
    beta.is_active = False
    beta.save(update_fields=["is_active"])
    appointment(beta, local(TODAY - timedelta(days=1), 12))
    jobs.nightly_rollup(now=NIGHT)
    assert rows(beta, UsageAppointments, "day", "planned") == [(TODAY - timedelta(days=1), 2)]


def test_one_organisation_failing_does_not_stop_the_others(alpha, beta, monkeypatch, caplog):
    rollup = services.rollup_organization

    def broken_for_alpha(*, organization, today=None):
        if organization.pk == alpha.pk:
            raise RuntimeError("bad data")
        return rollup(organization=organization, today=today)

    monkeypatch.setattr(services, "rollup_organization", broken_for_alpha)
    old = client_error(alpha, NIGHT - timedelta(days=91))
    with caplog.at_level(logging.ERROR, logger="usage.jobs"):
        summary = jobs.nightly_rollup(now=NIGHT)
    assert summary["failed"] == ["alpha"]
    assert "Usage roll-up failed for organisation alpha" in caplog.text and "bad data" in caplog.text
    assert rows(alpha, UsageDay, "day") == []
    assert len(rows(beta, UsageDay, "day")) == 40
    with organization_scope(alpha):
        assert not ClientError.objects.filter(pk=old.pk).exists()  # the purge still ran


def test_client_errors_older_than_90_days_are_purged(alpha, beta):
    kept = [client_error(alpha, NIGHT - timedelta(days=89)), client_error(beta, NIGHT - timedelta(days=90))]
    client_error(alpha, NIGHT - timedelta(days=90, seconds=1))
    client_error(beta, NIGHT - timedelta(days=200))
    beta.is_active = False  # kept 90 days in an inactive organisation too
    beta.save(update_fields=["is_active"])
    assert jobs.nightly_rollup(now=NIGHT)["purged"] == 2
    with scopes_disabled():
        assert set(ClientError.objects.values_list("pk", flat=True)) == {e.pk for e in kept}


def test_the_task_runs_the_job(alpha):
    with time_machine.travel(NIGHT, tick=False):
        summary = tasks.nightly_rollup()
    assert summary["failed"] == [] and summary["organizations"] >= 1
    assert len(rows(alpha, UsageDay, "day")) == 40


# --- the sign-in audit row -------------------------------------------------------------------------------

def test_an_employee_signing_in_is_audited(alpha, beta, superuser):
    response = host_client(alpha).post("/accounts/login/", {"login": "gp@alpha.test", "password": PASSWORD})
    assert response.status_code == 302
    with organization_scope(alpha):
        events = list(AuditEvent.objects.filter(action="account.sign_in"))
    assert [(e.actor_id, e.actor_label) for e in events] == [(alpha.people["gp"].user_id, "gp@alpha.test")]
    assert str(events[0].action_label()) == "Signed in" == str(AUDIT_ACTIONS["account.sign_in"])
    # A failed sign-in, and platform staff on the platform host, leave no sign-in row.
    host_client(alpha).post("/accounts/login/", {"login": "physio@alpha.test", "password": "wrong"})
    host_client(None).post("/accounts/login/", {"login": superuser.email, "password": PASSWORD})
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="account.sign_in").count() == 1


# --- the demo history ----------------------------------------------------------------------------------

def test_demo_history_fills_the_window_once_and_leaves_today_alone(alpha, mailoutbox):
    from consult.models import Client, WaitingEntry
    from usage.demo import usage_demo

    with organization_scope(alpha):
        Client.objects.create(organization=alpha, initials="J.", last_name="Demo", email="j@example.test")
    with time_machine.travel(local(TODAY, 12), tick=False):
        assert len(usage_demo(alpha)) == 40
        with organization_scope(alpha):
            appointments = Appointment.objects.count()
            assert appointments > 0
            assert not Appointment.objects.filter(starts_at__gte=local(TODAY, 0)).exists()
            assert not WaitingEntry.objects.exists()
            assert not Consult.objects.filter(status=ConsultStatus.OPEN).exists()
        held = sum(r[0] for r in rows(alpha, UsageAppointments, "held"))
        assert held and sum(r[0] for r in rows(alpha, UsageDurations, "consults")) == held
        assert all(employees == 4 for _, employees in rows(alpha, UsageDay, "day", "employees"))
        assert sum(logins for (logins,) in rows(alpha, UsageDay, "logins")) > 0
        first = everything(alpha)
        usage_demo(alpha)  # again: nothing added
        with organization_scope(alpha):
            assert Appointment.objects.count() == appointments
        assert everything(alpha) == first
    assert mailoutbox == []
