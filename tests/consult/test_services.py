"""Writes for clients and appointments (consult/services.py) and the segregation rules they obey.

Covers F-CLIENT-1 (clients), F-CLIENT-3 (external participants and their groups), F-APPT-1 (making an
appointment), F-APPT-4 (rescheduling), F-APPT-5 (cancelling), F-APPT-7 (quick consult), F-ORG-7 (strictly
segregated departments) and F-ORG-8 (strictly segregated clients).
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from consult import links, selectors, services
from consult.models import (
    Appointment,
    AppointmentKind,
    AppointmentParticipant,
    AppointmentStatus,
    Client,
    EmailDelivery,
    ParticipantGroup,
    ParticipantRole,
    RetiredLink,
)
from consult.services import SlotTakenError
from orgs import policy
from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2031, 3, 10, 9, 0, tzinfo=ZONE)  # a Monday, 09:00 in Amsterdam


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def at(hour, minute=0, days=0):
    """A local time `days` after the frozen today."""
    return datetime.combine(NOW.date() + timedelta(days=days), time(hour, minute), tzinfo=ZONE)


def configure(org, **settings):
    """Change organisation settings and make every person of `org` see the change."""
    for field, value in settings.items():
        setattr(org, field, value)
    org.save()
    for membership in org.people.values():
        membership.organization = org
    return org


def person(org, key):
    membership = org.people[key]
    membership.organization = org
    return membership


def new_client(org, by="admin", last_name="Jansen", department=None, **fields):
    fields.setdefault("initials", "J.")
    fields.setdefault("email", f"{last_name.lower()}@example.test")
    fields.setdefault("language", "en")
    return services.client_create(member=person(org, by), last_name=last_name, department=department, **fields)


def counts():
    """Rows of every table a client or appointment write touches, across all organisations."""
    return {
        "clients": Client.objects.with_scopes_disabled().count(),
        "client_groups": Client.groups.through.objects.count(),
        "client_practitioners": Client.practitioners.through.objects.count(),
        "appointments": Appointment.objects.with_scopes_disabled().count(),
        "participants": AppointmentParticipant.objects.with_scopes_disabled().count(),
        "retired": RetiredLink.objects.with_scopes_disabled().count(),
        "deliveries": EmailDelivery.objects.with_scopes_disabled().count(),
        "audit": AuditEvent.objects.with_scopes_disabled().count(),
    }


def audit_actions(org, action):
    return list(AuditEvent.objects.with_scopes_disabled().filter(organization=org, action=action))


def stored(model, pk):
    return model.objects.with_scopes_disabled().get(pk=pk)


def scheduled_at(practitioner, starts_at):
    return Appointment.objects.with_scopes_disabled().filter(
        practitioner=practitioner, starts_at=starts_at, status=AppointmentStatus.SCHEDULED
    ).count()


# --- clients (F-CLIENT-1) -----------------------------------------------------------------------

def test_client_create_writes_the_client_and_audits(alpha):
    """covers F-CLIENT-1"""
    client = new_client(alpha, by="admin", last_name="Jansen", first_name="Jan", client_number="C-1",
                        department=alpha.departments_by_name["gp"])
    saved = stored(Client, client.pk)
    assert (saved.organization_id, saved.last_name, saved.first_name, saved.client_number, saved.department_id,
            saved.is_external, saved.created_by_id) == (
        alpha.pk, "Jansen", "Jan", "C-1", alpha.departments_by_name["gp"].pk, False, alpha.people["admin"].user_id)
    events = audit_actions(alpha, "client.create")
    assert [e.target_id for e in events] == [str(client.pk)]
    assert events[0].actor_id == alpha.people["admin"].user_id
    # An admin adding a client does not become "their" practitioner; a practitioner does.
    assert not saved.practitioners.exists()
    own = new_client(alpha, by="gp", last_name="Pietersen")
    assert list(stored(Client, own.pk).practitioners.all()) == [alpha.people["gp"].user]


@pytest.mark.parametrize("problem", ["other_org_department", "missing_last_name", "bad_email", "missing_initials"])
def test_client_create_validates_and_writes_nothing(alpha, beta, problem):
    """covers F-CLIENT-1"""
    fields = dict(initials="J.", last_name="Jansen", email="jansen@example.test", language="en")
    if problem == "other_org_department":
        fields["department"] = beta.departments_by_name["gp"]
    elif problem == "missing_last_name":
        fields["last_name"] = ""
    elif problem == "bad_email":
        fields["email"] = "not-an-email"
    else:
        fields["initials"] = ""
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.client_create(member=person(alpha, "admin"), **fields)
    expected_field = {"other_org_department": "department", "missing_last_name": "last_name",
                      "bad_email": "email", "missing_initials": "initials"}[problem]
    assert expected_field in error.value.message_dict
    assert counts() == before


def test_client_create_refuses_unknown_fields(alpha):
    """covers F-CLIENT-1"""
    before = counts()
    with pytest.raises(TypeError):
        services.client_create(member=person(alpha, "admin"), initials="J.", last_name="J", email="j@example.test",
                               organization=alpha)
    assert counts() == before


def test_client_update_saves_and_audits_changes(alpha):
    """covers F-CLIENT-1"""
    client = new_client(alpha)
    client.last_name = "Jansen-de Vries"
    client.department = alpha.departments_by_name["physio"]
    services.client_update(member=person(alpha, "admin"), client=client,
                           changes={"last_name": ["Jansen", "Jansen-de Vries"]})
    saved = stored(Client, client.pk)
    assert saved.last_name == "Jansen-de Vries" and saved.department == alpha.departments_by_name["physio"]
    events = audit_actions(alpha, "client.update")
    assert len(events) == 1 and events[0].changes == {"last_name": ["Jansen", "Jansen-de Vries"]}


@pytest.mark.parametrize("problem", ["other_org_department", "missing_last_name", "bad_email"])
def test_client_update_validates_and_writes_nothing(alpha, beta, problem):
    """covers F-CLIENT-1"""
    client = new_client(alpha, email="jansen@example.test")
    before = counts()
    if problem == "other_org_department":
        client.department = beta.departments_by_name["gp"]
    elif problem == "missing_last_name":
        client.last_name = ""
    else:
        client.email = "not-an-email"
    with pytest.raises(ValidationError):
        services.client_update(member=person(alpha, "admin"), client=client, changes={"x": [1, 2]})
    assert counts() == before
    saved = stored(Client, client.pk)
    assert (saved.last_name, saved.email, saved.department_id) == ("Jansen", "jansen@example.test", None)


def test_client_update_refuses_groups_of_another_organisation(alpha, beta):
    """covers F-CLIENT-3: client_create refuses another organisation's groups; client_update must as well."""
    external = new_client(alpha, last_name="Family", is_external=True)
    with scopes_disabled():
        beta_group = ParticipantGroup.objects.filter(organization=beta).first()
    assert beta_group is not None
    before = counts()
    with pytest.raises(ValidationError):
        services.client_update(member=person(alpha, "admin"), client=external, changes={}, groups=[beta_group])
    assert counts() == before
    assert not Client.groups.through.objects.filter(client_id=external.pk).exists()


