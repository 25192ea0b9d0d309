"""The portal's clients, agenda and appointment screens through HTTP.

Covers F-CLIENT-1, F-CLIENT-2 (schedule from a client, quick consult), F-AVAIL-1, F-APPT-1, F-APPT-7, F-APPT-8,
F-ORG-7 and the audit of client record views.
"""

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from consult import services
from consult.models import Appointment, AppointmentStatus, Availability, Client
from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled
from tests.conftest import signed_in_client

pytestmark = pytest.mark.django_db
AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
# A Wednesday morning, well away from daylight-saving changes.
NOW = datetime(2026, 11, 18, 8, 0, tzinfo=AMSTERDAM)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def make_client(org, key="deptadmin", **fields):
    values = {"initials": "J.", "last_name": "Jansen", "email": "j.jansen@example.com",
              "date_of_birth": "1970-01-02", "department": org.departments_by_name["gp"]} | fields
    with scopes_disabled():
        return services.client_create(member=org.people[key], **values)


def test_client_search_lists_only_visible_clients(alpha, beta):
    make_client(alpha, last_name="Visser")
    make_client(beta, last_name="Visser", email="other@example.com")
    client = signed_in_client(alpha.people["gp"].user, alpha)
    html = client.get("/portal/clients/?q=viss").content.decode()
    assert html.count("Visser") == 1 and "other@example.com" not in html
    partial = client.get("/portal/clients/?q=1970-01-02", HTTP_HX_REQUEST="true").content.decode()
    assert "Visser" in partial and "<html" not in partial  # htmx gets the results only


def test_new_client_form_shows_possible_duplicates_and_validates(alpha):
    make_client(alpha, last_name="de Groot", email="groot@example.com")
    client = signed_in_client(alpha.people["deptadmin"].user, alpha)
    matches = client.get("/portal/clients/matches/?last_name=de+groot").content.decode()
    assert "de Groot" in matches
    assert "de Groot" not in client.get("/portal/clients/matches/?last_name=x").content.decode()
    with scopes_disabled():
        before = Client.objects.count()
    response = client.post("/portal/clients/new/", {"initials": "", "last_name": "Nieuw", "email": "not-an-email",
                                                    "language": "nl"})
    assert response.status_code == 200
    assert {"initials", "email", "date_of_birth"} <= set(response.context["form"].errors)
    with scopes_disabled():
        assert Client.objects.count() == before


def test_create_client_then_open_the_record_is_audited(alpha):
    client = signed_in_client(alpha.people["deptadmin"].user, alpha)
    with scopes_disabled():
        gp_department = alpha.departments_by_name["gp"]
    response = client.post("/portal/clients/new/", {
        "initials": "K.", "first_name": "Kees", "last_name": "Kok", "date_of_birth": "1980-05-05",
        "email": "kees@example.com", "language": "nl", "department": gp_department.pk,
    })
    assert response.status_code == 302
    with scopes_disabled():
        created = Client.objects.get(last_name="Kok")
    html = client.get(f"/portal/clients/{created.pk}/").content.decode()
    assert "Kees Kok" in html and "kees@example.com" in html
    event = AuditEvent.objects.with_scopes_disabled().get(action="client.view")
    assert event.target_id == str(created.pk) and event.actor == alpha.people["deptadmin"].user
    assert event.changes["acting_for"][1] == "Department admin"


def test_other_organisations_and_other_departments_clients_are_404(alpha, beta):
    foreign = make_client(beta)
    physio_client = make_client(alpha, last_name="Fysio", department=alpha.departments_by_name["physio"],
                                key="admin")
    client = signed_in_client(alpha.people["deptadmin"].user, alpha)
    for url in (f"/portal/clients/{foreign.pk}/", f"/portal/clients/{foreign.pk}/edit/"):
        assert client.get(url).status_code == 404
    assert client.get(f"/portal/clients/{physio_client.pk}/").status_code == 200
    alpha.strict_departments = True
    alpha.save()
    assert client.get(f"/portal/clients/{physio_client.pk}/").status_code == 404
    assert client.post(f"/portal/clients/{physio_client.pk}/quick-consult/").status_code == 404


