"""The consultation room's services (consult/room.py) and its HTTP side (portal/views/room.py,
consult/room_views.py): opening and ending consults, shared files, the cleanup job, adding a participant,
and who may reach the pages and files.
"""

import os
import shutil
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from chat.models import Message
from consult import room, services, waiting
from consult.models import (
    Appointment,
    AppointmentParticipant,
    AppointmentStatus,
    Client,
    Consult,
    ConsultMessage,
    ConsultPresence,
    ConsultStatus,
    SharedFile,
    WaitingEntry,
    WaitingStatus,
)
from consult.private_storage import storages_private
from orgs.models import AuditEvent, Membership, Organization
from orgs.scoping import scopes_disabled
from tests.conftest import host_client, make_org, signed_in_client

NOW = timezone.now().replace(microsecond=0)


# --- helpers ------------------------------------------------------------------------------------

def member(org, key):
    """The membership as a request would load it: with its organisation's current settings."""
    return Membership.objects.with_scopes_disabled().select_related("organization", "user").get(
        pk=org.people[key].pk)


def switch(org, **settings):
    Organization.objects.filter(pk=org.pk).update(**settings)
    for name, value in settings.items():
        setattr(org, name, value)


def appointment_now(org, *, practitioner_key="gp", minutes=1, last_name="Verhoeven", guests=0, quick=False):
    admin = member(org, "admin")
    with scopes_disabled():
        client = services.client_create(member=admin, initials="R.", first_name="Rosa", last_name=last_name,
                                        email=f"{last_name.lower()}@example.test", language="en",
                                        department=org.departments_by_name["gp"])
        if quick:
            return services.quick_consult_create(member=member(org, practitioner_key), client=client)
        extra = [services.client_create(member=admin, is_external=True, initials="K.", first_name=f"Kim{i}",
                                        last_name="Jansen", email=f"kim{i}@example.test", language="en")
                 for i in range(guests)]
        return services.appointment_create(
            member=admin, client=client, practitioner=org.people[practitioner_key], guests=extra,
            starts_at=timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=minutes))


def reload(model, pk):
    return model.objects.with_scopes_disabled().get(pk=pk)


def client_participant(appointment):
    return AppointmentParticipant.objects.with_scopes_disabled().select_related("appointment").get(
        appointment=appointment, role="client")


def audit(org, action):
    return list(AuditEvent.objects.with_scopes_disabled().filter(organization=org, action=action))


def consults_of(appointment):
    return list(Consult.objects.with_scopes_disabled().filter(appointment=appointment))


