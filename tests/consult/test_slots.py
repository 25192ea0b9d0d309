"""Availability → occurrences → bookable slots. Covers F-AVAIL-1, F-AVAIL-2 and F-AVAIL-3.

The first tests are pure (consult.slots with unsaved Availability instances, no database, no clock);
the last ones run selectors.bookable_slots against the database.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consult import services
from consult.models import Appointment, AppointmentStatus, Availability, AvailabilityKind
from consult.selectors import bookable_slots
from consult.slots import covering_availability, free_slots, occurrence_days, occurrences, slots_in
from orgs.models import Role
from orgs.scoping import organization_scope
from orgs.services import employee_create

AMS = ZoneInfo("Europe/Amsterdam")
UTC = ZoneInfo("UTC")
PRACTITIONER = 7


def availability(**fields):
    """An unsaved Availability (a pure stand-in: no organisation, no practitioner row needed)."""
    values = {
        "practitioner_id": PRACTITIONER, "kind": AvailabilityKind.BOOKING, "date": date(2027, 3, 1),
        "start_time": time(9, 0), "end_time": time(10, 0), "rrule": "", "repeat_until": None, "exceptions": [],
        "consult_minutes": 20, "break_minutes": 0,
    }
    values.update(fields)
    return Availability(**values)


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


def local_times(slots):
    return [(s.starts_at.astimezone(AMS).date(), s.starts_at.astimezone(AMS).strftime("%H:%M")) for s in slots]


# --- F-AVAIL-1: consult duration and breaks ---------------------------------------------------------

def test_two_hours_of_20_minute_consults_with_10_minute_breaks_give_four_slots():
    """covers F-AVAIL-1: 9:00–11:00, 20 + 10 minutes → 9:00, 9:30, 10:00, 10:30 (10:30–10:50 is the last)."""
    start, end = local(date(2027, 5, 3), 9), local(date(2027, 5, 3), 11)
    slots = list(slots_in(start, end, 20, 10))
    assert [s.strftime("%H:%M") for s, _ in slots] == ["09:00", "09:30", "10:00", "10:30"]
    assert all(e - s == timedelta(minutes=20) for s, e in slots)

    block = availability(date=date(2027, 5, 3), start_time=time(9), end_time=time(11), consult_minutes=20,
                         break_minutes=10)
    now = local(date(2027, 5, 1), 12)
    result = free_slots([block], {}, AMS, date(2027, 5, 3), date(2027, 5, 3), now)
    assert [t for _, t in local_times(result)] == ["09:00", "09:30", "10:00", "10:30"]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=20) for s in result)
    assert all(s.practitioner_id == PRACTITIONER for s in result)
    assert all(s.starts_at.utcoffset() == timedelta(0) for s in result)  # stored and compared in UTC


def test_a_consult_that_does_not_fit_the_end_of_the_block_is_not_offered():
    """covers F-AVAIL-1: 9:00–10:00 with 25-minute consults: 9:00 and 9:25, not 9:50 (it would end at 10:15)."""
    start, end = local(date(2027, 5, 3), 9), local(date(2027, 5, 3), 10)
    assert [s.strftime("%H:%M") for s, _ in slots_in(start, end, 25, 0)] == ["09:00", "09:25"]


# --- F-AVAIL-2: recurring availability in local time, across daylight-saving changes -----------------

def test_weekly_monday_stays_at_nine_local_time_across_both_dst_changes_of_2027():
    """covers F-AVAIL-2: FREQ=WEEKLY;BYDAY=MO 9:00–10:00 keeps 9:00 local; the UTC hour moves 08 → 07 → 08."""
    block = availability(date=date(2027, 3, 1), rrule="FREQ=WEEKLY;BYDAY=MO")
    found = occurrences(block, AMS, date(2027, 3, 1), date(2027, 11, 30))
    assert len(found) == 40  # every Monday from 1 March to 29 November 2027
    for start, end in found:
        start_local, end_local = start.astimezone(AMS), end.astimezone(AMS)
        assert start_local.weekday() == 0
        assert (start_local.hour, start_local.minute) == (9, 0)
        assert (end_local.hour, end_local.minute) == (10, 0)
        assert end - start == timedelta(hours=1)
    utc_start_by_day = {start.astimezone(AMS).date(): start.astimezone(UTC) for start, _ in found}
    # Winter time before the last Sunday of March (28 March 2027), summer time after it ...
    assert utc_start_by_day[date(2027, 3, 22)] == datetime(2027, 3, 22, 8, 0, tzinfo=UTC)
    assert utc_start_by_day[date(2027, 3, 29)] == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    # ... and back to winter time after the last Sunday of October (31 October 2027).
    assert utc_start_by_day[date(2027, 10, 25)] == datetime(2027, 10, 25, 7, 0, tzinfo=UTC)
    assert utc_start_by_day[date(2027, 11, 1)] == datetime(2027, 11, 1, 8, 0, tzinfo=UTC)

    now = datetime(2027, 1, 1, tzinfo=UTC)
    slots = free_slots([block], {}, AMS, date(2027, 3, 22), date(2027, 3, 29), now)
    assert local_times(slots) == [
        (date(2027, 3, 22), "09:00"), (date(2027, 3, 22), "09:20"), (date(2027, 3, 22), "09:40"),
        (date(2027, 3, 29), "09:00"), (date(2027, 3, 29), "09:20"), (date(2027, 3, 29), "09:40"),
    ]
    assert [s.starts_at.hour for s in slots] == [8, 8, 8, 7, 7, 7]
    slots = free_slots([block], {}, AMS, date(2027, 10, 25), date(2027, 11, 1), now)
    assert [t for _, t in local_times(slots)] == ["09:00", "09:20", "09:40"] * 2
    assert [s.starts_at.hour for s in slots] == [7, 7, 7, 8, 8, 8]


def test_daily_rule_at_a_time_that_does_not_exist_on_the_dst_sunday_gives_sane_slots():
    """covers F-AVAIL-2: 02:30 does not exist on 28 March 2027 in Amsterdam; no crash, real and ordered slots."""
    block = availability(date=date(2027, 3, 27), rrule="FREQ=DAILY", start_time=time(2, 30), end_time=time(4, 30),
                         consult_minutes=20, break_minutes=10)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    slots = free_slots([block], {}, AMS, date(2027, 3, 27), date(2027, 3, 29), now)

    by_day = {}
    for slot in slots:
        by_day.setdefault(slot.starts_at.astimezone(AMS).date(), []).append(slot)
    # The ordinary days around it keep 02:30–04:30 local: 02:30, 03:00, 03:30, 04:00.
    for day in (date(2027, 3, 27), date(2027, 3, 29)):
        assert [s.starts_at.astimezone(AMS).strftime("%H:%M") for s in by_day[day]] == [
            "02:30", "03:00", "03:30", "04:00"]
    dst_sunday = by_day.get(date(2027, 3, 28), [])
    assert dst_sunday, "the DST Sunday still offers the part of the block that exists"
    for slot in dst_sunday:
        start_local, end_local = slot.starts_at.astimezone(AMS), slot.ends_at.astimezone(AMS)
        # A real instant on the right day, inside the block as the clock on the wall shows it.
        assert start_local.date() == date(2027, 3, 28)
        assert start_local.replace(tzinfo=None).replace(tzinfo=AMS).astimezone(UTC) == slot.starts_at
        assert time(3, 0) <= start_local.time() and end_local.time() <= time(4, 30)
        assert slot.ends_at - slot.starts_at == timedelta(minutes=20)
    starts = [s.starts_at for s in dst_sunday]
    assert starts == sorted(set(starts))
    assert all(b.starts_at >= a.ends_at for a, b in zip(dst_sunday, dst_sunday[1:], strict=False))


def test_skipped_days_and_repeat_until_are_honoured():
    """covers F-AVAIL-2: `exceptions` drop single days; `repeat_until` (inclusive) ends the repeat."""
    block = availability(date=date(2027, 3, 1), rrule="FREQ=WEEKLY;BYDAY=MO", exceptions=["2027-03-15"],
                         repeat_until=date(2027, 3, 29))
    assert occurrence_days(block, date(2027, 2, 1), date(2027, 5, 31)) == [
        date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 22), date(2027, 3, 29)]
    now = datetime(2027, 1, 1, tzinfo=UTC)
    days = {d for d, _ in local_times(free_slots([block], {}, AMS, date(2027, 3, 1), date(2027, 5, 31), now))}
    assert days == {date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 22), date(2027, 3, 29)}
    # Without them every Monday of the window is there: the test above is not vacuous.
    open_ended = availability(date=date(2027, 3, 1), rrule="FREQ=WEEKLY;BYDAY=MO")
    assert date(2027, 3, 15) in occurrence_days(open_ended, date(2027, 3, 1), date(2027, 4, 30))
    assert date(2027, 4, 5) in occurrence_days(open_ended, date(2027, 3, 1), date(2027, 4, 30))
    # A one-off block happens on its own date only.
    once = availability(date=date(2027, 3, 3))
    assert occurrence_days(once, date(2027, 3, 1), date(2027, 3, 31)) == [date(2027, 3, 3)]
    assert occurrence_days(once, date(2027, 3, 4), date(2027, 3, 31)) == []
    # The window never reaches back before the first day of the block.
    assert occurrence_days(open_ended, date(2027, 2, 1), date(2027, 3, 7)) == [date(2027, 3, 1)]


# --- F-AVAIL-3: booked and past slots are not bookable -----------------------------------------------

def test_free_slots_leave_out_booked_and_past_slots():
    """covers F-AVAIL-3: a booked start and every start at or before `now` are left out."""
    day = date(2027, 5, 3)
    block = availability(date=day, start_time=time(9), end_time=time(11), consult_minutes=20, break_minutes=10)
    other = availability(date=day, practitioner_id=8, start_time=time(9), end_time=time(10))
    booked = {PRACTITIONER: [(local(day, 10), local(day, 10) + timedelta(minutes=20))]}  # 10:00 of practitioner 7
    now = local(day, 9)  # the 9:00 slot starts now: too late to book
    result = free_slots([block, other], booked, AMS, day, day, now)
    assert [(s.practitioner_id, t) for s, (_, t) in zip(result, local_times(result), strict=True)] == [
        (8, "09:20"), (PRACTITIONER, "09:30"), (8, "09:40"), (PRACTITIONER, "10:30")]
    # Nothing booked and the clock the day before: everything is free.
    everything = free_slots([block, other], {}, AMS, day, day, local(day - timedelta(days=1), 9))
    assert len(everything) == 4 + 3
    # Booked times are compared as instants, whatever zone they carry.
    booked_utc = {PRACTITIONER: [(local(day, 10).astimezone(UTC), local(day, 10, 20).astimezone(UTC))]}
    assert local(day, 10) not in [s.starts_at for s in free_slots([block], booked_utc, AMS, day, day,
                                                                   local(day, 8))]


def test_covering_availability_finds_the_block_of_an_exact_slot_start_only():
    """covers F-AVAIL-3: a booking must fall exactly on a slot of some availability."""
    day = date(2027, 5, 3)
    morning = availability(date=day, start_time=time(9), end_time=time(11), consult_minutes=20, break_minutes=10)
    afternoon = availability(date=date(2027, 4, 26), rrule="FREQ=WEEKLY;BYDAY=MO", start_time=time(14),
                             end_time=time(15), consult_minutes=30)
    blocks = [morning, afternoon]
    assert covering_availability(blocks, AMS, local(day, 9, 30)) is morning
    assert covering_availability(blocks, AMS, local(day, 10, 30).astimezone(UTC)) is morning
    assert covering_availability(blocks, AMS, local(day, 14, 30)) is afternoon
    assert covering_availability(blocks, AMS, local(day, 9, 10)) is None  # off the 30-minute grid
    assert covering_availability(blocks, AMS, local(day, 10, 50)) is None  # in the block, no whole consult fits
    assert covering_availability(blocks, AMS, local(day, 12, 0)) is None  # outside every block
    assert covering_availability(blocks, AMS, local(day + timedelta(days=1), 9, 30)) is None  # another day


# --- selectors.bookable_slots against the database ---------------------------------------------------

@pytest.fixture
def practitioners(alpha):
    """Five members of alpha with booking availability on Monday 3 May 2027, 9:00–10:00, 20 minutes."""
    people = [alpha.people[key] for key in ("gp", "physio", "deptadmin", "admin")]
    people.append(employee_create(
        organization=alpha, actor=None, email="fifth@alpha.test", first_name="Fifth", last_name="Alpha",
        role=Role.PRACTITIONER, departments=[alpha.departments_by_name["gp"]], send_invitation=False,
    ))
    with organization_scope(alpha):
        for member in people:
            Availability.objects.create(
                organization=alpha, practitioner=member, date=date(2027, 5, 3), start_time=time(9),
                end_time=time(10), consult_minutes=20,
            )
        # Walk-in hours are not bookable.
        Availability.objects.create(
            organization=alpha, practitioner=people[0], kind=AvailabilityKind.WALK_IN, date=date(2027, 5, 3),
            start_time=time(11), end_time=time(12), consult_minutes=20,
        )
    return people


@pytest.mark.django_db
def test_bookable_slots_leave_out_a_booked_slot(alpha, practitioners):
    """covers F-AVAIL-3: a scheduled appointment takes its slot; a cancelled one gives it back."""
    gp = alpha.people["gp"]
    day, now = date(2027, 5, 3), datetime(2027, 5, 1, tzinfo=UTC)
    before = bookable_slots(alpha, [gp], day, day, now=now)
    assert [t for _, t in local_times(before)] == ["09:00", "09:20", "09:40"]
    with organization_scope(alpha):
        Appointment.objects.create(organization=alpha, practitioner=gp, starts_at=local(day, 9, 20))
        Appointment.objects.create(organization=alpha, practitioner=gp, starts_at=local(day, 9, 40),
                                   status=AppointmentStatus.CANCELLED)
    after = bookable_slots(alpha, [gp], day, day, now=now)
    assert [t for _, t in local_times(after)] == ["09:00", "09:40"]
    assert {s.practitioner_id for s in after} == {gp.pk}
    # Another practitioner's 9:20 is still free.
    physio = alpha.people["physio"]
    assert "09:20" in [t for _, t in local_times(bookable_slots(alpha, [physio], day, day, now=now))]
    # The clock: at 9:10 only 9:40 is left for the GP.
    assert [t for _, t in local_times(bookable_slots(alpha, [gp], day, day, now=local(day, 9, 10)))] == ["09:40"]


@pytest.mark.django_db
def test_bookable_slots_leave_out_slots_that_overlap_a_longer_appointment(alpha, practitioners):
    """covers F-AVAIL-3: a 40-minute appointment at 9:00 takes the 9:00 and the 9:20 slot.

    The booking service refuses 9:20 ("already has an appointment"), so offering it would be a slot that
    cannot be booked.
    """
    gp = alpha.people["gp"]
    day, now = date(2027, 5, 3), datetime(2027, 5, 1, tzinfo=UTC)
    with organization_scope(alpha):
        Appointment.objects.create(organization=alpha, practitioner=gp, starts_at=local(day, 9),
                                   duration_minutes=40)
    client = services.client_create(member=gp, initials="A", last_name="Jansen", email="anna@example.test")
    with pytest.raises(services.SlotTakenError):
        services.appointment_create(member=gp, client=client, practitioner=gp, starts_at=local(day, 9, 20))
    assert [t for _, t in local_times(bookable_slots(alpha, [gp], day, day, now=now))] == ["09:40"]


@pytest.mark.django_db
def test_bookable_slots_cost_the_same_number_of_queries_for_one_and_for_five_practitioners(
    alpha, practitioners
):
    """covers F-AVAIL-3: no query per practitioner (or per availability)."""
    day, now = date(2027, 5, 3), datetime(2027, 5, 1, tzinfo=UTC)
    with organization_scope(alpha):
        Appointment.objects.create(organization=alpha, practitioner=practitioners[1], starts_at=local(day, 9))
    one = practitioners[:1]
    with CaptureQueriesContext(connection) as for_one:
        slots_one = bookable_slots(alpha, one, day, day, now=now)
    with CaptureQueriesContext(connection) as for_five:
        slots_five = bookable_slots(alpha, practitioners, day, day, now=now)
    assert len(slots_one) == 3 and len(slots_five) == 5 * 3 - 1
    assert {s.practitioner_id for s in slots_five} == {p.pk for p in practitioners}
    assert len(for_one.captured_queries) == len(for_five.captured_queries)
    assert len(for_five.captured_queries) <= 2


def test_the_last_sundays_of_march_and_october_keep_the_local_hours_and_give_real_slots():
    """covers F-AVAIL-2: on the DST Sundays themselves (28 March and 31 October 2027) a weekly Sunday block
    keeps 9:00 local (07:00 UTC in summer time, 08:00 in winter time); a block across the hour that happens
    twice in October (02:00–03:00) offers real, distinct instants in order and never overlapping."""
    sunday = availability(date=date(2027, 3, 21), rrule="FREQ=WEEKLY;BYDAY=SU", consult_minutes=20, break_minutes=10)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    for day, utc_hour in ((date(2027, 3, 28), 7), (date(2027, 10, 31), 8)):
        slots = free_slots([sunday], {}, AMS, day, day, now)
        assert local_times(slots) == [(day, "09:00"), (day, "09:30")]
        assert [s.starts_at.astimezone(UTC).hour for s in slots] == [utc_hour, utc_hour]
        assert all(s.ends_at - s.starts_at == timedelta(minutes=20) for s in slots)

    night = availability(date=date(2027, 10, 30), rrule="FREQ=DAILY", start_time=time(2, 0), end_time=time(4, 0),
                         consult_minutes=20, break_minutes=10)
    slots = free_slots([night], {}, AMS, date(2027, 10, 31), date(2027, 10, 31), now)
    # 02:00 (summer time) to 04:00 (winter time) lasts three real hours that night: six 30-minute steps.
    assert [s.starts_at.astimezone(UTC).strftime("%H:%M") for s in slots] == [
        "00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]
    assert [t for _, t in local_times(slots)] == ["02:00", "02:30", "02:00", "02:30", "03:00", "03:30"]
    assert all(b.starts_at >= a.ends_at for a, b in zip(slots, slots[1:], strict=False))
    assert all(s.starts_at.astimezone(AMS).date() == date(2027, 10, 31) for s in slots)
    # The ordinary nights around it keep two hours: four slots.
    for day in (date(2027, 10, 30), date(2027, 11, 1)):
        assert len(free_slots([night], {}, AMS, day, day, now)) == 4


def test_overlapping_blocks_offer_each_start_of_a_practitioner_once():
    """covers F-AVAIL-3: hours entered twice (or a one-off on top of a weekly block) give no duplicate slots;
    another practitioner's slot at the same time is still offered."""
    day = date(2027, 5, 3)
    weekly = availability(date=date(2027, 4, 5), rrule="FREQ=WEEKLY;BYDAY=MO", start_time=time(9), end_time=time(11),
                          consult_minutes=20, break_minutes=10)
    again = availability(date=day, start_time=time(9), end_time=time(11), consult_minutes=20, break_minutes=10)
    later = availability(date=day, start_time=time(10), end_time=time(12), consult_minutes=20, break_minutes=10)
    colleague = availability(date=day, practitioner_id=8, start_time=time(9), end_time=time(10))
    now = local(day - timedelta(days=1), 9)
    slots = free_slots([weekly, again, later, colleague], {}, AMS, day, day, now)
    mine = [t for s, (_, t) in zip(slots, local_times(slots), strict=True) if s.practitioner_id == PRACTITIONER]
    assert mine == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert [t for s, (_, t) in zip(slots, local_times(slots), strict=True) if s.practitioner_id == 8] == [
        "09:00", "09:20", "09:40"]