def test_agenda_hours_weekly_and_validation(alpha):
    gp = alpha.people["gp"]
    client = signed_in_client(gp.user, alpha)
    response = client.post("/portal/agenda/hours/new/", {
        "practitioner": gp.pk, "kind": "booking", "date": "2026-11-23", "start_time": "09:00", "end_time": "11:00",
        "repeat": "FREQ=WEEKLY", "rrule": "", "consult_minutes": "20", "break_minutes": "10",
    })
    assert response.status_code == 302
    with organization_scope(alpha):
        availability = Availability.objects.get(practitioner=gp)
    assert availability.rrule == "FREQ=WEEKLY;BYDAY=MO"
    html = client.get("/portal/agenda/?day=2026-11-30").content.decode()
    assert "09:00–11:00" in html
    bad = client.post("/portal/agenda/hours/new/", {
        "practitioner": gp.pk, "kind": "booking", "date": "2026-11-23", "start_time": "11:00", "end_time": "10:00",
        "repeat": "custom", "rrule": "EVERY MONDAY", "consult_minutes": "20", "break_minutes": "0",
    })
    assert bad.status_code == 200
    assert {"end_time", "rrule"} <= set(bad.context["form"].errors)
    with organization_scope(alpha):
        assert Availability.objects.count() == 1


def test_practitioners_cannot_change_a_colleagues_agenda(alpha, beta):
    physio = alpha.people["physio"]
    client = signed_in_client(alpha.people["gp"].user, alpha)
    assert client.get(f"/portal/agenda/hours/new/?practitioner={physio.pk}").status_code == 404
    with organization_scope(alpha):
        hours = Availability.objects.create(organization=alpha, practitioner=physio, date=NOW.date(),
                                            start_time=time(9), end_time=time(10))
    assert client.get(f"/portal/agenda/hours/{hours.pk}/").status_code == 404
    assert client.post(f"/portal/agenda/hours/{hours.pk}/delete/").status_code == 404
    # a department admin of the same organisation may; another organisation's admin sees nothing
    assert signed_in_client(alpha.people["admin"].user, alpha).get(f"/portal/agenda/hours/{hours.pk}/").status_code \
        == 200
    assert signed_in_client(beta.people["admin"].user, beta).get(f"/portal/agenda/hours/{hours.pk}/").status_code \
        == 404


def test_free_slots_and_new_appointment_through_the_portal(alpha, django_capture_on_commit_callbacks):
    gp = alpha.people["gp"]
    with organization_scope(alpha):
        Availability.objects.create(organization=alpha, practitioner=gp, date=NOW.date(), start_time=time(10),
                                    end_time=time(12), consult_minutes=20, break_minutes=10)
    person = make_client(alpha)
    client = signed_in_client(alpha.people["deptadmin"].user, alpha)
    slots = client.get(f"/portal/agenda/free-slots/?practitioner={gp.pk}&date={NOW.date()}").content.decode()
    assert [t for t in ("10:00", "10:30", "11:00", "11:30") if t in slots] == ["10:00", "10:30", "11:00", "11:30"]
    form = {"practitioner": gp.pk, "client": person.pk, "date": NOW.date().isoformat(), "time": "10:30",
            "duration_minutes": "20", "personal_message": "Bring your glasses", "client_number": ""}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/appointments/new/", form)
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["j.jansen@example.com"]
    slots = client.get(f"/portal/agenda/free-slots/?practitioner={gp.pk}&date={NOW.date()}").content.decode()
    assert "10:30" not in slots and "10:00" in slots
    again = client.post("/portal/appointments/new/", form)
    assert again.status_code == 200
    assert "already has an appointment" in again.content.decode()
    with organization_scope(alpha):
        assert Appointment.objects.count() == 1


