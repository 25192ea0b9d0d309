"""The REST API's endpoints: organisation scope (another organisation's key → 401, another organisation's
id → 404), validation (422 with messages, nothing written), the portal's services underneath (emails, audit
rows naming the key, 409 for a taken slot), slots as consult.slots computes them, and the policy module."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache

from consult import emails, selectors, services
from consult.models import Appointment, AppointmentStatus, Availability, Client, EmailKind, ParticipantRole
from orgs import policy
from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled
from tests.api.conftest import api_client

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2031, 3, 10, 9, 0, tzinfo=ZONE)  # a Monday
TOMORROW = NOW.date() + timedelta(days=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def make_client(org, last_name="Jansen", department=None):
    with organization_scope(org):
        return services.client_create(member=org.people["admin"], initials="J", last_name=last_name,
                                      email=f"{last_name.lower()}@example.test", date_of_birth=date(1980, 2, 3),
                                      department=department, language="en")


def make_appointment(org, client, hour=10):
    with organization_scope(org):
        return services.appointment_create(
            member=org.people["admin"], client=client, practitioner=org.people["gp"],
            starts_at=datetime.combine(TOMORROW, time(hour), tzinfo=ZONE))


def make_availability(org, practitioner="gp"):
    with organization_scope(org):
        return services.availability_save(member=org.people["admin"], availability=Availability(
            practitioner=org.people[practitioner], date=TOMORROW, start_time=time(9), end_time=time(11),
            consult_minutes=20, break_minutes=10))


@pytest.fixture
def beta_objects(beta):
    client = make_client(beta, "Bakker")
    return {"client": client, "appointment": make_appointment(beta, client),
            "availability": make_availability(beta), "practitioner": beta.people["gp"],
            "department": beta.departments_by_name["gp"]}


def endpoints(objects):
    """(method, url, body) for every operation, with ids taken from `objects`."""
    return [
        ("get", f"/api/v1/clients/{objects['client'].pk}", None),
        ("patch", f"/api/v1/clients/{objects['client'].pk}", {"last_name": "X"}),
        ("get", f"/api/v1/appointments/{objects['appointment'].pk}", None),
        ("patch", f"/api/v1/appointments/{objects['appointment'].pk}", {"personal_message": "x"}),
        ("post", f"/api/v1/appointments/{objects['appointment'].pk}/cancel", {}),
        ("get", f"/api/v1/practitioners/{objects['practitioner'].pk}/availability", None),
        ("post", f"/api/v1/practitioners/{objects['practitioner'].pk}/availability",
         {"date": TOMORROW.isoformat(), "start_time": "13:00", "end_time": "14:00"}),
        ("delete", f"/api/v1/availability/{objects['availability'].pk}", None),
    ]


def call(client, method, url, body=None):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, content_type="application/json")


def unchanged(beta, objects):
    with scopes_disabled():
        client = Client.objects.get(pk=objects["client"].pk)
        appointment = Appointment.objects.get(pk=objects["appointment"].pk)
        return (client.last_name == "Bakker" and appointment.status == AppointmentStatus.SCHEDULED
                and appointment.personal_message == ""
                and Availability.objects.filter(pk=objects["availability"].pk).exists()
                and Availability.objects.filter(organization=beta).count() == 1)


LISTS = ["/api/v1/clients", "/api/v1/appointments", "/api/v1/departments", "/api/v1/practitioners",
         f"/api/v1/slots?date_from={TOMORROW}&date_to={TOMORROW}&department_id=1"]


def test_every_endpoint_refuses_another_organisations_key(alpha, beta, beta_objects, beta_key):
    """Beta's key on alpha's host is 401 everywhere, whether the ids are alpha's or beta's."""
    alpha_objects = {"client": make_client(alpha), "availability": make_availability(alpha),
                     "practitioner": alpha.people["gp"], "department": alpha.departments_by_name["gp"]}
    alpha_objects["appointment"] = make_appointment(alpha, alpha_objects["client"])
    foreign = api_client(alpha, beta_key[1])
    for method, url, body in endpoints(alpha_objects) + endpoints(beta_objects):
        cache.clear()  # so the wrong-key lock (tested in test_api_keys) does not answer first
        assert call(foreign, method, url, body).status_code == 401, url
    for url in LISTS:
        cache.clear()
        assert foreign.get(url).status_code == 401, url
    assert foreign.post("/api/v1/clients", {"initials": "A", "last_name": "B", "email": "a@b.nl",
                                            "date_of_birth": "1990-01-01"}, content_type="application/json"
                        ).status_code == 401
    assert unchanged(beta, beta_objects)
    with scopes_disabled():
        assert Client.objects.filter(organization=alpha).count() == 1


def test_every_endpoint_answers_another_organisations_ids_with_404(alpha, api, beta, beta_objects):
    for method, url, body in endpoints(beta_objects):
        response = call(api, method, url, body)
        assert response.status_code == 404, url
        assert "detail" in response.json()
    assert unchanged(beta, beta_objects)


def test_foreign_ids_in_bodies_and_queries_are_404_and_nothing_is_written(alpha, api, beta, beta_objects):
    client = make_client(alpha)
    tomorrow_ten = datetime.combine(TOMORROW, time(10), tzinfo=ZONE).isoformat()
    for body in (
        {"client_id": beta_objects["client"].pk, "practitioner_id": alpha.people["gp"].pk, "starts_at": tomorrow_ten},
        {"client_id": client.pk, "practitioner_id": beta_objects["practitioner"].pk, "starts_at": tomorrow_ten},
    ):
        assert api.post("/api/v1/appointments", body, content_type="application/json").status_code == 404
    response = api.get(f"/api/v1/slots?date_from={TOMORROW}&date_to={TOMORROW}"
                       f"&department_id={beta_objects['department'].pk}")
    assert response.status_code == 404
    with scopes_disabled():
        assert not Appointment.objects.filter(organization=alpha).exists()
    # Lists never show another organisation's rows.
    assert [c["id"] for c in api.get("/api/v1/clients").json()["items"]] == [client.pk]
    assert api.get("/api/v1/appointments").json()["count"] == 0
    assert beta_objects["practitioner"].pk not in [p["id"] for p in api.get("/api/v1/practitioners").json()]
    assert beta_objects["department"].pk not in [d["id"] for d in api.get("/api/v1/departments").json()]


def audit_rows(org, action):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(organization=org, action=action))


def test_client_create_search_get_and_update_audited_as_the_key(alpha, api, alpha_key):
    body = {"initials": "P", "first_name": "Piet", "last_name": "de Vries", "email": "piet@example.test",
            "date_of_birth": "1975-05-06", "department_id": alpha.departments_by_name["physio"].pk}
    response = api.post("/api/v1/clients", body, content_type="application/json")
    assert response.status_code == 201
    created = response.json()
    assert created["last_name"] == "de Vries" and created["language"] == "en"  # the organisation's default
    assert api.get("/api/v1/clients?q=vries").json()["count"] == 1
    assert api.get("/api/v1/clients?q=nobody").json()["count"] == 0
    assert api.get(f"/api/v1/clients/{created['id']}").json()["email"] == "piet@example.test"
    response = api.patch(f"/api/v1/clients/{created['id']}", {"phone": "0612345678"},
                         content_type="application/json")
    assert response.status_code == 200 and response.json()["phone"] == "0612345678"
    assert response.json()["last_name"] == "de Vries"  # fields not given stay
    label = f"API key Agenda sync ({alpha_key[0].prefix})"
    for action in ("client.create", "client.view", "client.update"):
        (row,) = audit_rows(alpha, action)
        assert row.actor is None and row.acting_for == label and row.actor_label == label
    assert audit_rows(alpha, "client.update")[0].changes == {"phone": ["", "0612345678"]}


@pytest.mark.parametrize("body, field", [
    ({"initials": "A", "last_name": "B", "email": "not-an-email", "date_of_birth": "1990-01-01"}, "email"),
    ({"initials": "A", "last_name": "B", "email": "a@example.test"}, "date_of_birth"),
    ({"initials": "A", "last_name": "B", "email": "a@example.test", "date_of_birth": "1990-01-01",
      "language": "fr"}, "language"),
    ({"initials": "A", "email": "a@example.test", "date_of_birth": "1990-01-01"}, "last_name"),
    ({"initials": "A", "last_name": "B" * 121, "email": "a@example.test", "date_of_birth": "1990-01-01"},
     "last_name"),
])
def test_client_validation_errors_are_422_with_messages_and_write_nothing(alpha, api, body, field):
    response = api.post("/api/v1/clients", body, content_type="application/json")
    assert response.status_code == 422
    fields = {error["loc"][-1]: error["msg"] for error in response.json()["detail"]}
    assert field in fields and fields[field]
    with scopes_disabled():
        assert not Client.objects.filter(organization=alpha).exists()
        assert not AuditEvent.objects.filter(organization=alpha, action="client.create").exists()


def test_client_update_validation_is_422_and_keeps_the_client(alpha, api):
    client = make_client(alpha)
    response = api.patch(f"/api/v1/clients/{client.pk}", {"email": "broken"}, content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "email"]
    with scopes_disabled():
        assert Client.objects.get(pk=client.pk).email == "jansen@example.test"


def client_participant(appointment):
    with scopes_disabled():
        return appointment.participants.get(role=ParticipantRole.CLIENT)


def test_appointment_create_sends_the_portals_confirmation_and_cancel_its_cancellation(
        alpha, api, alpha_key, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    body = {"client_id": client.pk, "practitioner_id": alpha.people["gp"].pk,
            "starts_at": f"{TOMORROW}T10:00:00", "personal_message": "Bring your list of medicines."}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/appointments", body, content_type="application/json")
    assert response.status_code == 201
    data = response.json()
    # Without an offset the time is the organisation's local time.
    assert datetime.fromisoformat(data["starts_at"]) == datetime.combine(TOMORROW, time(10), tzinfo=ZONE)
    with scopes_disabled():
        appointment = Appointment.objects.select_related("organization").get(pk=data["id"])
        expected = emails.build_message(appointment, client_participant(appointment), EmailKind.CONFIRMATION)
    (sent,) = mail.outbox
    assert sent.to == ["jansen@example.test"] and sent.subject == expected.subject and sent.body == expected.body
    assert "Bring your list of medicines." in sent.body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/appointments/{data['id']}/cancel", {"message": "The doctor is ill."},
                            content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    with scopes_disabled():
        appointment.refresh_from_db()
        expected = emails.build_message(appointment, client_participant(appointment), EmailKind.CANCELLATION)
    (sent,) = mail.outbox
    assert sent.subject == expected.subject and sent.body == expected.body
    label = f"API key Agenda sync ({alpha_key[0].prefix})"
    assert [r.acting_for for r in audit_rows(alpha, "appointment.create") + audit_rows(alpha, "appointment.cancel")
            ] == [label, label]
    # A cancelled appointment cannot be cancelled again.
    assert api.post(f"/api/v1/appointments/{data['id']}/cancel", {}, content_type="application/json"
                    ).status_code == 422


def test_reschedule_emails_the_change_and_a_taken_slot_is_409(alpha, api, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    first = make_appointment(alpha, client, hour=10)
    second = make_appointment(alpha, client, hour=11)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"/api/v1/appointments/{second.pk}", {"starts_at": f"{TOMORROW}T12:00:00+01:00"},
                             content_type="application/json")
    assert response.status_code == 200
    with scopes_disabled():
        second.refresh_from_db()
        expected = emails.build_message(second, client_participant(second), EmailKind.RESCHEDULE)
    assert [m.subject for m in mail.outbox] == [expected.subject]
    # Double booking: the same practitioner at 10:00 is taken, by create and by move.
    body = {"client_id": client.pk, "practitioner_id": alpha.people["gp"].pk, "starts_at": f"{TOMORROW}T10:10:00"}
    response = api.post("/api/v1/appointments", body, content_type="application/json")
    assert response.status_code == 409 and response.json()["detail"][0]["loc"] == ["body", "starts_at"]
    response = api.patch(f"/api/v1/appointments/{second.pk}", {"starts_at": f"{TOMORROW}T10:00:00"},
                         content_type="application/json")
    assert response.status_code == 409
    with scopes_disabled():
        assert Appointment.objects.filter(organization=alpha).count() == 2
        second.refresh_from_db()
        assert second.starts_at == datetime.combine(TOMORROW, time(12), tzinfo=ZONE)
    assert first.pk != second.pk


def test_appointment_validation_is_422_and_writes_nothing(alpha, api):
    client = make_client(alpha)
    gp = alpha.people["gp"].pk
    for body, field in [
        ({"client_id": client.pk, "practitioner_id": gp, "starts_at": "2020-01-01T10:00:00"}, "starts_at"),
        ({"client_id": client.pk, "practitioner_id": gp, "starts_at": f"{TOMORROW}T10:00", "duration_minutes": 2},
         "duration_minutes"),
        ({"client_id": client.pk, "starts_at": f"{TOMORROW}T10:00"}, "practitioner"),
        ({"client_id": client.pk, "practitioner_id": gp, "starts_at": "not a time"}, "starts_at"),
    ]:
        response = api.post("/api/v1/appointments", body, content_type="application/json")
        assert response.status_code == 422, body
        assert any(field in str(error["loc"]) for error in response.json()["detail"]), response.json()
    with scopes_disabled():
        assert not Appointment.objects.filter(organization=alpha).exists()


def test_appointment_list_filters_by_date_and_practitioner(alpha, api):
    client = make_client(alpha)
    appointment = make_appointment(alpha, client)
    other = api.get(f"/api/v1/appointments?practitioner_id={alpha.people['physio'].pk}").json()
    assert other["count"] == 0
    mine = api.get(f"/api/v1/appointments?date_from={TOMORROW}&date_to={TOMORROW}"
                   f"&practitioner_id={alpha.people['gp'].pk}").json()
    assert [a["id"] for a in mine["items"]] == [appointment.pk]
    assert api.get(f"/api/v1/appointments?date_from={TOMORROW + timedelta(days=1)}").json()["count"] == 0
    assert api.get(f"/api/v1/appointments/{appointment.pk}").json()["client_id"] == client.pk


def test_availability_and_slots_match_consult_slots(alpha, api, alpha_key):
    gp = alpha.people["gp"]
    response = api.post(f"/api/v1/practitioners/{gp.pk}/availability",
                        {"date": TOMORROW.isoformat(), "start_time": "09:00", "end_time": "11:00",
                         "consult_minutes": 20, "break_minutes": 10}, content_type="application/json")
    assert response.status_code == 201
    availability_id = response.json()["id"]
    assert [a["id"] for a in api.get(f"/api/v1/practitioners/{gp.pk}/availability").json()] == [availability_id]
    slots = api.get(f"/api/v1/slots?date_from={TOMORROW}&date_to={TOMORROW}&practitioner_id={gp.pk}").json()
    with scopes_disabled():
        expected = selectors.bookable_slots(alpha, [gp], TOMORROW, TOMORROW)
    assert [(datetime.fromisoformat(s["starts_at"]), s["practitioner_id"]) for s in slots] == [
        (slot.starts_at, slot.practitioner_id) for slot in expected]
    assert [datetime.fromisoformat(s["starts_at"]).astimezone(ZONE).strftime("%H:%M") for s in slots] == [
        "09:00", "09:30", "10:00", "10:30"]
    # By department: the GP's department has these slots, physiotherapy none.
    by_department = api.get(f"/api/v1/slots?date_from={TOMORROW}&date_to={TOMORROW}"
                            f"&department_id={alpha.departments_by_name['gp'].pk}").json()
    assert by_department == slots
    assert api.get(f"/api/v1/slots?date_from={TOMORROW}&date_to={TOMORROW}"
                   f"&department_id={alpha.departments_by_name['physio'].pk}").json() == []
    # A booked slot is no longer free.
    make_appointment(alpha, make_client(alpha), hour=10)
    after = api.get(f"/api/v1/slots?date_from={TOMORROW}&date_to={TOMORROW}&practitioner_id={gp.pk}").json()
    assert len(after) == 3
    assert api.delete(f"/api/v1/availability/{availability_id}").status_code == 204
    assert api.get(f"/api/v1/practitioners/{gp.pk}/availability").json() == []
    label = f"API key Agenda sync ({alpha_key[0].prefix})"
    assert [r.acting_for for r in audit_rows(alpha, "availability.create") + audit_rows(alpha, "availability.delete")
            ] == [label, label]


def test_availability_and_slot_validation(alpha, api):
    gp = alpha.people["gp"]
    for body, field in [
        ({"date": TOMORROW.isoformat(), "start_time": "11:00", "end_time": "09:00"}, "end_time"),
        ({"date": TOMORROW.isoformat(), "start_time": "09:00", "end_time": "11:00", "rrule": "NONSENSE"}, "rrule"),
        ({"date": TOMORROW.isoformat(), "start_time": "09:00", "end_time": "11:00", "consult_minutes": 1},
         "consult_minutes"),
    ]:
        response = api.post(f"/api/v1/practitioners/{gp.pk}/availability", body, content_type="application/json")
        assert response.status_code == 422, body
        assert any(field in str(error["loc"]) for error in response.json()["detail"])
    with scopes_disabled():
        assert not Availability.objects.filter(organization=alpha).exists()
    assert api.get(f"/api/v1/slots?date_from={TOMORROW}&date_to={TOMORROW}").status_code == 422
    assert api.get(f"/api/v1/slots?date_from={TOMORROW}&date_to={TOMORROW + timedelta(days=90)}"
                   f"&practitioner_id={gp.pk}").status_code == 422


def test_strict_departments_hide_nothing_from_the_key_which_goes_through_the_policy(alpha, api, beta, monkeypatch):
    """The key acts as an org admin: strictly segregated departments hide nothing of its own organisation
    from it, and the rows still come through the policy module's functions (which never show beta's)."""
    alpha.strict_departments = True
    alpha.save()
    physio_client = make_client(alpha, "Physio", department=alpha.departments_by_name["physio"])
    gp_client = make_client(alpha, "General", department=alpha.departments_by_name["gp"])
    make_client(beta, "Bakker")
    calls = []
    for name in ("visible_clients", "visible_appointments", "visible_departments", "visible_employees"):
        original = getattr(policy, name)

        def spy(member, queryset, _original=original, _name=name):
            calls.append((_name, getattr(member, "is_api_key", False), member.role))
            return _original(member, queryset)

        monkeypatch.setattr(policy, name, spy)
    ids = {c["id"] for c in api.get("/api/v1/clients").json()["items"]}
    assert ids == {physio_client.pk, gp_client.pk}
    api.get("/api/v1/appointments")
    api.get("/api/v1/departments")
    assert api.get(f"/api/v1/clients/{physio_client.pk}").status_code == 200
    names = {name for name, is_key, role in calls if is_key and role == "org_admin"}
    assert {"visible_clients", "visible_appointments", "visible_departments"} <= names