def test_client_update_checks_visibility_of_the_stored_client_not_the_edited_one(alpha):
    """covers F-ORG-7: a department admin of General practice cannot take a Physiotherapy client over by
    setting its department to their own before calling client_update."""
    configure(alpha, strict_departments=True)
    physio_client = new_client(alpha, department=alpha.departments_by_name["physio"])
    deptadmin = person(alpha, "deptadmin")
    assert not policy.can_view_client(deptadmin, physio_client)
    physio_client.department = alpha.departments_by_name["gp"]
    before = counts()
    with pytest.raises(PermissionDenied):
        services.client_update(member=deptadmin, client=physio_client, changes={"department": ["Physio", "GP"]})
    assert counts() == before
    assert stored(Client, physio_client.pk).department == alpha.departments_by_name["physio"]


# --- external participants (F-CLIENT-3) ---------------------------------------------------------

def test_external_participants_with_groups_join_appointments_as_guests(alpha, beta, django_capture_on_commit_callbacks):
    """covers F-CLIENT-3 and F-APPT-1"""
    with organization_scope(alpha):
        family = ParticipantGroup.objects.get(name="Family")
        home_care = ParticipantGroup.objects.get(name="Home care")
    with scopes_disabled():
        beta_family = ParticipantGroup.objects.get(organization=beta, name="Family")
    daughter = new_client(alpha, last_name="Daughter", is_external=True, groups=[family])
    nurse = new_client(alpha, last_name="Nurse", is_external=True, groups=[family, home_care])
    assert stored(Client, daughter.pk).is_external
    with organization_scope(alpha):
        assert set(stored(Client, nurse.pk).groups.all()) == {family, home_care}
        assert set(family.members.all()) == {daughter, nurse}

    before = counts()
    with pytest.raises(ValidationError) as error:
        new_client(alpha, last_name="Stranger", is_external=True, groups=[beta_family])
    assert "groups" in error.value.message_dict
    assert counts() == before

    patient = new_client(alpha, last_name="Patient")
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.appointment_create(
            member=person(alpha, "admin"), client=patient, practitioner=person(alpha, "gp"), starts_at=at(14),
            guests=[daughter, nurse],
        )
    with organization_scope(alpha):
        roles = sorted((p.person.last_name, p.role) for p in appointment.participants.all())
    assert roles == [("Daughter", ParticipantRole.GUEST), ("Nurse", ParticipantRole.GUEST),
                     ("Patient", ParticipantRole.CLIENT)]
    assert sorted(m.to[0] for m in mail.outbox) == ["daughter@example.test", "nurse@example.test",
                                                     "patient@example.test"]

    # A client (not an external participant) cannot be added as a guest.
    other_patient = new_client(alpha, last_name="Other")
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.appointment_create(member=person(alpha, "admin"), client=patient, practitioner=person(alpha, "gp"),
                                    starts_at=at(15), guests=[other_patient])
    assert "guests" in error.value.message_dict
    assert counts() == before


