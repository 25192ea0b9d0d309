"""Issue #3 audit gaps in availability: skipping one day of a repeating block, and refusing overlapping hours.

Covers F-AVAIL-1 and F-AVAIL-2 through the services (availability_skip_day / availability_restore_day /
availability_save) and the slots they leave (selectors.bookable_slots).
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from consult import services
from consult.models import Availability, AvailabilityKind
from consult.selectors import bookable_slots
from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = date(2027, 3, 1)  # four weeks before summer time starts (Sunday 28 March 2027)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime(2027, 2, 26, 8, 0, tzinfo=AMS), tick=False):
        yield


def hours(org, practitioner="gp", *, day=MONDAY, start=9, end=12, rrule="FREQ=WEEKLY;BYDAY=MO", by="admin", **extra):
    """Saved through the service, as the portal and the API do: 9:00–12:00 in 20-minute consults is nine slots."""
    return services.availability_save(member=org.people[by], availability=Availability(
        practitioner=org.people[practitioner], kind=extra.pop("kind", AvailabilityKind.BOOKING), date=day,
        start_time=time(*start) if isinstance(start, tuple) else time(start),
        end_time=time(*end) if isinstance(end, tuple) else time(end), rrule=rrule, consult_minutes=20, **extra))


def slot_starts(org, day, practitioner="gp"):
    return [slot.starts_at.astimezone(AMS).strftime("%H:%M")
            for slot in bookable_slots(org, [org.people[practitioner]], day, day)]


def audit_actions(org):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(organization=org, action__startswith="availability.")
                    .order_by("pk").values_list("action", "changes"))


def stored(block):
    with scopes_disabled():
        return Availability.objects.get(pk=block.pk)


# --- skipping one day -----------------------------------------------------------------------------

def test_skipping_one_day_removes_its_slots_and_restoring_brings_them_back(alpha):
    block = hours(alpha)
    skipped_day = date(2027, 3, 29)  # the Monday right after the change to summer time
    assert len(slot_starts(alpha, skipped_day)) == 9
    services.availability_skip_day(member=alpha.people["gp"], availability=block, day=skipped_day)
    assert stored(block).exceptions == ["2027-03-29"]
    assert slot_starts(alpha, skipped_day) == []
    # the series goes on, at 9:00 local time on both sides of the change
    assert slot_starts(alpha, date(2027, 3, 22))[0] == slot_starts(alpha, date(2027, 4, 5))[0] == "09:00"
    assert len(slot_starts(alpha, date(2027, 4, 5))) == 9
    services.availability_restore_day(member=alpha.people["gp"], availability=block, day=skipped_day)
    assert stored(block).exceptions == []
    assert len(slot_starts(alpha, skipped_day)) == 9
    actions = audit_actions(alpha)
    assert [action for action, _changes in actions] == ["availability.create", "availability.update",
                                                         "availability.update"]
    assert actions[1][1] == {"exceptions": [[], ["2027-03-29"]]}
    assert actions[2][1] == {"exceptions": [["2027-03-29"], []]}


def test_skipping_the_same_day_twice_changes_nothing_more(alpha):
    block = hours(alpha)
    for _twice in range(2):
        services.availability_skip_day(member=alpha.people["gp"], availability=block, day=date(2027, 3, 8))
    assert stored(block).exceptions == ["2027-03-08"]
    assert len(audit_actions(alpha)) == 2  # the create and one update


@pytest.mark.parametrize("day, block_rrule", [
    (date(2027, 3, 9), "FREQ=WEEKLY;BYDAY=MO"),   # a Tuesday: not a day this block happens
    (date(2027, 2, 22), "FREQ=WEEKLY;BYDAY=MO"),  # a Monday before the block starts
    (date(2027, 3, 1), ""),                       # a one-off block: remove it instead
])
def test_only_a_day_the_block_repeats_on_can_be_skipped(alpha, day, block_rrule):
    block = hours(alpha, rrule=block_rrule)
    with pytest.raises(ValidationError):
        services.availability_skip_day(member=alpha.people["gp"], availability=block, day=day)
    assert stored(block).exceptions == []
    assert len(audit_actions(alpha)) == 1


def test_a_day_after_repeat_until_is_not_an_occurrence(alpha):
    block = hours(alpha, repeat_until=date(2027, 3, 15))
    with pytest.raises(ValidationError):
        services.availability_skip_day(member=alpha.people["gp"], availability=block, day=date(2027, 3, 22))
    services.availability_skip_day(member=alpha.people["gp"], availability=block, day=date(2027, 3, 15))
    assert stored(block).exceptions == ["2027-03-15"]


def test_skipping_is_refused_outside_ones_agenda_and_organisation(alpha, beta):
    block = hours(alpha, practitioner="physio")
    monday = date(2027, 3, 8)
    for member in (alpha.people["gp"], beta.people["admin"]):  # a colleague; another organisation's admin
        with pytest.raises(PermissionDenied):
            services.availability_skip_day(member=member, availability=block, day=monday)
    services.availability_skip_day(member=alpha.people["physio"], availability=block, day=monday)
    for member in (alpha.people["gp"], beta.people["admin"]):
        with pytest.raises(PermissionDenied):
            services.availability_restore_day(member=member, availability=block, day=monday)
    assert stored(block).exceptions == ["2027-03-08"]
    assert len(audit_actions(alpha)) == 2
    assert audit_actions(beta) == []
    services.availability_restore_day(member=alpha.people["admin"], availability=block, day=monday)
    assert stored(block).exceptions == []


def test_a_restored_day_may_not_land_on_hours_added_since(alpha):
    block = hours(alpha)
    monday = date(2027, 3, 15)
    services.availability_skip_day(member=alpha.people["gp"], availability=block, day=monday)
    hours(alpha, day=monday, start=10, end=11, rrule="")  # the free morning is used for something else
    with pytest.raises(ValidationError, match="Monday 15 March 2027 10:00–11:00"):
        services.availability_restore_day(member=alpha.people["gp"], availability=block, day=monday)
    assert stored(block).exceptions == ["2027-03-15"]


# --- overlapping hours ----------------------------------------------------------------------------

def count(org):
    with organization_scope(org):
        return Availability.objects.count()


def test_hours_that_overlap_existing_hours_are_refused_naming_them(alpha, beta):
    hours(alpha)  # every Monday 9:00–12:00
    before = audit_actions(alpha)
    with pytest.raises(ValidationError) as refused:
        hours(alpha, by="gp", day=date(2027, 3, 15), start=11, end=13, rrule="")
    assert refused.value.messages == ["These hours overlap your hours on Monday 15 March 2027 09:00–12:00."]
    with pytest.raises(ValidationError, match="overlap the hours of Gp Alpha on Monday 15 March 2027 09:00–12:00"):
        hours(alpha, by="admin", day=date(2027, 3, 15), start=8, end=(9, 20), rrule="")
    assert count(alpha) == 1 and audit_actions(alpha) == before
    # touching is not overlapping; other days, other practitioners and other organisations are free
    hours(alpha, day=date(2027, 3, 15), start=12, end=13, rrule="")
    hours(alpha, day=date(2027, 3, 16), start=9, end=12, rrule="")
    hours(alpha, practitioner="physio")
    hours(beta)
    assert count(alpha) == 4 and count(beta) == 1


def test_walk_in_hours_overlap_bookable_hours_too(alpha):
    hours(alpha)
    with pytest.raises(ValidationError, match="overlap"):
        hours(alpha, day=date(2027, 3, 8), start=10, end=11, rrule="", kind=AvailabilityKind.WALK_IN)


def test_a_repeat_is_checked_over_the_coming_year_of_its_occurrences(alpha):
    hours(alpha, day=date(2027, 11, 10), start=10, end=11, rrule="")  # a Wednesday in November
    with pytest.raises(ValidationError, match="Wednesday 10 November 2027 10:00–11:00"):
        hours(alpha, day=date(2027, 3, 3), start=9, end=12, rrule="FREQ=WEEKLY;BYDAY=WE")
    # a custom RRULE too: every first Wednesday of the month meets 3 November, not the 10th
    hours(alpha, day=date(2027, 3, 3), start=13, end=15, rrule="FREQ=MONTHLY;BYDAY=1WE")
    with pytest.raises(ValidationError, match="Wednesday 10 November 2027"):
        hours(alpha, day=date(2027, 3, 3), start=(10, 30), end=12, rrule="FREQ=MONTHLY;BYDAY=2WE")
    # ending the repeat before November leaves the two apart
    hours(alpha, day=date(2027, 3, 10), start=9, end=12, rrule="FREQ=WEEKLY;BYDAY=WE", repeat_until=date(2027, 10, 31))
    assert count(alpha) == 3


def test_overlap_is_judged_in_local_time_across_daylight_saving_changes(alpha):
    hours(alpha)  # every Monday 9:00–12:00 from 1 March, in winter time (8:00–11:00 UTC)
    # 12:00–13:00 summer time is 10:00–11:00 UTC: overlapping the March instants, but not April's 9:00–12:00
    hours(alpha, day=date(2027, 4, 5), start=12, end=13, rrule="")
    with pytest.raises(ValidationError, match="Monday 5 April 2027 09:00–12:00"):
        hours(alpha, day=date(2027, 4, 5), start=(11, 40), end=13, rrule="")
    # and back to winter time on 31 October: a weekly Monday block from November meets the series at 9:00
    with pytest.raises(ValidationError, match="Monday 1 November 2027 09:00–12:00"):
        hours(alpha, day=date(2027, 11, 1), start=(11, 40), end=(12, 40), rrule="FREQ=WEEKLY;BYDAY=MO")
    # the night the clocks go back, 1:00–2:30 and 2:30–3:00 follow each other (2:30 is read as summer time)
    hours(alpha, day=date(2027, 10, 31), start=1, end=(2, 30), rrule="")
    hours(alpha, day=date(2027, 10, 31), start=(2, 30), end=3, rrule="")
    assert count(alpha) == 4


def test_editing_a_block_does_not_collide_with_itself_but_with_the_others(alpha):
    block = hours(alpha)
    other = hours(alpha, start=13, end=15)
    block.end_time = time(12, 40)  # a longer morning: it overlaps only its old self
    services.availability_save(member=alpha.people["gp"], availability=block)
    assert stored(block).end_time == time(12, 40)
    other.start_time = time(12)
    with pytest.raises(ValidationError, match="Monday 1 March 2027 09:00–12:40"):
        services.availability_save(member=alpha.people["gp"], availability=other)
    assert stored(other).start_time == time(13)
    assert [action for action, _changes in audit_actions(alpha)] == ["availability.create", "availability.create",
                                                                     "availability.update"]


def test_an_old_repeat_is_checked_from_today(alpha):
    """A series that began long ago still collides with what is ahead, not only with its first year."""
    block = hours(alpha, day=date(2025, 1, 6))
    hours(alpha, day=date(2027, 6, 7), start=13, end=14, rrule="")
    block.end_time = time(13, 30)
    with pytest.raises(ValidationError, match="Monday 7 June 2027 13:00–14:00"):
        services.availability_save(member=alpha.people["gp"], availability=block)