def test_reschedule_cancel_today_and_quick_consult(alpha, django_capture_on_commit_callbacks):
    gp = alpha.people["gp"]
    person = make_client(alpha)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.appointment_create(
            member=alpha.people["deptadmin"], client=person, practitioner=gp,
            starts_at=datetime.combine(NOW.date(), time(14), tzinfo=AMSTERDAM),
        )
    client = signed_in_client(gp.user, alpha)
    today = client.get("/portal/today/").content.decode()
    assert "Jansen" in today and "14:00" in today
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/appointments/{appointment.pk}/reschedule/",
                               {"date": NOW.date().isoformat(), "time": "15:00", "duration_minutes": "30"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == datetime.combine(NOW.date(), time(15), tzinfo=AMSTERDAM)
    assert "Changed" in mail.outbox[-1].subject or "Gewijzigd" in mail.outbox[-1].subject
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/portal/appointments/{appointment.pk}/cancel/", {"message": "Sorry, I am ill."})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert "Jansen" not in client.get("/portal/today/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/clients/{person.pk}/quick-consult/")
    assert response.status_code == 302
    with organization_scope(alpha):
        quick = Appointment.objects.get(kind="quick")
    assert abs(quick.starts_at - timezone.now()) < timedelta(seconds=2) and quick.practitioner == gp


def test_appointment_pages_of_other_organisations_are_404(alpha, beta, django_capture_on_commit_callbacks):
    person = make_client(beta)
    with django_capture_on_commit_callbacks(execute=True):
        foreign = services.appointment_create(
            member=beta.people["admin"], client=person, practitioner=beta.people["gp"],
            starts_at=NOW + timedelta(days=1),
        )
    client = signed_in_client(alpha.people["admin"].user, alpha)
    assert client.get(f"/portal/appointments/{foreign.pk}/").status_code == 404
    assert client.post(f"/portal/appointments/{foreign.pk}/cancel/").status_code == 404
    assert client.post(f"/portal/appointments/{foreign.pk}/reschedule/", {}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == AppointmentStatus.SCHEDULED


def test_new_appointment_with_a_new_client_keeps_both_or_neither(alpha, django_capture_on_commit_callbacks):
    gp = alpha.people["gp"]
    client = signed_in_client(alpha.people["deptadmin"].user, alpha)
    form = {"practitioner": gp.pk, "client": "", "new_initials": "T.", "new_last_name": "Tuin",
            "new_date_of_birth": "1999-09-09", "new_email": "tuin@example.com", "new_language": "en",
            "date": NOW.date().isoformat(), "time": "15:00", "duration_minutes": "20"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/portal/appointments/new/", form).status_code == 302
    assert mail.outbox[-1].to == ["tuin@example.com"] and mail.outbox[-1].subject.startswith("Your video")
    # Same time again with another new client: the appointment is refused, so that client is not kept either.
    refused = client.post("/portal/appointments/new/", form | {"new_last_name": "Boom", "new_email": "b@example.com"})
    assert refused.status_code == 200 and "already has an appointment" in refused.content.decode()
    with scopes_disabled():
        assert Client.objects.filter(last_name="Tuin").count() == 1
        assert not Client.objects.filter(last_name="Boom").exists()
    incomplete = client.post("/portal/appointments/new/", form | {"new_email": "", "time": "16:00"})
    assert "new_email" in incomplete.context["form"].errors


def test_bad_input_on_the_appointment_page_is_explained_and_changes_nothing(alpha, django_capture_on_commit_callbacks):
    person = make_client(alpha)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.appointment_create(
            member=alpha.people["deptadmin"], client=person, practitioner=alpha.people["gp"],
            starts_at=datetime.combine(NOW.date(), time(14), tzinfo=AMSTERDAM), personal_message="Before",
        )
    client = signed_in_client(alpha.people["gp"].user, alpha)
    response = client.post(f"/portal/appointments/{appointment.pk}/details/",
                           {"client_number": "x" * 61, "personal_message": "After"}, follow=True)
    assert "at most 60 characters" in response.content.decode()
    response = client.post(f"/portal/appointments/{appointment.pk}/reschedule/",
                           {"date": "2026-11-17", "time": "09:00", "duration_minutes": "20"}, follow=True)
    assert "This time has passed" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.personal_message == "Before" and appointment.starts_at.hour == 13  # 14:00 local