# --- strictly segregated departments and clients (F-ORG-7, F-ORG-8) -----------------------------

def test_strict_departments_department_admin_neither_sees_nor_books_other_departments(alpha):
    """covers F-ORG-7"""
    configure(alpha, strict_departments=True)
    gp_client = new_client(alpha, last_name="Huisarts", department=alpha.departments_by_name["gp"])
    physio_client = new_client(alpha, last_name="Fysio", department=alpha.departments_by_name["physio"])
    deptadmin, admin = person(alpha, "deptadmin"), person(alpha, "admin")

    with organization_scope(alpha):
        assert list(policy.visible_clients(deptadmin, Client.objects.all())) == [gp_client]
        assert set(policy.visible_clients(admin, Client.objects.all())) == {gp_client, physio_client}
        assert list(selectors.clients_for(deptadmin)) == [gp_client]
        assert selectors.client_for(deptadmin, physio_client.pk) is None

    before = counts()
    # Neither with a practitioner of their own department...
    with pytest.raises(ValidationError) as error:
        services.appointment_create(member=deptadmin, client=physio_client, practitioner=person(alpha, "gp"),
                                    starts_at=at(14))
    assert "client" in error.value.message_dict
    # ...nor with the physiotherapist.
    with pytest.raises(ValidationError) as error:
        services.appointment_create(member=deptadmin, client=physio_client, practitioner=person(alpha, "physio"),
                                    starts_at=at(14))
    assert "practitioner" in error.value.message_dict
    # ...nor with the Physiotherapy department itself.
    with pytest.raises(ValidationError):
        services.appointment_create(member=deptadmin, client=physio_client,
                                    department=alpha.departments_by_name["physio"], starts_at=at(14))
    # A department admin must file new clients in their own department.
    with pytest.raises(ValidationError) as error:
        new_client(alpha, by="deptadmin", last_name="Elders", department=alpha.departments_by_name["physio"])
    assert "department" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        new_client(alpha, by="deptadmin", last_name="Nowhere")
    assert "department" in error.value.message_dict
    assert counts() == before

    # The department admin books their own department's client; the org admin books anyone.
    assert services.appointment_create(member=deptadmin, client=gp_client, practitioner=person(alpha, "gp"),
                                       starts_at=at(14)).pk
    booked = services.appointment_create(member=admin, client=physio_client, practitioner=person(alpha, "physio"),
                                         starts_at=at(14))
    assert stored(Appointment, booked.pk).client == physio_client