def upload(content=b"hello", name="notes.txt"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def share(consult, content=b"hello", name="notes.txt", peer_id="m1"):
    return room.file_share(consult=consult, peer_id=peer_id, sender_name="Gp Alpha", upload=upload(content, name))


def stored_consult_files():
    storage = storages_private()
    return set(room._stored_consult_files(storage))


def patient_client(org, participant):
    browser = host_client(org)
    browser.get(services.participant_link(participant).split(":8000", 1)[1])
    return browser


@pytest.fixture
def empty_private_storage():
    """The private storage of this test process starts without consult files (earlier tests leave some)."""
    shutil.rmtree(os.path.join(storages_private().location, "consults"), ignore_errors=True)


# --- consult_start --------------------------------------------------------------------------------

def test_calling_in_opens_a_consult_without_force_start_and_a_second_start_returns_it(alpha):
    appointment = appointment_now(alpha)
    gp = member(alpha, "gp")
    assert not alpha.force_start
    consult = room.consult_start(member=gp, appointment=appointment)
    stored = reload(Consult, consult.pk)
    assert stored.status == ConsultStatus.OPEN and stored.started_by_id == gp.pk
    assert stored.organization_id == alpha.pk and stored.appointment_id == appointment.pk
    again = room.consult_start(member=member(alpha, "admin"), appointment=appointment)
    assert again.pk == consult.pk
    assert [c.pk for c in consults_of(appointment)] == [consult.pk]
    events = audit(alpha, "consult.start")
    assert len(events) == 1
    assert (events[0].actor_id, events[0].target_type, events[0].target_id) == (
        gp.user_id, "appointment", str(appointment.pk))


def test_force_start_needs_the_organisation_switch_or_a_quick_consult(alpha):
    appointment = appointment_now(alpha)
    with pytest.raises(ValidationError):
        room.consult_start(member=member(alpha, "gp"), appointment=appointment, force=True)
    assert consults_of(appointment) == [] and audit(alpha, "consult.start") == []

    quick = appointment_now(alpha, practitioner_key="physio", quick=True, last_name="Quick")
    assert quick.kind == "quick"
    consult = room.consult_start(member=member(alpha, "physio"), appointment=quick, force=True)
    assert reload(Consult, consult.pk).is_open

    switch(alpha, force_start=True)
    consult = room.consult_start(member=member(alpha, "gp"), appointment=appointment, force=True)
    assert [c.pk for c in consults_of(appointment)] == [consult.pk]


@pytest.mark.parametrize("force", [False, True])
def test_a_cancelled_appointment_is_not_started(alpha, force):
    switch(alpha, force_start=True)
    appointment = appointment_now(alpha)
    services.appointment_cancel(member=member(alpha, "admin"), appointment=appointment)
    with pytest.raises(ValidationError):
        room.consult_start(member=member(alpha, "gp"), appointment=reload(Appointment, appointment.pk), force=force)
    assert consults_of(appointment) == []


def test_only_employees_who_may_see_the_appointment_start_it(alpha, beta):
    appointment = appointment_now(alpha)
    switch(alpha, strict_departments=True)
    for outsider in (member(alpha, "physio"), member(beta, "admin")):
        with pytest.raises(PermissionDenied):
            room.consult_start(member=outsider, appointment=appointment)
    assert consults_of(appointment) == []


def test_a_start_that_loses_the_race_returns_the_consult_the_other_opened(alpha, monkeypatch):
    """Both colleagues saw no open consult; the database lets one in and the other gets that one."""
    appointment = appointment_now(alpha)
    theirs = room.consult_start(member=member(alpha, "admin"), appointment=appointment)
    real = room.open_consult_for
    calls = []

    def not_yet_committed(appt):
        calls.append(appt.pk)
        return None if len(calls) == 1 else real(appt)  # the first look happens before the other commits

    monkeypatch.setattr(room, "open_consult_for", not_yet_committed)
    mine = room.consult_start(member=member(alpha, "gp"), appointment=appointment)
    assert len(calls) == 2  # the losing insert really happened (IntegrityError), then the winner was read
    assert mine.pk == theirs.pk
    assert [c.pk for c in consults_of(appointment)] == [theirs.pk]
    assert len(audit(alpha, "consult.start")) == 1  # the loser's audit row went with its transaction


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_starts_open_exactly_one_consult():
    alpha = make_org("alpha", "Alpha Practice")
    appointment = appointment_now(alpha)
    threads, results = 6, []
    barrier = threading.Barrier(threads, timeout=30)

    def start(key):
        try:
            me = member(alpha, key)
            appt = reload(Appointment, appointment.pk)
            barrier.wait()
            results.append(room.consult_start(member=me, appointment=appt).pk)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=start, args=(("gp", "admin")[i % 2],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    opened = consults_of(appointment)
    assert len(opened) == 1
    assert results == [opened[0].pk] * threads, results


# --- consult_end ----------------------------------------------------------------------------------

@pytest.mark.parametrize("delete_chat", [False, True])
def test_ending_closes_everything_and_deletes_the_shared_files_after_commit(
        alpha, delete_chat, django_capture_on_commit_callbacks):
    switch(alpha, delete_chat_after_consult=delete_chat)
    appointment = appointment_now(alpha)
    participant = client_participant(appointment)
    gp = member(alpha, "gp")
    with time_machine.travel(NOW, tick=False):
        entry = waiting.waiting_enter(participant=participant)
        consult = room.consult_start(member=gp, appointment=appointment)
        room.presence_enter(consult=consult, peer_id=f"p{participant.pk}", role="client", display_name="Rosa",
                            channel_name="specific.x!1", participant=participant)
        room.chat_post(consult=consult, peer_id="m1", sender_name="Gp", text="See you")
        shared = share(consult)
    name = shared.file.name
    storage = storages_private()
    assert storage.exists(name)

    with time_machine.travel(NOW + timedelta(minutes=17, seconds=5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            ended = room.consult_end(member=gp, consult=consult)
            assert storage.exists(name)  # not before the transaction commits
    assert not storage.exists(name)

    stored = reload(Consult, consult.pk)
    assert stored.status == ConsultStatus.ENDED and ended.status == ConsultStatus.ENDED
    assert stored.ended_at == NOW + timedelta(minutes=17, seconds=5) and stored.ended_by_id == gp.pk
    assert stored.duration == timedelta(minutes=17, seconds=5)
    assert reload(Appointment, appointment.pk).status == AppointmentStatus.COMPLETED
    assert reload(WaitingEntry, entry.pk).status == WaitingStatus.LEFT
    assert not ConsultPresence.objects.with_scopes_disabled().filter(consult=consult, connected=True).exists()
    assert not SharedFile.objects.with_scopes_disabled().filter(consult=consult).exists()
    # Kept chat lives on in the client's chat channel only (chat.services.consult_ended copied it); deleted
    # chat is gone: the room's lines go either way.
    assert not ConsultMessage.objects.with_scopes_disabled().filter(consult=consult).exists()
    copied = Message.objects.with_scopes_disabled().filter(appointment_id=appointment.pk).count()
    assert copied == (0 if delete_chat else 1)
    events = audit(alpha, "consult.end")
    assert [(e.actor_id, e.target_id) for e in events] == [(gp.user_id, str(appointment.pk))]

    # Ending twice changes nothing and writes no second audit row.
    room.consult_end(member=gp, consult=reload(Consult, consult.pk))
    assert reload(Consult, consult.pk).ended_at == NOW + timedelta(minutes=17, seconds=5)
    assert len(audit(alpha, "consult.end")) == 1


def test_only_employees_who_may_see_the_appointment_end_it(alpha, beta):
    appointment = appointment_now(alpha)
    consult = room.consult_start(member=member(alpha, "gp"), appointment=appointment)
    switch(alpha, strict_departments=True)
    for outsider in (member(alpha, "physio"), member(beta, "admin")):
        with pytest.raises(PermissionDenied):
            room.consult_end(member=outsider, consult=consult)
    assert reload(Consult, consult.pk).is_open and audit(alpha, "consult.end") == []


# --- file_share -----------------------------------------------------------------------------------

def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(alpha, settings, empty_private_storage):
    settings.ROOM_FILE_MAX_BYTES = 10
    consult = room.consult_start(member=member(alpha, "gp"), appointment=appointment_now(alpha))
    with pytest.raises(ValidationError):
        share(consult, content=b"x" * 11)
    assert not SharedFile.objects.with_scopes_disabled().exists()
    assert stored_consult_files() == set()
    at_limit = share(consult, content=b"x" * 10, name="../../etc/passwd")
    assert at_limit.size == 10 and "/" not in at_limit.name
    assert stored_consult_files() == {at_limit.file.name}
    assert at_limit.file.name.startswith(f"consults/{alpha.pk}/{consult.pk}/")


def test_file_sharing_switched_off_refuses_every_file(alpha, empty_private_storage):
    consult = room.consult_start(member=member(alpha, "gp"), appointment=appointment_now(alpha))
    switch(alpha, file_sharing=False)
    with pytest.raises(PermissionDenied):
        share(reload(Consult, consult.pk))
    assert not SharedFile.objects.with_scopes_disabled().exists() and stored_consult_files() == set()


def test_no_file_is_shared_in_an_ended_consult(alpha, empty_private_storage):
    gp = member(alpha, "gp")
    consult = room.consult_start(member=gp, appointment=appointment_now(alpha))
    room.consult_end(member=gp, consult=consult)
    with pytest.raises(ValidationError):
        share(consult)  # the caller's object still says "open": the database decides
    assert not SharedFile.objects.with_scopes_disabled().exists() and stored_consult_files() == set()


# --- consults_cleanup -----------------------------------------------------------------------------

def test_cleanup_ends_abandoned_consults_and_deletes_orphan_files(
        alpha, empty_private_storage, django_capture_on_commit_callbacks):
    gp = member(alpha, "gp")
    now = timezone.now()
    abandoned = room.consult_start(member=gp, appointment=appointment_now(alpha, last_name="Gone"))
    busy = room.consult_start(member=gp, appointment=appointment_now(alpha, minutes=30, last_name="Busy"))
    recent = room.consult_start(member=gp, appointment=appointment_now(alpha, minutes=60, last_name="Recent"))
    left_behind, kept = share(abandoned), share(busy)
    three_hours_ago = now - timedelta(hours=3)
    Consult.objects.with_scopes_disabled().filter(pk__in=[abandoned.pk, busy.pk]).update(started_at=three_hours_ago)
    Consult.objects.with_scopes_disabled().filter(pk=recent.pk).update(started_at=now - timedelta(minutes=30))
    # Someone left the abandoned one long ago; someone is in the busy one now.
    room.presence_enter(consult=abandoned, peer_id="m1", role="staff", display_name="Gp", channel_name="c1")
    ConsultPresence.objects.with_scopes_disabled().filter(consult=abandoned).update(
        connected=False, last_seen_at=now - timedelta(hours=2, minutes=30))
    room.presence_enter(consult=busy, peer_id="m1", role="staff", display_name="Gp", channel_name="c2")

    storage = storages_private()
    old_orphan = storage.save(f"consults/{alpha.pk}/999999/old", ContentFile(b"old"))
    fresh_orphan = storage.save(f"consults/{alpha.pk}/999999/fresh", ContentFile(b"fresh"))
    eleven_minutes_ago = (now - timedelta(minutes=11)).timestamp()
    os.utime(storage.path(old_orphan), (eleven_minutes_ago, eleven_minutes_ago))

    with django_capture_on_commit_callbacks(execute=True):
        ended, deleted = room.consults_cleanup(now=now)
    assert (ended, deleted) == (1, 1)

    gone = reload(Consult, abandoned.pk)
    assert gone.status == ConsultStatus.ENDED
    assert gone.ended_at == now - timedelta(hours=2, minutes=30)  # when someone was last there
    assert reload(Appointment, abandoned.appointment_id).status == AppointmentStatus.COMPLETED
    assert not storage.exists(left_behind.file.name)
    assert not SharedFile.objects.with_scopes_disabled().filter(consult=abandoned).exists()
    assert reload(Consult, busy.pk).is_open and reload(Consult, recent.pk).is_open
    assert storage.exists(kept.file.name) and SharedFile.objects.with_scopes_disabled().filter(pk=kept.pk).exists()
    assert not storage.exists(old_orphan)
    assert storage.exists(fresh_orphan)  # an upload may be between its file and its row


# --- participant_add ------------------------------------------------------------------------------

@pytest.mark.parametrize("emails_off", [False, True])
def test_adding_a_participant_creates_an_external_guest_and_emails_the_link(
        alpha, emails_off, django_capture_on_commit_callbacks):
    switch(alpha, do_not_send_emails=emails_off)
    appointment = appointment_now(alpha)
    gp = member(alpha, "gp")
    consult = room.consult_start(member=gp, appointment=appointment)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        participant, link = room.participant_add(member=gp, consult=consult, first_name="Kim", last_name="Jansen",
                                                 email="kim@example.test")
    stored = AppointmentParticipant.objects.with_scopes_disabled().select_related("person").get(pk=participant.pk)
    assert stored.appointment_id == appointment.pk and stored.role == "guest"
    person = stored.person
    assert person.is_external and (person.first_name, person.last_name, person.email) == (
        "Kim", "Jansen", "kim@example.test")
    assert person.organization_id == alpha.pk and person.department_id == appointment.department_id
    assert link == services.participant_link(stored)
    if emails_off:
        assert mail.outbox == []
    else:
        assert [m.to for m in mail.outbox] == [["kim@example.test"]]
        assert link.split(":8000", 1)[1] in mail.outbox[0].body
    events = audit(alpha, "consult.participant_add")
    assert [(e.actor_id, e.target_id) for e in events] == [(gp.user_id, str(appointment.pk))]
    # The guest gets in once the client is in the room.
    assert room.consult_for_participant(stored) is None
    client = client_participant(appointment)
    room.presence_enter(consult=consult, peer_id=f"p{client.pk}", role="client", display_name="Rosa",
                        channel_name="c1", participant=client)
    assert room.consult_for_participant(stored).pk == consult.pk


def test_no_participant_is_added_by_outsiders_or_to_an_ended_consult(alpha, beta):
    appointment = appointment_now(alpha)
    gp = member(alpha, "gp")
    consult = room.consult_start(member=gp, appointment=appointment)
    with pytest.raises(PermissionDenied):
        room.participant_add(member=member(beta, "admin"), consult=consult, first_name="X", last_name="Y",
                             email="x@example.test")
    room.consult_end(member=gp, consult=consult)
    with pytest.raises(ValidationError):
        room.participant_add(member=gp, consult=reload(Consult, consult.pk), first_name="X", last_name="Y",
                             email="x@example.test")
    assert not Client.objects.with_scopes_disabled().filter(last_name="Y").exists()
    assert AppointmentParticipant.objects.with_scopes_disabled().filter(appointment=appointment).count() == 1


# --- the HTTP side --------------------------------------------------------------------------------

def staff_urls(appointment, shared):
    return {"room": f"/portal/room/{appointment.pk}/",
            "file": f"/portal/room/{appointment.pk}/files/{shared.pk}/",
            "end": f"/portal/room/{appointment.pk}/end/"}


def test_staff_pages_are_not_found_for_outsiders_and_work_for_the_practitioner(alpha, beta):
    appointment = appointment_now(alpha)
    consult = room.consult_start(member=member(alpha, "gp"), appointment=appointment)
    shared = share(consult, content=b"the letter")
    urls = staff_urls(appointment, shared)
    switch(alpha, strict_departments=True)
    outsiders = {"beta gp on beta's host": signed_in_client(beta.people["gp"].user, beta),
                 "alpha physio, strict departments": signed_in_client(alpha.people["physio"].user, alpha)}
    for who, browser in outsiders.items():
        assert browser.get(urls["room"]).status_code == 404, who
        assert browser.get(urls["file"]).status_code == 404, who
        assert browser.post(urls["end"]).status_code == 404, who
    assert reload(Consult, consult.pk).is_open

    gp = signed_in_client(alpha.people["gp"].user, alpha)
    page = gp.get(urls["room"])
    assert page.status_code == 200 and f"/ws/room/{appointment.pk}/" in page.content.decode()
    download = gp.get(urls["file"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"the letter"
    assert "attachment" in download["Content-Disposition"] and "no-store" in download["Cache-Control"]
    ended = gp.post(urls["end"])
    assert ended.status_code == 302 and ended["Location"] == "/portal/waiting-room/"
    assert reload(Consult, consult.pk).status == ConsultStatus.ENDED
    # After the end, the file and the room are gone for the practitioner too.
    assert gp.get(urls["file"]).status_code == 404
    assert gp.get(urls["room"]).status_code == 302


def test_a_patient_downloads_only_files_of_their_own_consult(alpha, beta):
    appointment = appointment_now(alpha)
    other = appointment_now(alpha, minutes=30, last_name="Other")
    foreign = appointment_now(beta)
    consult = room.consult_start(member=member(alpha, "gp"), appointment=appointment)
    other_consult = room.consult_start(member=member(alpha, "gp"), appointment=other)
    foreign_consult = room.consult_start(member=member(beta, "gp"), appointment=foreign)
    mine, theirs, beta_file = share(consult, b"mine"), share(other_consult, b"theirs"), share(foreign_consult, b"b")
    patient = patient_client(alpha, client_participant(appointment))

    download = patient.get(f"/c/room/files/{mine.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"mine"
    assert patient.get(f"/c/room/files/{theirs.pk}/").status_code == 404
    assert patient.get(f"/c/room/files/{beta_file.pk}/").status_code == 404
    assert host_client(alpha).get(f"/c/room/files/{mine.pk}/").status_code == 404  # no session
    # The patient of the other consult gets theirs, not this one.
    other_patient = patient_client(alpha, client_participant(other))
    assert other_patient.get(f"/c/room/files/{theirs.pk}/").status_code == 200
    assert other_patient.get(f"/c/room/files/{mine.pk}/").status_code == 404


def test_the_patient_room_page_sends_to_the_waiting_room_before_and_to_the_end_page_after(alpha):
    appointment = appointment_now(alpha)
    patient = patient_client(alpha, client_participant(appointment))
    before = patient.get("/c/room/")
    assert before.status_code == 302 and before["Location"] == "/c/"
    gp = member(alpha, "gp")
    consult = room.consult_start(member=gp, appointment=appointment)
    during = patient.get("/c/room/")
    assert during.status_code == 200 and '"/ws/room/"' in during.content.decode()
    room.consult_end(member=gp, consult=consult)
    after = patient.get("/c/room/")
    assert after.status_code == 302 and after["Location"] == "/c/room/ended/"
    assert patient.get("/c/room/ended/").status_code == 200


def test_the_patient_room_page_and_files_wait_for_the_disclaimer(alpha):
    """F-ORG-6: a consult opened before the client arrived (force start, quick consult) does not skip the
    disclaimer: /c/room/ sends to the page that asks for it, and files stay closed."""
    switch(alpha, disclaimer_enabled=True, disclaimer_text="Not for emergencies.")
    appointment = appointment_now(alpha)
    participant = client_participant(appointment)
    patient = patient_client(alpha, participant)
    consult = room.consult_start(member=member(alpha, "gp"), appointment=appointment)
    shared = share(consult, b"letter")
    assert patient.get("/c/").status_code == 200  # the disclaimer page, not the room
    page = patient.get("/c/room/")
    assert page.status_code == 302 and page["Location"] == "/c/"
    assert patient.get(f"/c/room/files/{shared.pk}/").status_code == 404
    assert patient.post("/c/disclaimer/").status_code == 302
    assert patient.get("/c/room/").status_code == 200
    assert patient.get(f"/c/room/files/{shared.pk}/").status_code == 200


def test_starting_and_ending_through_the_portal_are_audited(alpha):
    switch(alpha, force_start=True)
    appointment = appointment_now(alpha)
    gp = signed_in_client(alpha.people["gp"].user, alpha)
    started = gp.post(f"/portal/room/{appointment.pk}/start/")
    assert started.status_code == 302 and started["Location"] == f"/portal/room/{appointment.pk}/"
    [consult] = consults_of(appointment)
    assert consult.is_open
    ended = gp.post(f"/portal/room/{appointment.pk}/end/")
    assert ended.status_code == 302
    assert reload(Consult, consult.pk).status == ConsultStatus.ENDED
    for action in ("consult.start", "consult.end"):
        events = audit(alpha, action)
        assert len(events) == 1, action
        event = events[0]
        assert event.actor_id == alpha.people["gp"].user_id and event.actor_label == "gp@alpha.test"
        assert (event.target_type, event.target_id) == ("appointment", str(appointment.pk))
        assert event.ip_address == "127.0.0.1"
