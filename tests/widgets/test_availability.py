"""Who the walk-in widget offers now (F-WIDGET-2): switch on, or walk-in hours running now in local time."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from consult.models import Availability, AvailabilityKind
from orgs.scoping import scopes_disabled
from tests.widgets.conftest import make_walk_in
from widgets import selectors

AMS = ZoneInfo("Europe/Amsterdam")
pytestmark = pytest.mark.django_db


def hours(member, *, day, start, end, kind=AvailabilityKind.WALK_IN, rrule="", exceptions=()):
    with scopes_disabled():
        return Availability.objects.create(
            organization=member.organization, practitioner=member, kind=kind, date=day, start_time=start,
            end_time=end, rrule=rrule, exceptions=list(exceptions),
        )


def names(groups):
    return [(department.name if department else None, [str(p) for p, _value in people])
            for department, people in groups]


def available(widget, at):
    with scopes_disabled():
        return names(selectors.available_now(widget, now=at))


def test_nobody_available_without_switch_or_hours(alpha):
    widget = make_walk_in(alpha)
    assert available(widget, datetime(2026, 3, 4, 10, 0, tzinfo=AMS)) == []


def test_switch_on_is_available_under_each_department(alpha):
    gp = alpha.people["gp"]
    with scopes_disabled():
        gp.walk_in_open = True
        gp.save()
    widget = make_walk_in(alpha)
    assert available(widget, datetime(2026, 3, 4, 10, 0, tzinfo=AMS)) == [("General practice", ["Gp Alpha"])]


def test_walk_in_hours_once_only_while_running(alpha):
    physio = alpha.people["physio"]
    hours(physio, day=date(2026, 3, 4), start=time(14, 0), end=time(16, 0))
    widget = make_walk_in(alpha)
    assert available(widget, datetime(2026, 3, 4, 13, 59, tzinfo=AMS)) == []
    assert available(widget, datetime(2026, 3, 4, 14, 0, tzinfo=AMS)) == [("Physiotherapy", ["Physio Alpha"])]
    assert available(widget, datetime(2026, 3, 4, 15, 59, tzinfo=AMS)) == [("Physiotherapy", ["Physio Alpha"])]
    assert available(widget, datetime(2026, 3, 4, 16, 0, tzinfo=AMS)) == []
    assert available(widget, datetime(2026, 3, 5, 14, 30, tzinfo=AMS)) == []


def test_booking_hours_do_not_make_anyone_available_for_walk_ins(alpha):
    hours(alpha.people["gp"], day=date(2026, 3, 4), start=time(9, 0), end=time(17, 0), kind=AvailabilityKind.BOOKING)
    assert available(make_walk_in(alpha), datetime(2026, 3, 4, 10, 0, tzinfo=AMS)) == []


def test_weekly_hours_stay_local_across_daylight_saving(alpha):
    """Wednesdays 14:00–16:00 from a winter date: still 14:00 local in summer (12:00 UTC, not 13:00)."""
    hours(alpha.people["gp"], day=date(2026, 3, 4), start=time(14, 0), end=time(16, 0), rrule="FREQ=WEEKLY;BYDAY=WE")
    widget = make_walk_in(alpha)
    summer = date(2026, 4, 1)  # clocks went forward on 29 March
    assert available(widget, datetime.combine(summer, time(14, 5), tzinfo=AMS)) == [("General practice", ["Gp Alpha"])]
    assert available(widget, datetime.combine(summer, time(13, 5), tzinfo=AMS)) == []
    # In UTC: 12:05 is inside, 15:05 (16:05 local... after the end) is not.
    utc = ZoneInfo("UTC")
    assert available(widget, datetime(2026, 4, 1, 12, 5, tzinfo=utc)) != []
    assert available(widget, datetime(2026, 4, 1, 14, 5, tzinfo=utc)) == []
    # The week after the clocks go back (25 October) too.
    assert available(widget, datetime(2026, 10, 28, 14, 5, tzinfo=AMS)) != []
    assert available(widget, datetime(2026, 10, 28, 13, 5, tzinfo=utc)) != []  # 14:05 winter time


def test_skipped_day_and_repeat_end(alpha):
    hours(alpha.people["gp"], day=date(2026, 3, 4), start=time(14, 0), end=time(16, 0), rrule="FREQ=WEEKLY;BYDAY=WE",
          exceptions=["2026-03-11"])
    widget = make_walk_in(alpha)
    assert available(widget, datetime(2026, 3, 11, 14, 30, tzinfo=AMS)) == []
    assert available(widget, datetime(2026, 3, 18, 14, 30, tzinfo=AMS)) != []
    assert available(widget, datetime(2026, 3, 3, 14, 30, tzinfo=AMS)) == []  # a Tuesday


def test_widget_departments_limit_who_is_offered(alpha):
    gp, physio = alpha.people["gp"], alpha.people["physio"]
    with scopes_disabled():
        for member in (gp, physio):
            member.walk_in_open = True
            member.save()
    widget = make_walk_in(alpha)
    at = datetime(2026, 3, 4, 10, 0, tzinfo=AMS)
    assert available(widget, at) == [("General practice", ["Gp Alpha"]), ("Physiotherapy", ["Physio Alpha"])]
    with scopes_disabled():
        widget.departments.set([alpha.departments_by_name["physio"]])
    assert available(widget, at) == [("Physiotherapy", ["Physio Alpha"])]


def test_inactive_employees_and_other_organisations_are_never_offered(alpha, beta):
    gp = alpha.people["gp"]
    with scopes_disabled():
        gp.walk_in_open = False
        gp.is_active = False
        gp.save()
        beta.people["gp"].walk_in_open = True
        beta.people["gp"].save()
    hours(gp, day=date(2026, 3, 4), start=time(9, 0), end=time(17, 0))
    assert available(make_walk_in(alpha), datetime(2026, 3, 4, 10, 0, tzinfo=AMS)) == []


def test_employee_without_department_shows_when_the_widget_names_none(alpha):
    admin = alpha.people["admin"]  # no departments
    with scopes_disabled():
        admin.walk_in_open = True
        admin.save()
    widget = make_walk_in(alpha)
    at = datetime(2026, 3, 4, 10, 0, tzinfo=AMS)
    assert available(widget, at) == [(None, ["Admin Alpha"])]
    with scopes_disabled():
        widget.departments.set([alpha.departments_by_name["gp"]])
    assert available(widget, at) == []


def test_choice_values_name_department_and_practitioner(alpha):
    gp = alpha.people["gp"]
    with scopes_disabled():
        gp.walk_in_open = True
        gp.save()
        groups = selectors.available_now(make_walk_in(alpha), now=datetime(2026, 3, 4, 10, 0, tzinfo=AMS))
    department, people = groups[0]
    assert people[0][1] == f"{department.pk}:{gp.pk}"


def test_free_slots_by_day_groups_in_local_days(alpha):
    from tests.widgets.conftest import make_booking

    gp = alpha.people["gp"]
    start = datetime(2026, 3, 4, 8, 0, tzinfo=AMS)
    hours(gp, day=date(2026, 3, 4), start=time(9, 0), end=time(10, 0), kind=AvailabilityKind.BOOKING,
          rrule="FREQ=DAILY")
    with scopes_disabled():
        widget = make_booking(alpha, days_ahead=3)
        days = selectors.free_slots_by_day(widget, now=start)
    assert [day for day, _slots in days] == [date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 6)]
    first_slots = days[0][1]
    assert [slot.starts_at.astimezone(AMS).time() for slot, _p, _id in first_slots] == [time(9, 0), time(9, 20),
                                                                                         time(9, 40)]
    assert all(p == gp for _slot, p, _id in first_slots)
    with scopes_disabled():
        found, practitioner = selectors.find_slot(widget, first_slots[1][2], now=start)
        assert found == first_slots[1][0] and practitioner == gp
        assert selectors.find_slot(widget, "garbage", now=start) == (None, None)
        assert selectors.find_slot(widget, f"{gp.pk}-{int((start + timedelta(minutes=7)).timestamp())}",
                                   now=start) == (None, None)