def test_without_strict_departments_a_department_admin_sees_every_client(alpha):
    """covers F-ORG-7 (the setting off)"""
    physio_client = new_client(alpha, department=alpha.departments_by_name["physio"])
    deptadmin = person(alpha, "deptadmin")
    with organization_scope(alpha):
        assert list(policy.visible_clients(deptadmin, Client.objects.all())) == [physio_client]
    assert services.appointment_create(member=deptadmin, client=physio_client, practitioner=person(alpha, "physio"),
                                       starts_at=at(14)).pk


def test_strict_clients_practitioner_sees_only_clients_they_added_or_have_appointments_with(alpha):
    """covers F-ORG-8"""
    configure(alpha, strict_clients=True)
    gp, physio, admin = person(alpha, "gp"), person(alpha, "physio"), person(alpha, "admin")
    added_by_gp = new_client(alpha, by="gp", last_name="Added")
    booked_with_gp = new_client(alpha, by="admin", last_name="Booked")
    physios_client = new_client(alpha, by="admin", last_name="Physios")
    unbooked = new_client(alpha, by="admin", last_name="Unbooked")
    services.appointment_create(member=admin, client=booked_with_gp, practitioner=gp, starts_at=at(14))
    services.appointment_create(member=admin, client=physios_client, practitioner=physio, starts_at=at(14))

    with organization_scope(alpha):
        assert set(policy.visible_clients(gp, Client.objects.all())) == {added_by_gp, booked_with_gp}
        assert set(policy.visible_clients(physio, Client.objects.all())) == {physios_client}
        assert set(policy.visible_clients(admin, Client.objects.all())) == {
            added_by_gp, booked_with_gp, physios_client, unbooked}

    before = counts()
    for client in (physios_client, unbooked):
        with pytest.raises(ValidationError) as error:
            services.appointment_create(member=gp, client=client, practitioner=gp, starts_at=at(15))
        assert "client" in error.value.message_dict
    # Nor may a practitioner fill a colleague's agenda.
    with pytest.raises(ValidationError) as error:
        services.appointment_create(member=gp, client=added_by_gp, practitioner=physio, starts_at=at(15))
    assert "practitioner" in error.value.message_dict
    assert counts() == before
    assert services.appointment_create(member=gp, client=added_by_gp, practitioner=gp, starts_at=at(15)).pk


# --- appointments (F-APPT-1) --------------------------------------------------------------------

def test_appointment_create_writes_appointment_participants_and_audit(alpha, django_capture_on_commit_callbacks):
    """covers F-APPT-1"""
    client = new_client(alpha, last_name="Jansen", client_number="C-7", department=alpha.departments_by_name["gp"])
    guest = new_client(alpha, last_name="Guest", is_external=True)
    gp, admin = person(alpha, "gp"), person(alpha, "admin")
    assert not stored(Client, client.pk).practitioners.exists()
    before = counts()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        appointment = services.appointment_create(
            member=admin, client=client, practitioner=gp, starts_at=at(14), duration_minutes=30,
            personal_message="Bring your medication list.", guests=[guest],
        )
    assert len(callbacks) == 1

    saved = stored(Appointment, appointment.pk)
    assert (saved.organization_id, saved.practitioner_id, saved.client_id, saved.starts_at, saved.duration_minutes,
            saved.kind, saved.status, saved.client_number, saved.personal_message, saved.department_id,
            saved.created_by_id, saved.ical_sequence) == (
        alpha.pk, gp.pk, client.pk, at(14), 30, AppointmentKind.APPOINTMENT, AppointmentStatus.SCHEDULED, "C-7",
        "Bring your medication list.", alpha.departments_by_name["gp"].pk, admin.user_id, 0)

    participants = list(AppointmentParticipant.objects.with_scopes_disabled().filter(appointment=saved))
    assert sorted((p.person_id, p.role) for p in participants) == sorted(
        [(client.pk, ParticipantRole.CLIENT), (guest.pk, ParticipantRole.GUEST)])
    hashes = [p.token_hash for p in participants]
    assert len(set(hashes)) == 2 and all(len(h) == 64 for h in hashes)
    for participant in participants:
        # The stored hash is the hash of the token the server derives from the nonce; the token itself is not stored.
        token = links.token_for(participant.token_nonce)
        assert participant.token_hash == links.token_hash(token) and token not in participant.token_hash

    assert list(stored(Client, client.pk).practitioners.all()) == [gp.user]
    events = audit_actions(alpha, "appointment.create")
    assert len(events) == 1 and events[0].target_id == str(appointment.pk) and events[0].actor_id == admin.user_id
    assert events[0].changes["starts_at"] == [None, at(14).astimezone(UTC).isoformat()]

    after = counts()
    assert after["appointments"] == before["appointments"] + 1
    assert after["participants"] == before["participants"] + 2
    # One confirmation to the client, one invitation to the guest.
    assert sorted(m.to[0] for m in mail.outbox) == ["guest@example.test", "jansen@example.test"]


