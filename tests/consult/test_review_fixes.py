"""Behaviour a review of the appointments work asked for, each pinned by a test.

Covers F-AVAIL-2 (overlapping bookings), F-ORG-7 (changing appointments in other agendas), F-APPT-2/3 (links,
reminders, DST), the audit of client record views and privacy of the audit log after anonymisation.
"""

import threading
import zoneinfo
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from consult import jobs, services
from consult.models import Appointment, AppointmentStatus, Client
from orgs.models import AuditEvent, Membership
from orgs.scoping import scopes_disabled
from tests.conftest import host_client, make_org, signed_in_client

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
NOW = datetime(2031, 3, 10, 9, 0, tzinfo=AMSTERDAM)


def at(hour, minute=0, days=0):
    return datetime.combine(NOW.date() + timedelta(days=days), time(hour, minute), tzinfo=AMSTERDAM)


def new_client(org, key="admin", **fields):
    values = {"initials": "J.", "last_name": "Jansen", "email": "jansen@example.test", "language": "en",
              "date_of_birth": "1970-01-01", "department": org.departments_by_name["gp"]} | fields
    with scopes_disabled():
        return services.client_create(member=org.people[key], **values)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_overlapping_bookings_that_race_never_both_succeed():
    """Covers F-AVAIL-2: 8:00 for 40 minutes and 8:20 for 20 minutes, booked at the same moment."""
    org = make_org("alpha", "Alpha Practice")
    client = new_client(org)
    member_ids, client_id = (org.people["admin"].pk, org.people["gp"].pk), client.pk
    start = datetime.now(AMSTERDAM).replace(microsecond=0) + timedelta(days=3)
    for round_number in range(3):
        base = start + timedelta(hours=round_number * 2)
        barrier, outcomes = threading.Barrier(2), []

        def book(offset, minutes, base=base, barrier=barrier, outcomes=outcomes):
            try:
                with scopes_disabled():
                    admin = Membership.objects.select_related("organization", "user").get(pk=member_ids[0])
                    gp = Membership.objects.select_related("organization", "user").get(pk=member_ids[1])
                    person = Client.objects.get(pk=client_id)
                barrier.wait()
                services.appointment_create(member=admin, client=person, practitioner=gp,
                                            starts_at=base + timedelta(minutes=offset), duration_minutes=minutes)
                outcomes.append("booked")
            except ValidationError:
                outcomes.append("refused")
            finally:
                connection.close()

        threads = [threading.Thread(target=book, args=(0, 40)), threading.Thread(target=book, args=(20, 20))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["booked", "refused"], outcomes


@pytest.mark.django_db
def test_seeing_an_appointment_is_not_enough_to_move_or_cancel_it(alpha, frozen):
    """Covers F-ORG-7: a GP department admin sees an own-department client booked with the physio, but may not
    change the physio's agenda."""
    alpha.strict_departments = True
    alpha.save()
    client = new_client(alpha)
    with scopes_disabled():
        appointment = services.appointment_create(member=alpha.people["admin"], client=client,
                                                  practitioner=alpha.people["physio"], starts_at=at(14))
    deptadmin = alpha.people["deptadmin"]
    deptadmin.organization = alpha
    with scopes_disabled():
        with pytest.raises(PermissionDenied):
            services.appointment_reschedule(member=deptadmin, appointment=appointment, starts_at=at(6))
        with pytest.raises(PermissionDenied):
            services.appointment_cancel(member=deptadmin, appointment=appointment)
    web = signed_in_client(deptadmin.user, alpha)
    page = web.get(f"/portal/appointments/{appointment.pk}/").content.decode()
    assert "Move and email new links" not in page and "Cancel the appointment" not in page
    assert web.post(f"/portal/appointments/{appointment.pk}/cancel/").status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED and appointment.starts_at == at(14)


@pytest.mark.django_db
def test_own_client_in_another_department_keeps_its_department_when_edited(alpha):
    alpha.strict_departments = True
    alpha.save()
    with scopes_disabled():
        physio_department = alpha.departments_by_name["physio"]
    client = new_client(alpha, department=physio_department)
    with scopes_disabled():
        client.practitioners.add(alpha.people["gp"].user)  # gp's own client, in Physiotherapy
    web = signed_in_client(alpha.people["gp"].user, alpha)
    response = web.post(f"/portal/clients/{client.pk}/edit/", {
        "initials": "J.", "last_name": "Jansen", "email": "jansen@example.test", "date_of_birth": "1970-01-01",
        "language": "en", "phone": "+31 6 1111 2222", "department": alpha.departments_by_name["gp"].pk,
    })
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.phone == "+31 6 1111 2222" and client.department_id == physio_department.pk


@pytest.mark.django_db
def test_opening_a_client_form_or_appointment_page_is_a_logged_record_view(alpha, frozen):
    client = new_client(alpha)
    with scopes_disabled():
        appointment = services.appointment_create(member=alpha.people["admin"], client=client,
                                                  practitioner=alpha.people["gp"], starts_at=at(14))
    web = signed_in_client(alpha.people["gp"].user, alpha)
    for url in (f"/portal/clients/{client.pk}/edit/", f"/portal/appointments/{appointment.pk}/"):
        before = AuditEvent.objects.with_scopes_disabled().filter(action="client.view").count()
        assert web.get(url).status_code == 200
        assert AuditEvent.objects.with_scopes_disabled().filter(action="client.view").count() == before + 1, url


@pytest.mark.django_db
def test_an_opened_link_stops_working_in_that_browser_when_the_appointment_moves(
        alpha, frozen, django_capture_on_commit_callbacks):
    client = new_client(alpha)
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        appointment = services.appointment_create(member=alpha.people["admin"], client=client,
                                                  practitioner=alpha.people["gp"], starts_at=at(9, 30))
    link = services.participant_link(appointment.participants.with_scopes_disabled().get())
    browser = host_client(alpha)
    assert "Waiting room" in browser.get(link.split("8000", 1)[1], follow=True).content.decode()
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(member=alpha.people["admin"], appointment=appointment, starts_at=at(10))
    response = browser.get("/c/")
    assert response.status_code == 410 and "This link has been replaced" in response.content.decode()


@pytest.mark.django_db
def test_a_moved_appointment_gets_a_reminder_on_its_new_day(alpha, django_capture_on_commit_callbacks):
    client = new_client(alpha)
    with time_machine.travel(at(9, days=-3), tick=False), scopes_disabled():
        with django_capture_on_commit_callbacks(execute=True):
            appointment = services.appointment_create(member=alpha.people["admin"], client=client,
                                                      practitioner=alpha.people["gp"], starts_at=at(15))
    with time_machine.travel(at(8), tick=False):
        assert jobs.send_due_reminders() == 1
    with time_machine.travel(at(12), tick=False), scopes_disabled():
        with django_capture_on_commit_callbacks(execute=True):
            services.appointment_reschedule(member=alpha.people["admin"], appointment=appointment,
                                            starts_at=at(15, days=7))
    with time_machine.travel(at(8, days=7), tick=False):
        assert jobs.send_due_reminders() == 1
        assert jobs.send_due_reminders() == 0


@pytest.mark.django_db
def test_a_time_in_the_skipped_hour_is_refused(alpha):
    with scopes_disabled():
        alpha.people["gp"].organization = alpha
    client = new_client(alpha)
    with time_machine.travel(datetime(2027, 3, 20, 9, tzinfo=AMSTERDAM), tick=False):
        web = signed_in_client(alpha.people["deptadmin"].user, alpha)
        response = web.post("/portal/appointments/new/", {
            "practitioner": alpha.people["gp"].pk, "client": client.pk, "date": "2027-03-28", "time": "02:30",
            "duration_minutes": "20",
        })
    assert response.status_code == 200
    assert "the clocks go forward" in response.content.decode()
    with scopes_disabled():
        assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_audit_rows_hold_no_client_names_or_messages(alpha, frozen):
    client = new_client(alpha, last_name="Geheimnaam")
    with scopes_disabled():
        appointment = services.appointment_create(member=alpha.people["admin"], client=client,
                                                  practitioner=alpha.people["gp"], starts_at=at(14),
                                                  personal_message="Uitslag bespreken")
        services.appointment_update_details(member=alpha.people["admin"], appointment=appointment,
                                            personal_message="Andere uitslag", client_number="X")
        rows = AuditEvent.objects.filter(action__startswith="appointment.")
        text = " ".join(str(row.changes) for row in rows)
    assert "Geheimnaam" not in text and "uitslag" not in text.lower()


@pytest.mark.django_db
def test_no_changes_for_past_or_unmoved_appointments(alpha, django_capture_on_commit_callbacks):
    client = new_client(alpha)
    with time_machine.travel(at(9), tick=False), scopes_disabled():
        with django_capture_on_commit_callbacks(execute=True):
            appointment = services.appointment_create(member=alpha.people["admin"], client=client,
                                                      practitioner=alpha.people["gp"], starts_at=at(14))
        sent = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            services.appointment_reschedule(member=alpha.people["admin"], appointment=appointment, starts_at=at(14))
        assert len(mail.outbox) == sent  # nothing moved: no new links, no email
    with time_machine.travel(at(9, days=2), tick=False), scopes_disabled():
        with pytest.raises(ValidationError, match="over"):
            services.appointment_cancel(member=alpha.people["admin"], appointment=appointment)


@pytest.mark.django_db
def test_platform_staff_in_the_portal_get_pages_not_errors(alpha, superuser):
    from tests.orgs.test_remote_support import support_client

    alpha.allow_remote_support = True
    alpha.save()
    client = new_client(alpha)
    web = support_client(alpha, alpha.people["admin"], superuser)  # acting as the admin: no quick consults
    assert web.get("/portal/agenda/").status_code == 200
    response = web.post(f"/portal/clients/{client.pk}/quick-consult/")
    assert response.status_code == 302  # refused with a message, not a server error
    with scopes_disabled():
        assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_invitation_names_the_client_as_attendee(alpha, frozen, django_capture_on_commit_callbacks):
    from icalendar import Calendar

    client = new_client(alpha)
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        services.appointment_create(member=alpha.people["admin"], client=client,
                                    practitioner=alpha.people["gp"], starts_at=at(14))
    ics = next(content for name, content, _type in mail.outbox[-1].attachments if name == "invite.ics")
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["attendee"]) == "mailto:jansen@example.test"


@pytest.mark.django_db
def test_language_choice_waits_for_the_button(alpha):
    html = host_client(alpha).get("/accounts/login/").content.decode()
    assert "data-autosubmit" not in html and 'class="button button-small">Change</button>' in html
