"""Today's appointments coloured by department or by practitioner. Covers F-APPT-8."""

import re
import zoneinfo
from datetime import datetime, time

import pytest
import time_machine

from consult import services
from orgs.models import Department
from orgs.scoping import scopes_disabled
from portal.views.appointments import DEFAULT_COLOUR, PRACTITIONER_COLOURS
from tests.conftest import signed_in_client

pytestmark = pytest.mark.django_db
AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 18, 8, 0, tzinfo=AMSTERDAM)


def accents(html):
    """{client last name: the colour of its line} on the Today page."""
    return dict((name, colour) for colour, name in re.findall(
        r'<li class="timeline-item" style="--accent: (#[0-9a-fA-F]{6})">.*?<strong>[^<]*?(\w+)</strong>', html, re.S))


@pytest.fixture
def day(alpha, django_capture_on_commit_callbacks):
    """Three appointments today: gp's client in General practice, physio's in Physiotherapy, and one of gp's
    clients without a department."""
    with scopes_disabled():
        Department.objects.filter(pk=alpha.departments_by_name["gp"].pk).update(colour="#aa0000")
        Department.objects.filter(pk=alpha.departments_by_name["physio"].pk).update(colour="#00aa00")
        admin = alpha.people["admin"]
        with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
            for hour, last_name, practitioner, department in (
                (10, "Gpclient", "gp", "gp"), (11, "Physioclient", "physio", "physio"), (12, "Nodept", "gp", None),
            ):
                person = services.client_create(
                    member=admin, initials="A.", last_name=last_name, email=f"{last_name}@example.test",
                    date_of_birth="1980-01-01",
                    department=alpha.departments_by_name[department] if department else None,
                )
                services.appointment_create(
                    member=admin, client=person, practitioner=alpha.people[practitioner],
                    starts_at=datetime.combine(NOW.date(), time(hour), tzinfo=AMSTERDAM),
                )
    return signed_in_client(alpha.people["admin"].user, alpha)


def test_today_is_coloured_by_department_with_a_legend(alpha, day):
    with time_machine.travel(NOW, tick=False):
        html = day.get("/portal/today/").content.decode()
    assert accents(html) == {"Gpclient": "#aa0000", "Physioclient": "#00aa00", "Nodept": DEFAULT_COLOUR}
    legend = re.search(r'<ul class="legend"[^>]*>(.*?)</ul>', html, re.S).group(1)
    assert "General practice" in legend and "Physiotherapy" in legend
    assert 'href="?colour=department" aria-current="page"' in html


def test_today_is_coloured_by_practitioner_on_request(alpha, day):
    gp, physio = alpha.people["gp"], alpha.people["physio"]
    gp_colour = PRACTITIONER_COLOURS[gp.pk % len(PRACTITIONER_COLOURS)]
    physio_colour = PRACTITIONER_COLOURS[physio.pk % len(PRACTITIONER_COLOURS)]
    with time_machine.travel(NOW, tick=False):
        html = day.get("/portal/today/?colour=practitioner").content.decode()
    # Same practitioner, same colour, whatever the client's department.
    assert accents(html) == {"Gpclient": gp_colour, "Physioclient": physio_colour, "Nodept": gp_colour}
    legend = re.search(r'<ul class="legend"[^>]*>(.*?)</ul>', html, re.S).group(1)
    assert gp.user.get_full_name() in legend and physio.user.get_full_name() in legend
    assert "General practice" not in legend
    assert 'href="?colour=practitioner" aria-current="page"' in html