def test_appointment_in_the_past_is_refused(alpha):
    """covers F-APPT-1"""
    client = new_client(alpha)
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.appointment_create(member=person(alpha, "admin"), client=client, practitioner=person(alpha, "gp"),
                                    starts_at=at(8))
    assert "starts_at" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.appointment_create(member=person(alpha, "admin"), client=client, practitioner=person(alpha, "gp"),
                                    starts_at=at(10, days=-1))
    assert counts() == before


@pytest.mark.parametrize("second_start,second_minutes", [
    ((14, 0), 20),   # the same time
    ((14, 10), 20),  # starts during the first
    ((13, 50), 20),  # ends during the first
    ((13, 30), 120),  # surrounds the first
])
def test_double_booking_a_practitioner_raises_slot_taken_and_writes_nothing(alpha, second_start, second_minutes):
    """covers F-APPT-1 (and F-AVAIL-2 sequentially; see test_concurrency for the race)"""
    first_client, second_client = new_client(alpha, last_name="First"), new_client(alpha, last_name="Second")
    admin, gp = person(alpha, "admin"), person(alpha, "gp")
    first = services.appointment_create(member=admin, client=first_client, practitioner=gp, starts_at=at(14))
    before = counts()
    with pytest.raises(SlotTakenError) as error:
        services.appointment_create(member=admin, client=second_client, practitioner=gp,
                                    starts_at=at(*second_start), duration_minutes=second_minutes)
    assert "starts_at" in error.value.message_dict
    assert counts() == before
    assert not stored(Client, second_client.pk).practitioners.exists()
    with scopes_disabled():
        assert list(Appointment.objects.filter(practitioner=gp)) == [first]


def test_adjacent_appointments_and_other_practitioners_are_not_double_bookings(alpha):
    """covers F-APPT-1"""
    admin, gp, physio = person(alpha, "admin"), person(alpha, "gp"), person(alpha, "physio")
    client = new_client(alpha)
    services.appointment_create(member=admin, client=client, practitioner=gp, starts_at=at(14))
    services.appointment_create(member=admin, client=client, practitioner=gp, starts_at=at(14, 20))  # right after
    services.appointment_create(member=admin, client=client, practitioner=gp, starts_at=at(13, 40))  # right before
    services.appointment_create(member=admin, client=client, practitioner=physio, starts_at=at(14))
    assert scheduled_at(gp, at(14)) == 1 and scheduled_at(physio, at(14)) == 1


def test_department_appointment_only_with_strict_departments(alpha):
    """covers F-APPT-1 and F-ORG-7"""
    client = new_client(alpha, department=alpha.departments_by_name["gp"])
    gp_department = alpha.departments_by_name["gp"]
    before = counts()
    with pytest.raises(ValidationError):
        services.appointment_create(member=person(alpha, "admin"), client=client, department=gp_department,
                                    starts_at=at(14))
    with pytest.raises(ValidationError):
        services.appointment_create(member=person(alpha, "deptadmin"), client=client, department=gp_department,
                                    starts_at=at(14))
    # Neither a practitioner nor a department.
    with pytest.raises(ValidationError):
        services.appointment_create(member=person(alpha, "admin"), client=client, starts_at=at(14))
    assert counts() == before

    configure(alpha, strict_departments=True)
    appointment = services.appointment_create(member=person(alpha, "deptadmin"), client=client,
                                              department=gp_department, starts_at=at(14))
    saved = stored(Appointment, appointment.pk)
    assert saved.practitioner_id is None and saved.department_id == gp_department.pk
    assert AppointmentParticipant.objects.with_scopes_disabled().filter(appointment=saved).count() == 1
    assert not stored(Client, client.pk).practitioners.exists()
    # Department appointments do not block each other: a department has no single agenda.
    assert services.appointment_create(member=person(alpha, "deptadmin"), client=client, department=gp_department,
                                       starts_at=at(14)).pk


