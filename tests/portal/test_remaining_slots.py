"""The portal top bar's "N booking slots left today" (Organization.show_remaining_slots, issue #5 item 7)."""

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consult import services
from consult.models import Availability, AvailabilityKind
from orgs.scoping import organization_scope
from tests.conftest import signed_in_client

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
DAY = date(2027, 5, 3)  # a Monday


def local(hour, minute=0, day=DAY):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


def bookable_hours(org, member, *, start=9, end=12, kind=AvailabilityKind.BOOKING, day=DAY):
    """9:00–12:00 in 20-minute consults without breaks: nine slots."""
    with organization_scope(org):
        Availability.objects.create(
            organization=org, practitioner=member, kind=kind, date=day, start_time=time(start),
            end_time=time(end), consult_minutes=20,
        )


def book(org, member, starts_at):
    with organization_scope(org):
        client = services.client_create(member=member, initials="A", last_name="Jansen",
                                        email=f"jansen{starts_at:%H%M}@example.test")
        return services.appointment_create(member=member, client=client, practitioner=member, starts_at=starts_at)


def top_bar(org, member):
    """The top bar's counter as (count, text, link), or None when the page has none."""
    html = signed_in_client(member.user, org).get("/portal/").content.decode()
    header = html.split('<header class="topbar">', 1)[1].split("</header>", 1)[0]
    found = re.search(r'<a class="remaining-slots" href="([^"]+)" data-remaining-slots="(\d+)">([^<]*)</a>', header)
    if found is None:
        assert "remaining-slots" not in html
        return None
    return int(found[2]), found[3], found[1]


@pytest.fixture
def switched_on(alpha):
    alpha.show_remaining_slots = True
    alpha.save()
    return alpha


def test_absent_while_the_switch_is_off(alpha):
    bookable_hours(alpha, alpha.people["gp"])
    with time_machine.travel(local(8), tick=False):
        assert top_bar(alpha, alpha.people["gp"]) is None


def test_a_practitioner_sees_the_slots_left_today_linking_to_their_agenda(switched_on):
    alpha = switched_on
    gp = alpha.people["gp"]
    bookable_hours(alpha, gp)
    bookable_hours(alpha, gp, start=13, end=14, kind=AvailabilityKind.WALK_IN)  # walk-in hours are not bookable
    bookable_hours(alpha, gp, day=date(2027, 5, 4))  # tomorrow is not today
    with time_machine.travel(local(8), tick=False):
        assert top_bar(alpha, gp) == (9, "9 booking slots left today", "/portal/agenda/")


def test_the_count_drops_when_a_slot_is_booked_and_when_time_passes(switched_on):
    alpha = switched_on
    gp = alpha.people["gp"]
    bookable_hours(alpha, gp)
    with time_machine.travel(local(8), tick=False):
        book(alpha, gp, local(10))
        assert top_bar(alpha, gp)[0] == 8
    # At 10:05 the slots from 9:00 to 10:00 are past (10:00 was booked anyway): 10:20 … 11:40 are left.
    with time_machine.travel(local(10, 5), tick=False):
        assert top_bar(alpha, gp)[0] == 5
    with time_machine.travel(local(11, 30), tick=False):
        assert top_bar(alpha, gp)[:2] == (1, "1 booking slot left today")
    with time_machine.travel(local(11, 45), tick=False):
        assert top_bar(alpha, gp)[:2] == (0, "No booking slots left today")


def test_the_day_is_the_organisations_local_day(switched_on):
    """At 23:30 UTC on Sunday it is already Monday 01:30 in Amsterdam: Monday's slots count."""
    alpha = switched_on
    bookable_hours(alpha, alpha.people["gp"])
    with time_machine.travel(datetime(2027, 5, 2, 23, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        assert top_bar(alpha, alpha.people["gp"])[0] == 9


def test_colleagues_and_other_organisations_do_not_count(switched_on, beta):
    alpha = switched_on
    gp, physio = alpha.people["gp"], alpha.people["physio"]
    bookable_hours(alpha, gp)
    bookable_hours(alpha, physio)
    beta.show_remaining_slots = True
    beta.save()
    beta_gp = beta.people["gp"]
    bookable_hours(beta, beta_gp, start=9, end=10)
    with time_machine.travel(local(8), tick=False):
        book(alpha, physio, local(9))
        book(beta, beta_gp, local(9, 20))
        assert top_bar(alpha, gp)[0] == 9
        assert top_bar(alpha, physio)[0] == 8
        assert top_bar(beta, beta_gp)[0] == 2


@pytest.mark.parametrize("role", ["admin", "deptadmin"])
def test_hidden_for_members_who_are_no_practitioner(switched_on, role):
    member = switched_on.people[role]
    bookable_hours(switched_on, member)
    with time_machine.travel(local(8), tick=False):
        assert top_bar(switched_on, member) is None


def test_platform_staff_acting_as_a_practitioner_see_what_they_see(switched_on, superuser):
    from tests.orgs.test_remote_support import support_client

    alpha = switched_on
    alpha.allow_remote_support = True
    alpha.save()
    gp = alpha.people["gp"]
    bookable_hours(alpha, gp)
    with time_machine.travel(local(8), tick=False):
        html = support_client(alpha, gp, superuser).get("/portal/").content.decode()
    assert 'data-remaining-slots="9"' in html and "data-remote-support-banner" in html


def test_the_counter_costs_at_most_two_queries(switched_on):
    alpha = switched_on
    gp = alpha.people["gp"]
    bookable_hours(alpha, gp)
    with time_machine.travel(local(8), tick=False):
        client = signed_in_client(gp.user, alpha)  # signed in on the day: a session from today would have expired
        client.get("/portal/")  # warm the session and caches
        with CaptureQueriesContext(connection) as shown:
            assert b"data-remaining-slots" in client.get("/portal/").content
        alpha.show_remaining_slots = False
        alpha.save()
        with CaptureQueriesContext(connection) as hidden:
            assert b"data-remaining-slots" not in client.get("/portal/").content
    assert len(shown.captured_queries) - len(hidden.captured_queries) <= 2
