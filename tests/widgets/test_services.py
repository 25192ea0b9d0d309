"""Widget services: a walk-in enters now, a booking takes a free slot; refusals write nothing."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from consult import links
from consult.models import (
    Appointment,
    AppointmentKind,
    AppointmentParticipant,
    Availability,
    AvailabilityKind,
    Client,
)
from consult.selectors import zone_of
from consult.services import SlotTakenError
from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled
from tests.widgets.conftest import make_booking, make_walk_in
from widgets import selectors, services

pytestmark = pytest.mark.django_db

DETAILS = {"given_name": "Jan", "last_name": "de Boer", "date_of_birth": date(1958, 3, 14),
           "email": "Jan.deBoer@example.com", "phone": "", "client_number": ""}


def switch(member, on=True):
    with scopes_disabled():
        member.walk_in_open = on
        member.save(update_fields=["walk_in_open"])


def counts():
    with scopes_disabled():
        return Client.objects.count(), Appointment.objects.count(), AppointmentParticipant.objects.count()


def test_walk_in_start_creates_client_and_walk_in_appointment_now(alpha, django_capture_on_commit_callbacks):
    gp = alpha.people["gp"]
    switch(gp)
    widget = make_walk_in(alpha)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        appointment, link = services.walk_in_start(widget=widget, practitioner_id=gp.pk, details=DETAILS)
    assert appointment.kind == AppointmentKind.WALK_IN
    assert appointment.practitioner == gp
    assert appointment.department == alpha.departments_by_name["gp"]
    assert before <= appointment.starts_at <= timezone.now()
    with scopes_disabled():
        client = appointment.client
        participant = appointment.participants.get()
        assert (client.first_name, client.initials, client.last_name) == ("Jan", "J.", "de Boer")
        assert client.organization == alpha and client.department == alpha.departments_by_name["gp"]
        actions = set(AuditEvent.objects.filter(organization=alpha).values_list("action", flat=True))
    assert {"client.create", "appointment.create"} <= actions
    assert link.startswith(alpha.base_url + "/c/")
    assert links.token_hash(link.rstrip("/").rsplit("/", 1)[1]) == participant.token_hash
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["Jan.deBoer@example.com"]  # the link, to keep


def test_two_walk_ins_with_one_practitioner_both_wait(alpha):
    gp = alpha.people["gp"]
    switch(gp)
    widget = make_walk_in(alpha)
    services.walk_in_start(widget=widget, practitioner_id=gp.pk, details=DETAILS)
    services.walk_in_start(widget=widget, practitioner_id=gp.pk, details={**DETAILS, "last_name": "Mulder"})
    with scopes_disabled():
        assert Appointment.objects.filter(kind=AppointmentKind.WALK_IN, practitioner=gp).count() == 2


def test_walk_in_refused_when_switch_went_off_writes_nothing(alpha):
    gp = alpha.people["gp"]
    switch(gp)
    widget = make_walk_in(alpha)
    with scopes_disabled():
        assert selectors.available_now(widget)  # what the visitor saw
    switch(gp, on=False)  # …then the practitioner closed
    before = counts()
    audit_before = AuditEvent.objects.with_scopes_disabled().count()
    with pytest.raises(ValidationError) as refused:
        services.walk_in_start(widget=widget, practitioner_id=gp.pk, details=DETAILS)
    assert "no longer available" in str(refused.value)
    assert counts() == before
    assert AuditEvent.objects.with_scopes_disabled().count() == audit_before


def test_walk_in_outside_the_widget_departments_or_organisation_is_refused(alpha, beta):
    gp, physio = alpha.people["gp"], alpha.people["physio"]
    switch(gp)
    switch(physio)
    switch(beta.people["gp"])
    widget = make_walk_in(alpha)
    with scopes_disabled():
        widget.departments.set([alpha.departments_by_name["gp"]])
    for practitioner_id in (physio.pk, beta.people["gp"].pk, 999999):
        with pytest.raises(ValidationError):
            services.walk_in_start(widget=widget, practitioner_id=practitioner_id, details=DETAILS)
    assert counts() == (0, 0, 0)


def test_walk_in_hours_count_like_the_switch(alpha):
    gp = alpha.people["gp"]
    zone = zone_of(alpha)
    today = timezone.localdate(timezone=zone)
    with scopes_disabled():
        Availability.objects.create(organization=alpha, practitioner=gp, kind=AvailabilityKind.WALK_IN, date=today,
                                    start_time=time(9, 0), end_time=time(11, 0))
    widget = make_walk_in(alpha)
    with pytest.raises(ValidationError):
        services.walk_in_start(widget=widget, practitioner_id=gp.pk, details=DETAILS,
                               now=datetime.combine(today, time(11, 0), tzinfo=zone))
    at_ten = datetime.combine(today, time(10, 0), tzinfo=zone)
    appointment, _link = services.walk_in_start(widget=widget, practitioner_id=gp.pk, details=DETAILS, now=at_ten)
    assert appointment.kind == AppointmentKind.WALK_IN and appointment.starts_at == at_ten


def test_client_is_matched_on_last_name_birth_date_and_email_ignoring_case(alpha):
    with organization_scope(alpha):
        existing = Client.objects.create(organization=alpha, initials="J.", first_name="Jan", last_name="De Boer",
                                         date_of_birth=date(1958, 3, 14), email="jan.deboer@EXAMPLE.com",
                                         phone="0612345678")
        matched = services.client_match_or_create(organization=alpha, details=DETAILS)
        assert matched == existing
        matched.refresh_from_db()
        assert matched.phone == "0612345678" and matched.first_name == "Jan"  # a visitor never edits a record
        other = services.client_match_or_create(organization=alpha,
                                                details={**DETAILS, "date_of_birth": date(1960, 1, 1)})
        assert other != existing
        assert Client.objects.count() == 2


def test_initials_and_first_names():
    assert services.split_given_name("J.K.") == ("J.K.", "")
    assert services.split_given_name("JK") == ("JK", "")
    assert services.split_given_name(" jan  ") == ("J.", "jan")


# --- booking ------------------------------------------------------------------------------------

def booking_setup(alpha):
    gp = alpha.people["gp"]
    zone = zone_of(alpha)
    day = timezone.localdate(timezone=zone) + timedelta(days=2)
    with scopes_disabled():
        Availability.objects.create(organization=alpha, practitioner=gp, kind=AvailabilityKind.BOOKING, date=day,
                                    start_time=time(9, 0), end_time=time(10, 0), consult_minutes=20)
        widget = make_booking(alpha)
        days = selectors.free_slots_by_day(widget)
    return widget, gp, days, datetime.combine(day, time(9, 0), tzinfo=zone)


def test_booking_makes_appointment_and_emails_the_link(alpha, django_capture_on_commit_callbacks):
    widget, gp, days, nine = booking_setup(alpha)
    slot, _practitioner, slot_id = days[0][1][0]
    assert slot.starts_at == nine
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.booking_make(widget=widget, slot_value=slot_id, details=DETAILS)
    assert appointment.starts_at == nine and appointment.practitioner == gp
    assert appointment.kind == AppointmentKind.APPOINTMENT and appointment.duration_minutes == 20
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Jan.deBoer@example.com"]
    with scopes_disabled():
        participant = appointment.participants.get()
    assert links.link_url(alpha, links.token_for(participant.token_nonce)) in message.body
    with scopes_disabled():
        assert [s for _day, slots in selectors.free_slots_by_day(widget) for s, _p, _i in slots
                if s.starts_at == nine] == []


def test_booking_a_taken_slot_writes_nothing(alpha, django_capture_on_commit_callbacks):
    widget, _gp, days, _nine = booking_setup(alpha)
    _slot, _practitioner, slot_id = days[0][1][0]
    services.booking_make(widget=widget, slot_value=slot_id, details=DETAILS)
    before = counts()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SlotTakenError):
        services.booking_make(widget=widget, slot_value=slot_id, details={**DETAILS, "last_name": "Mulder",
                                                                           "email": "l@example.com"})
    assert counts() == before
    assert mail.outbox == []


def test_booking_refuses_slots_the_widget_does_not_offer(alpha):
    widget, gp, days, nine = booking_setup(alpha)
    with scopes_disabled():
        widget.departments.set([alpha.departments_by_name["physio"]])
    _slot, _practitioner, slot_id = days[0][1][0]
    for value in (slot_id, f"{gp.pk}-{int((nine + timedelta(minutes=5)).timestamp())}", "x", ""):
        with pytest.raises(SlotTakenError):
            services.booking_make(widget=widget, slot_value=value, details=DETAILS)
    assert counts() == (0, 0, 0)