def test_appointment_with_a_practitioner_refuses_a_department_of_another_organisation(alpha, beta):
    """covers F-APPT-1: the department given with a practitioner is validated like the one given alone"""
    client = new_client(alpha)
    before = counts()
    with pytest.raises(ValidationError):
        services.appointment_create(member=person(alpha, "admin"), client=client, practitioner=person(alpha, "gp"),
                                    department=beta.departments_by_name["gp"], starts_at=at(14))
    assert counts() == before
    assert not Appointment.objects.with_scopes_disabled().filter(department__organization=beta).exists()


def test_quick_consult_starts_now_with_the_member_as_practitioner(alpha):
    """covers F-APPT-7"""
    client = new_client(alpha)
    gp = person(alpha, "gp")
    with time_machine.travel(NOW + timedelta(seconds=7, microseconds=123456), tick=False):
        appointment = services.quick_consult_create(member=gp, client=client)
    saved = stored(Appointment, appointment.pk)
    assert saved.kind == AppointmentKind.QUICK
    assert saved.starts_at == NOW + timedelta(seconds=7)
    assert saved.practitioner_id == gp.pk and saved.status == AppointmentStatus.SCHEDULED
    assert AppointmentParticipant.objects.with_scopes_disabled().filter(appointment=saved).count() == 1
    assert len(audit_actions(alpha, "appointment.create")) == 1
    # The practitioner is now busy: a second quick consult at the same moment is refused.
    with time_machine.travel(NOW + timedelta(seconds=7, microseconds=500000), tick=False):
        with pytest.raises(SlotTakenError):
            services.quick_consult_create(member=gp, client=new_client(alpha, last_name="Other"))


# --- reschedule and cancel (F-APPT-4, F-APPT-5) -------------------------------------------------

def test_reschedule_moves_bumps_sequence_retires_old_links_and_issues_new_ones(
        alpha, django_capture_on_commit_callbacks):
    """covers F-APPT-4"""
    client = new_client(alpha)
    guest = new_client(alpha, last_name="Guest", is_external=True)
    admin, gp = person(alpha, "admin"), person(alpha, "gp")
    appointment = services.appointment_create(member=admin, client=client, practitioner=gp, starts_at=at(14),
                                              guests=[guest])
    old = {p.pk: (p.token_nonce, p.token_hash)
           for p in AppointmentParticipant.objects.with_scopes_disabled().filter(appointment=appointment)}
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(member=admin, appointment=appointment, starts_at=at(16, days=1),
                                        duration_minutes=40)
    saved = stored(Appointment, appointment.pk)
    assert (saved.starts_at, saved.duration_minutes, saved.ical_sequence, saved.status) == (
        at(16, days=1), 40, 1, AppointmentStatus.SCHEDULED)
    assert saved.ical_uid == appointment.ical_uid

    retired = set(RetiredLink.objects.with_scopes_disabled().filter(appointment=saved)
                  .values_list("token_hash", flat=True))
    assert retired == {old_hash for _, old_hash in old.values()}
    new = {p.pk: (p.token_nonce, p.token_hash)
           for p in AppointmentParticipant.objects.with_scopes_disabled().filter(appointment=saved)}
    assert set(new) == set(old)  # the same participants, new links
    for pk, (nonce, token_hash) in new.items():
        assert nonce != old[pk][0] and token_hash != old[pk][1] and token_hash not in retired
        assert token_hash == links.token_hash(links.token_for(nonce))
    # The old slot is free again, the new one is taken.
    assert scheduled_at(gp, at(14)) == 0 and scheduled_at(gp, at(16, days=1)) == 1
    events = audit_actions(alpha, "appointment.reschedule")
    assert len(events) == 1 and events[0].changes["starts_at"] == [
        at(14).astimezone(UTC).isoformat(), at(16, days=1).astimezone(UTC).isoformat()]
    assert sorted(m.to[0] for m in mail.outbox) == ["guest@example.test", "jansen@example.test"]

    # Moving it again works and bumps the sequence once more.
    services.appointment_reschedule(member=admin, appointment=saved, starts_at=at(17, days=1))
    saved = stored(Appointment, appointment.pk)
    assert saved.ical_sequence == 2 and saved.duration_minutes == 40
    assert RetiredLink.objects.with_scopes_disabled().filter(appointment=saved).count() == 4


