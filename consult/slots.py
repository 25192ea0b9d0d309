"""Availability → occurrences → bookable slots. Pure functions: no queries, no clock.

Availability is kept in the organisation's local time: occurrences are expanded as naive local
datetimes (so "Monday 9:00" stays 9:00 after a daylight-saving change) and only then given the zone.
"""

from bisect import bisect_left
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple

from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The same tzinfo object as the database's datetimes: comparing and hashing them then skips offset look-ups.
UTC = UTC


class Slot(NamedTuple):  # a tuple: cheap to make by the hundred thousand, sorts by start time
    starts_at: datetime  # aware, UTC
    ends_at: datetime
    practitioner_id: int
    availability_id: int | None = None


def normalise_rrule(text):
    rule = (text or "").strip().upper()
    return rule[len("RRULE:"):] if rule.startswith("RRULE:") else rule


def validate_rrule(value):
    """A repeat rule as RFC 5545 writes it (FREQ=WEEKLY;BYDAY=MO), nothing else."""
    rule = normalise_rrule(value)
    if not rule:
        return
    message = _("This is not a valid repeat rule, for example FREQ=WEEKLY;BYDAY=MO.")
    if "DTSTART" in rule or "\n" in rule or "FREQ=" not in rule:
        raise ValidationError(message, code="invalid_rrule")
    try:
        rrulestr(f"RRULE:{rule}", dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError):
        raise ValidationError(message, code="invalid_rrule") from None


def _aware(local_naive, zone):
    # For a time that does not exist (the skipped hour in March) zoneinfo moves it forward; for one that
    # exists twice (October) fold=0 picks the first, summer-time one.
    return local_naive.replace(tzinfo=zone).astimezone(UTC)


@lru_cache(maxsize=4096)
def _parsed_rule(rule, first_day):
    # Parsing is the slow part of expanding a rule; many practitioners share the same few rules.
    return rrulestr(f"RRULE:{rule}", dtstart=datetime.combine(first_day, time(0, 0)), forceset=True)


def occurrence_days(availability, first_day, last_day):
    """Local dates on which `availability` happens, between first_day and last_day inclusive."""
    if not availability.rrule:
        return [availability.date] if first_day <= availability.date <= last_day else []
    rule = _parsed_rule(availability.rrule, availability.date)
    if availability.repeat_until:
        last_day = min(last_day, availability.repeat_until)
    skipped = set(availability.exceptions or [])
    window_start = datetime.combine(max(first_day, availability.date), time(0, 0))
    window_end = datetime.combine(last_day, time(23, 59, 59))
    return [
        occurrence.date()
        for occurrence in rule.between(window_start, window_end, inc=True)
        if occurrence.date().isoformat() not in skipped
    ]


def occurrences(availability, zone, first_day, last_day):
    """(start, end) in UTC for each occurrence between the two local dates."""
    result = []
    for day in occurrence_days(availability, first_day, last_day):
        start = _aware(datetime.combine(day, availability.start_time), zone)
        end = _aware(datetime.combine(day, availability.end_time), zone)
        if end > start:
            result.append((start, end))
    return result


def slots_in(start, end, consult_minutes, break_minutes):
    """Start times that fit a whole consult: 2 h of 20 + 10 minutes gives 4 slots."""
    step = timedelta(minutes=consult_minutes + break_minutes)
    length = timedelta(minutes=consult_minutes)
    cursor = start
    while cursor + length <= end:
        yield cursor, cursor + length
        cursor += step


class Booked:
    """A practitioner's booked intervals, answering "does [start, end) overlap any?" in O(log n)."""

    def __init__(self, intervals):
        intervals = sorted(intervals)
        self.starts = [start for start, _end in intervals]
        self.max_ends = []  # the latest end among the intervals that start at or before each position
        latest = None
        for _start, end in intervals:
            latest = end if latest is None or end > latest else latest
            self.max_ends.append(latest)

    def overlaps(self, start, end):
        position = bisect_left(self.starts, end)  # intervals that start before this one ends
        return position > 0 and self.max_ends[position - 1] > start


NOTHING_BOOKED = Booked(())


def _with_overlapping_hours(availabilities):
    """Practitioners with two blocks whose clock hours overlap (whatever their days): they may repeat a start."""
    hours = {}
    for availability in availabilities:
        hours.setdefault(availability.practitioner_id, []).append((availability.start_time, availability.end_time))
    return [
        practitioner_id for practitioner_id, spans in hours.items()
        if any(a_start < b_end and b_start < a_end
               for index, (a_start, a_end) in enumerate(spans) for b_start, b_end in spans[index + 1:])
    ]


def free_slots(availabilities, booked, zone, first_day: date, last_day: date, now):
    """Bookable slots of `availabilities` between two local dates, minus past ones and any that overlap a
    booked appointment (a 40-minute appointment at 9:00 also takes the 9:20 slot).

    `booked` maps practitioner id → Booked (or an iterable of (start, end) intervals). Returns sorted Slots,
    one per practitioner and start time.
    """
    now = now.astimezone(UTC)
    result = []
    append = result.append
    # Overlapping blocks (hours entered twice, a one-off on top of a weekly one) would offer a start twice; a
    # practitioner is booked once per start. Only practitioners with blocks whose hours overlap pay for the check.
    seen_starts = {practitioner_id: set() for practitioner_id in _with_overlapping_hours(availabilities)}
    for availability in availabilities:
        taken = booked.get(availability.practitioner_id, NOTHING_BOOKED)
        if not isinstance(taken, Booked):
            taken = booked[availability.practitioner_id] = Booked(taken)
        practitioner_id, availability_id = availability.practitioner_id, availability.pk
        seen = seen_starts.get(practitioner_id)
        step = timedelta(minutes=availability.consult_minutes + availability.break_minutes)
        length = timedelta(minutes=availability.consult_minutes)
        for start, end in occurrences(availability, zone, first_day, last_day):
            cursor, last_start = start, end - length
            while cursor <= last_start:
                slot_end = cursor + length
                if cursor > now and not taken.overlaps(cursor, slot_end):
                    if seen is None:
                        append(Slot(cursor, slot_end, practitioner_id, availability_id))
                    elif cursor not in seen:
                        seen.add(cursor)
                        append(Slot(cursor, slot_end, practitioner_id, availability_id))
                cursor += step
    result.sort()
    return result


def covering_availability(availabilities, zone, starts_at):
    """The availability whose slots include `starts_at` exactly, or None."""
    local_day = starts_at.astimezone(zone).date()
    for availability in availabilities:
        for start, end in occurrences(availability, zone, local_day, local_day):
            for slot_start, _slot_end in slots_in(start, end, availability.consult_minutes, availability.break_minutes):
                if slot_start == starts_at:
                    return availability
    return None
