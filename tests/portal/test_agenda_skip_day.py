"""The portal agenda's "Skip this day" on a repeating block, its undo, and overlapping hours refused in the form.

Covers F-AVAIL-1 and F-AVAIL-2 through HTTP (issue #3 audit gaps).
"""

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from consult import services
from consult.models import Availability
from consult.selectors import bookable_slots
from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled
from tests.conftest import signed_in_client

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
SKIPPED = date(2027, 3, 17)  # a Wednesday


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime(2027, 3, 10, 8, 0, tzinfo=AMS), tick=False):
        yield


@pytest.fixture
def weekly(alpha):
    """The GP's Wednesday mornings, 9:00–11:00, from 3 March on."""
    return services.availability_save(member=alpha.people["gp"], availability=Availability(
        practitioner=alpha.people["gp"], date=date(2027, 3, 3), start_time=time(9), end_time=time(11),
        rrule="FREQ=WEEKLY;BYDAY=WE", consult_minutes=20))


def exceptions(block):
    with scopes_disabled():
        return Availability.objects.get(pk=block.pk).exceptions


def skip_forms(html):
    """(action, day) of every "Skip this day" form on the page."""
    return re.findall(r'<form method="post" action="([^"]+)" class="skip-day">.*?name="day" value="([^"]+)"',
                      html, re.S)


@pytest.mark.parametrize("view", ["week", "month"])
def test_skip_one_day_from_the_agenda_then_undo(alpha, weekly, view):
    gp = alpha.people["gp"]
    client = signed_in_client(gp.user, alpha)
    url = f"/portal/agenda/?view={view}&day=2027-03-17"
    html = client.get(url).content.decode()
    action = f"/portal/agenda/hours/{weekly.pk}/day/"
    assert (action, "2027-03-17") in skip_forms(html)
    assert "Skip this day (Wednesday 17 March, 09:00–11:00)" in html
    response = client.post(action, {"day": "2027-03-17", "view": view, "anchor": "2027-03-17"})
    assert response.status_code == 302
    assert response.url == (f"/portal/agenda/?practitioner={gp.pk}&view={view}&day=2027-03-17"
                            f"&skipped={weekly.pk}%3A2027-03-17")
    assert exceptions(weekly) == ["2027-03-17"]
    assert bookable_slots(alpha, [gp], SKIPPED, SKIPPED) == []
    html = client.get(response.url).content.decode()
    assert (action, "2027-03-17") not in skip_forms(html)  # the day is gone from the calendar
    assert (action, "2027-03-24") in skip_forms(html) or view == "week"
    assert "Skipped: Wednesday 17 March, 09:00–11:00." in html
    undo = re.search(r'<form method="post" action="([^"]+)" class="message message-success skipped-undo".*?</form>',
                     html, re.S)
    assert undo and 'name="action" value="restore"' in undo[0] and "csrfmiddlewaretoken" in undo[0]
    restored = client.post(undo[1], {"action": "restore", "day": "2027-03-17", "view": view, "anchor": "2027-03-17"},
                           follow=True)
    assert exceptions(weekly) == []
    page = restored.content.decode()
    assert "Wednesday 17 March is back in the agenda." in page and "skipped-undo" not in page
    assert (action, "2027-03-17") in skip_forms(page)
    assert len(bookable_slots(alpha, [gp], SKIPPED, SKIPPED)) == 6
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="availability.update", target_id=str(weekly.pk)).count() == 2


def test_one_off_blocks_and_others_agendas_offer_no_skip(alpha, weekly):
    with organization_scope(alpha):
        Availability.objects.create(organization=alpha, practitioner=alpha.people["gp"], date=date(2027, 3, 18),
                                    start_time=time(9), end_time=time(10))
    html = signed_in_client(alpha.people["gp"].user, alpha).get("/portal/agenda/?day=2027-03-17").content.decode()
    assert [day for _action, day in skip_forms(html)] == ["2027-03-17"]
    # days gone by are history: today can still be skipped, last week no longer
    html = signed_in_client(alpha.people["gp"].user, alpha).get("/portal/agenda/?view=month").content.decode()
    assert [day for _action, day in skip_forms(html)] == ["2027-03-10", "2027-03-17", "2027-03-24", "2027-03-31"]
    # a colleague may look at the agenda (when the organisation allows) but is offered no skip
    physio = signed_in_client(alpha.people["physio"].user, alpha)
    response = physio.get(f"/portal/agenda/?practitioner={alpha.people['gp'].pk}&day=2027-03-17")
    assert response.status_code == 200 and "09:00–11:00" in response.content.decode()
    assert skip_forms(response.content.decode()) == []


def test_the_skipped_line_is_only_shown_for_a_day_really_skipped(alpha, weekly, beta):
    client = signed_in_client(alpha.people["gp"].user, alpha)
    for junk in (f"{weekly.pk}:2027-03-17", f"{weekly.pk}:nonsense", "x:2027-03-17", "999999:2027-03-17"):
        assert "skipped-undo" not in client.get(f"/portal/agenda/?day=2027-03-17&skipped={junk}").content.decode()


