"""Ways into the consultation room and its settings: department waiting rooms (F-APPT-5), quick consults
(F-APPT-7), the walk-in switch (F-ROOM-10), the camera check's way back, TURN credentials, and the
consult record on the appointment page."""

import base64
import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from consult import links, room, services, waiting
from consult.ice import ice_servers_for
from consult.models import AppointmentParticipant, Consult, ConsultStatus
from orgs.models import Membership
from orgs.scoping import scopes_disabled
from tests.conftest import host_client, signed_in_client

pytestmark = pytest.mark.django_db


def _client(org, **fields):
    with scopes_disabled():
        return services.client_create(member=org.people["admin"], initials="R.", last_name="Verhoeven",
                                      email="rosa@example.com", department=org.departments_by_name["gp"], **fields)


def _department_appointment(org):
    org.strict_departments = True  # appointments with a department (no practitioner) need this
    org.save()
    for member in org.people.values():
        member.organization = org
    with scopes_disabled():
        return services.appointment_create(
            member=org.people["deptadmin"], client=_client(org), department=org.departments_by_name["gp"],
            starts_at=timezone.now() + timedelta(minutes=5))


def _patient(org, appointment):
    with scopes_disabled():
        participant = AppointmentParticipant.objects.get(appointment=appointment, role="client")
    browser = host_client(org)
    browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    return browser, participant


def test_a_department_appointment_waits_for_the_whole_department_and_any_of_them_brings_it_in(alpha):
    appointment = _department_appointment(alpha)
    _browser, participant = _patient(alpha, appointment)
    with scopes_disabled():
        entry = waiting.waiting_enter(participant=participant)
        gp, physio = alpha.people["gp"], alpha.people["physio"]
        assert [e.pk for e in waiting.waiting_for(gp)] == [entry.pk]
        assert list(waiting.waiting_for(physio)) == []
    response = signed_in_client(gp.user, alpha).post(f"/portal/waiting-room/{entry.pk}/call-in/")
    assert response.status_code == 302 and response["Location"] == f"/portal/room/{appointment.pk}/"
    assert room.consult_for_participant(participant) is not None
    # Another department's practitioner cannot open that room, whatever id they type.
    assert signed_in_client(physio.user, alpha).get(f"/portal/room/{appointment.pk}/").status_code == 404


def test_a_quick_consult_puts_the_practitioner_in_the_room_and_the_client_link_goes_straight_in(alpha):
    gp = alpha.people["gp"]
    client = _client(alpha)
    response = signed_in_client(gp.user, alpha).post(f"/portal/clients/{client.pk}/quick-consult/")
    with scopes_disabled():
        consult = Consult.objects.get()
    assert response["Location"] == f"/portal/room/{consult.appointment_id}/"
    assert consult.status == ConsultStatus.OPEN and consult.started_by == gp
    browser, _participant = _patient(alpha, consult.appointment)
    assert browser.get("/c/")["Location"] == "/c/room/"  # no waiting room
    assert browser.get("/c/room/").status_code == 200


def test_force_start_needs_the_switch(alpha):
    appointment = _department_appointment(alpha)
    staff = signed_in_client(alpha.people["gp"].user, alpha)
    page = staff.get(f"/portal/appointments/{appointment.pk}/").content.decode()
    assert "Start the consult" not in page
    staff.post(f"/portal/room/{appointment.pk}/start/")
    with scopes_disabled():
        assert not Consult.objects.exists()
    alpha.force_start = True
    alpha.save()
    assert "Start the consult" in staff.get(f"/portal/appointments/{appointment.pk}/").content.decode()
    assert staff.post(f"/portal/room/{appointment.pk}/start/")["Location"] == f"/portal/room/{appointment.pk}/"
    with scopes_disabled():
        assert Consult.objects.get().status == ConsultStatus.OPEN


def test_the_appointment_page_records_each_consult(alpha):
    alpha.force_start = True
    alpha.save()
    appointment = _department_appointment(alpha)
    gp = alpha.people["gp"]
    with scopes_disabled():
        consult = room.consult_start(member=gp, appointment=appointment, force=True)
        room.presence_enter(consult=consult, peer_id="m1", role="staff", display_name="Gp Alpha", channel_name="x")
        Consult.objects.filter(pk=consult.pk).update(started_at=timezone.now() - timedelta(minutes=12))
        consult.refresh_from_db()
        room.consult_end(member=gp, consult=consult)
    page = signed_in_client(gp.user, alpha).get(f"/portal/appointments/{appointment.pk}/").content.decode()
    assert "12 minutes" in page and "Gp Alpha" in page


def test_the_walk_in_switch(alpha):
    gp = alpha.people["gp"]
    staff = signed_in_client(gp.user, alpha)
    response = staff.post("/portal/walk-in/", {"open": "1"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"open": True}
    with scopes_disabled():
        assert Membership.objects.get(pk=gp.pk).walk_in_open
    staff.post("/portal/walk-in/", {"open": "0"})
    with scopes_disabled():
        assert not Membership.objects.get(pk=gp.pk).walk_in_open
    assert staff.get("/portal/walk-in/").status_code == 405


@pytest.mark.parametrize("target, shown", [
    ("/c/room/", True), ("/portal/room/3/", True), ("https://evil.example/", False), ("//evil.example/", False),
    ("javascript:alert(1)", False),
])
def test_the_camera_check_offers_a_way_back_only_to_this_site(alpha, target, shown):
    page = host_client(alpha).get("/c/check/", {"next": target}).content.decode()
    assert ("Back to the consult" in page) is shown
    if not shown:
        assert "data-back" not in page and f'href="{target}"' not in page


def test_turn_credentials_are_short_lived_and_verifiable(settings):
    settings.ICE_SERVERS = [{"urls": ["stun:stun.example.org:3478"]}]
    settings.TURN_SHARED_SECRET = ""
    assert ice_servers_for("x") == settings.ICE_SERVERS
    settings.TURN_SHARED_SECRET = "s3cret"
    settings.TURN_URLS = ["turns:turn.example.org:443"]
    settings.TURN_CREDENTIAL_SECONDS = 3600
    stun, turn = ice_servers_for("client-7")
    expiry, who = turn["username"].split(":")
    assert who == "client-7" and 3500 < int(expiry) - time.time() <= 3600
    expected = base64.b64encode(hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected and turn["urls"] == ["turns:turn.example.org:443"]


def test_the_public_check_page_gives_turn_credentials_only_to_patients_and_staff(alpha, settings):
    import json
    import re

    settings.ICE_SERVERS = []
    settings.TURN_SHARED_SECRET = "s3cret"
    settings.TURN_URLS = ["turn:turn.example.org:3478"]

    def servers(browser):
        page = browser.get("/c/check/").content.decode()
        return json.loads(re.search(r'id="ice-servers" type="application/json">(.*?)</script>', page).group(1))

    assert servers(host_client(alpha)) == []  # a stranger: no relay
    turn, = servers(signed_in_client(alpha.people["gp"].user, alpha))
    assert int(turn["username"].split(":")[0]) - time.time() <= 600
