"""A slot is never booked twice, even when many requests race for it. Covers F-AVAIL-2.

Real threads with their own database connections against a committed database (transaction=True), so
the database's own guarantees are what is tested. Runs on SQLite (the default test database, a file)
and on PostgreSQL (DATABASE_URL=postgres://...).
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from consult import services
from consult.models import Appointment, AppointmentParticipant, AppointmentStatus, Availability, Client
from consult.selectors import bookable_slots
from consult.services import SlotTakenError
from orgs.models import AuditEvent, Membership
from orgs.scoping import scopes_disabled
from tests.concurrency import race
from tests.conftest import make_org

THREADS = 20


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_concurrent_bookings_of_one_slot_let_exactly_one_in():
    """covers F-AVAIL-2"""
    alpha = make_org("alpha", "Alpha Practice")
    admin, gp = alpha.people["admin"], alpha.people["gp"]
    zone = ZoneInfo(alpha.time_zone)
    day = timezone.localdate(timezone=zone) + timedelta(days=2)
    starts_at = datetime.combine(day, time(10, 0), tzinfo=zone)
    client = services.client_create(member=admin, initials="J.", last_name="Jansen", email="jansen@example.test",
                                    language="en")
    services.availability_save(member=admin, availability=Availability(
        practitioner=gp, date=day, start_time=time(9, 0), end_time=time(12, 0), consult_minutes=20,
    ))
    slots = bookable_slots(alpha, [gp], day, day)
    assert starts_at in {slot.starts_at for slot in slots}
    mail.outbox.clear()

    def load(index):
        # Each thread has its own connection and its own objects, as separate requests would.
        with scopes_disabled():
            booker_pk = (admin if index % 2 else gp).pk
            member = Membership.objects.select_related("organization", "user").get(pk=booker_pk)
            practitioner = Membership.objects.select_related("organization", "user").get(pk=gp.pk)
            return member, practitioner, Client.objects.get(pk=client.pk)

    def book(index, loaded):
        member, practitioner, own_client = loaded
        try:
            services.appointment_create(member=member, client=own_client, practitioner=practitioner,
                                        starts_at=starts_at)
        except SlotTakenError:
            return "taken"
        except ValidationError as error:
            return ("refused", error)
        return "booked"

    results = race(THREADS, book, prepare=load)

    unexpected = [r for r in results if r not in ("booked", "taken") and not isinstance(r, tuple)]
    assert unexpected == [], unexpected
    assert results.count("booked") == 1, results
    assert len([r for r in results if r != "booked"]) == THREADS - 1

    with scopes_disabled():
        booked = list(Appointment.objects.filter(practitioner=gp, starts_at=starts_at,
                                                 status=AppointmentStatus.SCHEDULED))
        assert len(booked) == 1
        assert Appointment.objects.filter(organization=alpha).count() == 1
        assert AppointmentParticipant.objects.filter(appointment=booked[0]).count() == 1
        assert AuditEvent.objects.filter(organization=alpha, action="appointment.create").count() == 1
    # Only the winner's confirmation went out.
    assert [m.to for m in mail.outbox] == [["jansen@example.test"]]
    # And the slot is no longer offered.
    assert starts_at not in {slot.starts_at for slot in bookable_slots(alpha, [gp], day, day)}
