"""The usage report's cost against the number of appointments behind it (F-USAGE-1, issue #10).

For 1 000, then 10 000, then 100 000 appointments spread over the report's 40 days (5 practitioners, two
departments; held with a consult of varied length, no-shows and cancellations mixed), the nightly roll-up
runs, then the org admin's report page and its appointments CSV are asked RUNS times through Django's test
client. Prints per size: the roll-up's time, the page's and the CSV's median time and SQL query count, and
the page's time as a ratio of the smallest size's. The page reads only the roll-up tables, so its queries
stay the same and the ratio stays near 1; the roll-up is what grows (it runs at night).

Run: .venv/bin/python bench/usage_reports.py   (a throwaway SQLite test database; about two minutes)
     DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/usage_reports.py
"""

import os
import random
import statistics
import sys
import time as clock
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
RUNS = 9
PRACTITIONERS = 5


def build(organization, members, departments, count, rng, offset):
    """`count` more appointments on the window's days, a consult for each held one."""
    from consult.models import Appointment, AppointmentStatus, Consult, ConsultStatus
    from consult.selectors import day_bounds
    from usage.services import local_today, report_window

    days = report_window(local_today(organization))
    rows, held = [], []
    for i in range(count):
        start, _end = day_bounds(organization, days[i % len(days)])
        member = members[i % len(members)]
        starts_at = start + timedelta(hours=7, seconds=offset + i)  # unique per practitioner
        status = rng.choices([AppointmentStatus.COMPLETED, AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED],
                             weights=[75, 15, 10])[0]
        rows.append(Appointment(organization=organization, practitioner=member, department=departments[i % 2],
                                starts_at=starts_at, status=status))
    appointments = Appointment.objects.with_scopes_disabled().bulk_create(rows, batch_size=5000)
    for appointment in appointments:
        if appointment.status == AppointmentStatus.COMPLETED:
            length = timedelta(minutes=rng.randint(3, 70), seconds=rng.randint(0, 59))
            held.append(Consult(organization=organization, appointment=appointment, status=ConsultStatus.ENDED,
                                started_at=appointment.starts_at, ended_at=appointment.starts_at + length))
    Consult.objects.with_scopes_disabled().bulk_create(held, batch_size=5000)


def timed(call):
    timings, queries = [], 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            started = clock.perf_counter()
            response = call()
            timings.append(clock.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        queries = len(captured)
    return statistics.median(timings), queries


def main():
    from django.test import Client as Browser

    from orgs.middleware import SESSION_ORG_KEY, session_binding
    from orgs.models import Role
    from orgs.scoping import scopes_disabled
    from orgs.services import department_create, employee_create, org_create
    from usage.services import rollup_organization

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    rng = random.Random(10)
    try:
        organization = org_create(name="Bench", subdomain="bench", max_users=20)
        with scopes_disabled():
            departments = [department_create(organization=organization, actor=None, name=name)
                           for name in ("General practice", "Physiotherapy")]
            admin = employee_create(organization=organization, actor=None, email="admin@bench.test",
                                    first_name="Ad", last_name="Min", role=Role.ORG_ADMIN, send_invitation=False)
            members = [employee_create(organization=organization, actor=None, email=f"p{i}@bench.test",
                                       first_name="P", last_name=str(i), role=Role.PRACTITIONER,
                                       departments=departments[i % 2:i % 2 + 1], send_invitation=False)
                       for i in range(PRACTITIONERS)]
        browser = Browser(HTTP_HOST=organization.hostname)
        browser.force_login(admin.user)
        session = browser.session
        session[SESSION_ORG_KEY] = session_binding(organization)  # as signing in on the host leaves it
        session.save()
        print(f"Usage report of 40 days, {PRACTITIONERS} practitioners; medians of {RUNS} requests")
        print(f"{'appointments':>12} {'roll-up s':>9} {'page ms':>8} {'queries':>7} {'CSV ms':>7} {'queries':>7} "
              f"{'page ÷ smallest':>15}")
        total, first_page = 0, None
        for size in SIZES:
            build(organization, members, departments, size - total, rng, total)
            total = size
            with scopes_disabled():
                from usage.models import UsageDay
                UsageDay.objects.all().delete()  # a full rebuild of the window, as on a first night
            started = clock.perf_counter()
            rollup_organization(organization=organization)
            rollup_seconds = clock.perf_counter() - started
            page, page_queries = timed(lambda: browser.get("/admin/usage/"))
            csv, csv_queries = timed(lambda: browser.get("/admin/usage/appointments.csv"))
            first_page = first_page or page
            print(f"{size:>12} {rollup_seconds:>9.2f} {page * 1000:>8.1f} {page_queries:>7} {csv * 1000:>7.1f} "
                  f"{csv_queries:>7} {page / first_page:>15.2f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
