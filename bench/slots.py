"""A month of bookable slots for 1, 100 and 1000 practitioners, from the real models.

Each practitioner has weekday hours 9:00–12:00 and 13:00–17:00 (a lunch break), 20-minute consults with
10-minute breaks, and half of the month's slots booked. Prints the time per practitioner-month (median of
several runs) and the number of SQL queries, which must not grow with the number of practitioners.

Run: .venv/bin/python bench/slots.py   (builds a throwaway SQLite test database; about a minute)
"""

import os
import statistics
import sys
import time as clock
from datetime import date, datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

SIZES = (1, 100, 1000)
RUNS = 5
MONTH_FIRST, MONTH_LAST = date(2027, 3, 1), date(2027, 3, 31)  # includes the March daylight-saving change


def build(organization, count, offset):
    from accounts.models import User
    from consult.models import Appointment, Availability
    from consult.selectors import zone_of
    from consult.slots import free_slots
    from orgs.models import Membership, Role

    users = User.objects.bulk_create(
        [User(email=f"p{offset + i}@bench.test", last_name=f"P{offset + i}") for i in range(count)]
    )
    members = Membership.objects.with_scopes_disabled().bulk_create(
        [Membership(organization=organization, user=u, role=Role.PRACTITIONER) for u in users]
    )
    hours = []
    for member in members:
        for start, end in ((time(9), time(12)), (time(13), time(17))):
            hours.append(Availability(
                organization=organization, practitioner=member, date=MONTH_FIRST - timedelta(days=7),
                start_time=start, end_time=end, rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                consult_minutes=20, break_minutes=10,
            ))
    Availability.objects.with_scopes_disabled().bulk_create(hours)
    # Book every other slot.
    everything = free_slots(hours, {}, zone_of(organization), MONTH_FIRST, MONTH_LAST,
                            datetime(2000, 1, 1, tzinfo=zone_of(organization)))
    Appointment.objects.with_scopes_disabled().bulk_create(
        [Appointment(organization=organization, practitioner_id=slot.practitioner_id, starts_at=slot.starts_at,
                     duration_minutes=20) for slot in everything[::2]],
        batch_size=2000,
    )
    return members


def measure(organization, members):
    from consult.selectors import bookable_slots

    timings, slots, queries = [], [], 0
    now = datetime(2027, 2, 1, 12, 0).astimezone()
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            started = clock.perf_counter()
            slots = bookable_slots(organization, members, MONTH_FIRST, MONTH_LAST, now=now)
            timings.append(clock.perf_counter() - started)
        queries = len(captured)
    return statistics.median(timings), len(slots), queries


def main():
    from orgs.services import org_create

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        organization = org_create(name="Bench", subdomain="bench")
        print(f"Slots for March 2027, weekday hours with a lunch break, half booked; median of {RUNS} runs")
        print(f"{'practitioners':>13} {'free slots':>10} {'total ms':>9} {'ms / practitioner-month':>24} "
              f"{'queries':>8}")
        offset = 0
        for size in SIZES:
            members = build(organization, size, offset)
            offset += size
            seconds, slot_count, queries = measure(organization, members)
            print(f"{size:>13} {slot_count:>10} {seconds * 1000:>9.1f} {seconds * 1000 / size:>24.3f} {queries:>8}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