def test_reschedule_refuses_the_past_and_a_taken_slot_and_writes_nothing(alpha):
    """covers F-APPT-4"""
    admin, gp = person(alpha, "admin"), person(alpha, "gp")
    first = services.appointment_create(member=admin, client=new_client(alpha, last_name="A"), practitioner=gp,
                                        starts_at=at(14))
    second = services.appointment_create(member=admin, client=new_client(alpha, last_name="B"), practitioner=gp,
                                         starts_at=at(15))
    hashes = set(AppointmentParticipant.objects.with_scopes_disabled().values_list("token_hash", flat=True))
    before = counts()
    with pytest.raises(ValidationError):
        services.appointment_reschedule(member=admin, appointment=second, starts_at=at(8))
    with pytest.raises(SlotTakenError):
        services.appointment_reschedule(member=admin, appointment=second, starts_at=at(14, 10))
    assert counts() == before
    assert set(AppointmentParticipant.objects.with_scopes_disabled().values_list("token_hash", flat=True)) == hashes
    saved = stored(Appointment, second.pk)
    assert (saved.starts_at, saved.ical_sequence) == (at(15), 0)
    assert stored(Appointment, first.pk).starts_at == at(14)
    # Moving within its own slot (a longer consult) is not a clash with itself.
    services.appointment_reschedule(member=admin, appointment=saved, starts_at=at(15, 5))
    assert stored(Appointment, second.pk).starts_at == at(15, 5)


def test_cancel_sets_status_and_time_and_then_nothing_can_change(alpha, django_capture_on_commit_callbacks):
    """covers F-APPT-5"""
    admin, gp = person(alpha, "admin"), person(alpha, "gp")
    client = new_client(alpha)
    appointment = services.appointment_create(member=admin, client=client, practitioner=gp, starts_at=at(14))
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            services.appointment_cancel(member=admin, appointment=appointment, message="The doctor is ill.")
    saved = stored(Appointment, appointment.pk)
    assert saved.status == AppointmentStatus.CANCELLED and saved.is_cancelled
    assert saved.cancelled_at == NOW + timedelta(minutes=3)
    assert saved.ical_sequence == 1 and saved.personal_message == "The doctor is ill."
    assert len(audit_actions(alpha, "appointment.cancel")) == 1
    assert [m.to[0] for m in mail.outbox] == ["jansen@example.test"]

    before = counts()
    for change in (
        lambda a: services.appointment_cancel(member=admin, appointment=a),
        lambda a: services.appointment_reschedule(member=admin, appointment=a, starts_at=at(16)),
        lambda a: services.appointment_update_details(member=admin, appointment=a, personal_message="x",
                                                      client_number="y"),
    ):
        with pytest.raises(ValidationError):
            change(stored(Appointment, appointment.pk))
    assert counts() == before
    again = stored(Appointment, appointment.pk)
    assert (again.status, again.starts_at, again.ical_sequence, again.cancelled_at, again.personal_message) == (
        AppointmentStatus.CANCELLED, at(14), 1, NOW + timedelta(minutes=3), "The doctor is ill.")
    # The cancelled slot can be booked again.
    assert services.appointment_create(member=admin, client=client, practitioner=gp, starts_at=at(14)).pk


def test_a_held_appointment_cannot_be_changed(alpha):
    """covers F-APPT-4 and F-APPT-5"""
    admin, gp = person(alpha, "admin"), person(alpha, "gp")
    appointment = services.appointment_create(member=admin, client=new_client(alpha), practitioner=gp,
                                              starts_at=at(14))
    Appointment.objects.with_scopes_disabled().filter(pk=appointment.pk).update(status=AppointmentStatus.COMPLETED)
    before = counts()
    with pytest.raises(ValidationError):
        services.appointment_cancel(member=admin, appointment=stored(Appointment, appointment.pk))
    with pytest.raises(ValidationError):
        services.appointment_reschedule(member=admin, appointment=stored(Appointment, appointment.pk),
                                        starts_at=at(16))
    assert counts() == before
    assert stored(Appointment, appointment.pk).status == AppointmentStatus.COMPLETED


