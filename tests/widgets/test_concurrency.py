"""A booking widget slot is booked once, however many visitors submit it at the same moment (F-WIDGET-3).

Real threads with their own database connections posting the real form (transaction=True), as in
tests/consult/test_concurrency.py; each visitor from another address so the throttle stays out of it.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from consult.models import Appointment, AppointmentParticipant, Availability, AvailabilityKind, Client
from consult.selectors import zone_of
from orgs.scoping import scopes_disabled
from tests.concurrency import race
from tests.conftest import host_client, make_org
from tests.widgets.conftest import make_booking

THREADS = 20


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_concurrent_submissions_of_one_slot_book_it_once_and_write_nothing_else():
    alpha = make_org("alpha", "Alpha Practice")
    gp = alpha.people["gp"]
    zone = zone_of(alpha)
    day = timezone.localdate(timezone=zone) + timedelta(days=2)
    with scopes_disabled():
        Availability.objects.create(organization=alpha, practitioner=gp, kind=AvailabilityKind.BOOKING, date=day,
                                    start_time=time(9, 0), end_time=time(10, 0))
    widget = make_booking(alpha)
    url = widget.get_absolute_url()
    listing = host_client(alpha).get(url).content.decode()
    slot = re.findall(r'href="\?slot=([0-9-]+)"', listing)[0]
    details = host_client(alpha).get(url, {"slot": slot}).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', details).group(1)
    mail.outbox.clear()

    def submit(index, _):
        response = host_client(alpha).post(url, {
            "token": token, "slot": slot, "given_name": f"Visitor{index}", "last_name": f"Number{index}",
            "date_of_birth": "1990-01-01", "email": f"visitor{index}@example.com",
        }, REMOTE_ADDR=f"198.51.100.{index + 1}")
        body = response.content.decode()
        if response.status_code == 200 and "Your appointment is booked" in body:
            return "booked"
        if response.status_code == 409 and "This time was just booked; pick another." in body:
            return "taken"
        return (response.status_code, body[:500])

    results = race(THREADS, submit)

    unexpected = [r for r in results if r not in ("booked", "taken")]
    assert unexpected == [], unexpected
    assert results.count("booked") == 1, results
    with scopes_disabled():
        starts_at = datetime.combine(day, time(9, 0), tzinfo=zone)
        assert Appointment.objects.filter(practitioner=gp, starts_at=starts_at).count() == 1
        assert Appointment.objects.count() == 1
        assert Client.objects.count() == 1  # the others' details were not kept
        assert AppointmentParticipant.objects.count() == 1
    assert len(mail.outbox) == 1