def test_skipped_days_are_listed_in_the_blocks_form_and_can_be_restored_there(alpha, weekly):
    gp = alpha.people["gp"]
    for day in (date(2027, 3, 3), date(2027, 3, 24), date(2027, 3, 17)):
        services.availability_skip_day(member=gp, availability=weekly, day=day)
    client = signed_in_client(gp.user, alpha)
    html = client.get(f"/portal/agenda/hours/{weekly.pk}/").content.decode()
    section = html.split('<section class="skipped-days"', 1)[1].split("</section>", 1)[0]
    # from today on, in order; 3 March has passed
    assert re.findall(r"<li>([^<]+?)\s*<form", section) == ["Wednesday 17 March 2027", "Wednesday 24 March 2027"]
    response = client.post(f"/portal/agenda/hours/{weekly.pk}/day/",
                           {"action": "restore", "day": "2027-03-24", "next": "edit"}, follow=True)
    assert response.redirect_chain == [(f"/portal/agenda/hours/{weekly.pk}/", 302)]
    assert "Wednesday 24 March is back in these hours." in response.content.decode()
    assert exceptions(weekly) == ["2027-03-03", "2027-03-17"]


def test_a_day_the_block_does_not_repeat_on_is_refused_with_a_message(alpha, weekly):
    client = signed_in_client(alpha.people["gp"].user, alpha)
    response = client.post(f"/portal/agenda/hours/{weekly.pk}/day/", {"day": "2027-03-18"}, follow=True)
    assert "These hours do not repeat on Thursday 18 March 2027." in response.content.decode()
    assert "skipped-undo" not in response.content.decode()
    assert exceptions(weekly) == []


def test_skip_is_post_only_and_needs_the_csrf_token(alpha, weekly):
    client = signed_in_client(alpha.people["gp"].user, alpha)
    url = f"/portal/agenda/hours/{weekly.pk}/day/"
    assert client.get(url, {"day": "2027-03-17"}).status_code == 405
    client.handler.enforce_csrf_checks = True
    assert client.post(url, {"day": "2027-03-17"}).status_code == 403
    assert exceptions(weekly) == []


def test_another_organisations_or_colleagues_block_is_a_404(alpha, beta, weekly):
    url = f"/portal/agenda/hours/{weekly.pk}/day/"
    for client in (signed_in_client(beta.people["admin"].user, beta),
                   signed_in_client(alpha.people["physio"].user, alpha)):
        assert client.post(url, {"day": "2027-03-17"}).status_code == 404
        assert client.post(url, {"day": "2027-03-17", "action": "restore"}).status_code == 404
    assert exceptions(weekly) == []
    gp = signed_in_client(alpha.people["gp"].user, alpha)
    assert gp.post(url, {"day": "not a day"}).status_code == 404
    assert exceptions(weekly) == []
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="availability.update").exists()


def test_the_hours_form_refuses_overlapping_hours_and_names_them(alpha, weekly):
    gp = alpha.people["gp"]
    client = signed_in_client(gp.user, alpha)
    response = client.post("/portal/agenda/hours/new/", {
        "practitioner": gp.pk, "kind": "walk_in", "date": "2027-03-31", "start_time": "10:00", "end_time": "12:00",
        "repeat": "", "rrule": "", "consult_minutes": "20", "break_minutes": "0",
    })
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "These hours overlap your hours on Wednesday 31 March 2027 09:00–11:00."]
    with organization_scope(alpha):
        assert Availability.objects.count() == 1
    # changing the block itself is no overlap
    response = client.post(f"/portal/agenda/hours/{weekly.pk}/", {
        "practitioner": gp.pk, "kind": "booking", "date": "2027-03-03", "start_time": "09:00", "end_time": "12:00",
        "repeat": "FREQ=WEEKLY", "rrule": "", "consult_minutes": "20", "break_minutes": "0",
    })
    assert response.status_code == 302
    with organization_scope(alpha):
        assert Availability.objects.get().end_time == time(12)


def test_skipping_a_day_with_bookings_says_they_stay_booked(alpha, weekly):
    """Skipping takes away the free times only: the undo line says how many appointments in those hours stand."""
    from consult.models import Appointment

    gp = alpha.people["gp"]
    with organization_scope(alpha):
        for hour, minute in ((9, 0), (10, 20)):
            Appointment.objects.create(organization=alpha, practitioner=gp,
                                       starts_at=datetime(2027, 3, 17, hour, minute, tzinfo=AMS))
        Appointment.objects.create(organization=alpha, practitioner=gp, status="cancelled",
                                   starts_at=datetime(2027, 3, 17, 9, 40, tzinfo=AMS))
        Appointment.objects.create(organization=alpha, practitioner=gp,  # after the block's hours
                                   starts_at=datetime(2027, 3, 17, 11, 0, tzinfo=AMS))
    client = signed_in_client(gp.user, alpha)
    page = client.post(f"/portal/agenda/hours/{weekly.pk}/day/", {"day": "2027-03-17", "view": "week",
                                                                   "anchor": "2027-03-17"}, follow=True)
    text = " ".join(page.content.decode().split())
    assert "2 appointments in these hours stay booked: move or cancel them under" in text