def test_update_details_changes_message_and_number_and_audits(alpha):
    """covers F-APPT-4"""
    admin = person(alpha, "admin")
    appointment = services.appointment_create(member=admin, client=new_client(alpha, client_number="C-1"),
                                              practitioner=person(alpha, "gp"), starts_at=at(14))
    services.appointment_update_details(member=admin, appointment=appointment, personal_message="Hello",
                                        client_number="C-2")
    saved = stored(Appointment, appointment.pk)
    assert (saved.personal_message, saved.client_number) == ("Hello", "C-2")
    events = audit_actions(alpha, "appointment.update")
    # The audit log records that they changed, never the text (it outlives anonymisation).
    assert len(events) == 1 and events[0].changes == {"personal_message": [None, "changed"],
                                                      "client_number": [None, "changed"]}


# --- viewing a record, other organisations --------------------------------------------------------

@pytest.mark.parametrize("key,role_label", [("admin", "Organisation admin"), ("deptadmin", "Department admin"),
                                            ("gp", "Practitioner")])
def test_client_record_viewed_is_audited_with_the_acting_for_role(alpha, key, role_label):
    """covers F-CLIENT-1 (every view of a client record is logged)"""
    client = new_client(alpha)
    member = person(alpha, key)
    services.client_record_viewed(member=member, client=client)
    events = audit_actions(alpha, "client.view")
    assert len(events) == 1
    event = events[0]
    assert (event.actor_id, event.target_type, event.target_id) == (member.user_id, "client", str(client.pk))
    assert event.changes == {"acting_for": [None, role_label]}


def test_another_organisation_cannot_touch_alphas_clients_or_appointments(alpha, beta):
    """covers F-CLIENT-1, F-APPT-1, F-APPT-4, F-APPT-5 across organisations"""
    client = new_client(alpha, department=alpha.departments_by_name["gp"])
    appointment = services.appointment_create(member=person(alpha, "admin"), client=client,
                                              practitioner=person(alpha, "gp"), starts_at=at(14))
    intruder, beta_admin = person(beta, "gp"), person(beta, "admin")
    before = counts()

    assert not policy.can_view_client(intruder, client) and not policy.can_view_appointment(intruder, appointment)
    with organization_scope(beta):  # a request on beta's host runs in beta's scope
        assert selectors.client_for(intruder, client.pk) is None
        assert selectors.client_for(beta_admin, client.pk) is None
        assert selectors.appointment_for(beta_admin, appointment.pk) is None

    client.last_name = "Hacked"
    for member in (intruder, beta_admin):
        with pytest.raises(PermissionDenied):
            services.client_update(member=member, client=client, changes={"last_name": ["Jansen", "Hacked"]})
    with pytest.raises(ValidationError):
        services.appointment_create(member=intruder, client=client, practitioner=intruder, starts_at=at(15))
    with pytest.raises(ValidationError):
        services.appointment_create(member=beta_admin, client=new_client(beta, last_name="Beta"),
                                    practitioner=person(alpha, "gp"), starts_at=at(15))
    with pytest.raises(ValidationError):
        services.appointment_create(member=beta_admin, client=new_client(beta, last_name="Beta2"),
                                    department=alpha.departments_by_name["gp"], starts_at=at(15))
    with pytest.raises(ValidationError):
        services.client_create(member=beta_admin, initials="X", last_name="X", email="x@example.test",
                               department=alpha.departments_by_name["gp"])
    for member in (intruder, beta_admin):
        with pytest.raises(PermissionDenied):
            services.appointment_reschedule(member=member, appointment=appointment, starts_at=at(16))
        with pytest.raises(PermissionDenied):
            services.appointment_cancel(member=member, appointment=appointment)
        with pytest.raises(PermissionDenied):
            services.appointment_update_details(member=member, appointment=appointment, personal_message="x",
                                                client_number="")

    after = counts()
    # Only beta's own two clients (and their audit rows) were added.
    assert after["clients"] == before["clients"] + 2 and after["appointments"] == before["appointments"]
    assert stored(Client, client.pk).last_name == "Jansen"
    saved = stored(Appointment, appointment.pk)
    assert (saved.status, saved.starts_at, saved.ical_sequence) == (AppointmentStatus.SCHEDULED, at(14), 0)
    assert not AuditEvent.objects.with_scopes_disabled().filter(organization=beta).filter(
        action__startswith="appointment").exists()
