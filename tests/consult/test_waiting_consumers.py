"""The waiting room's WebSockets, through the real ASGI application and channel layer (in-memory, or Redis
when REDIS_URL is set). Covers F-WAIT-1 (presence, place kept), F-WAIT-2 (live list), F-WAIT-3 (calling in)
and the access rules: no session → 4401, another organisation or a link outside its window → 4403.
"""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from consult import services, waiting
from consult.models import WaitingEntry
from orgs.scoping import organization_scope, scopes_disabled
from tests.conftest import host_client, make_org, signed_in_client

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def socket(path, org_host, session_key=None):
    headers = [(b"host", org_host.encode()), (b"origin", f"http://{org_host}".encode())]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def book(org, minutes_from_now=10):
    with scopes_disabled():
        client = services.client_create(member=org.people["admin"], initials="J.", last_name="Jansen",
                                        email="jansen@example.test", date_of_birth="1970-01-01", language="en",
                                        department=org.departments_by_name["gp"])
        appointment = services.appointment_create(
            member=org.people["admin"], client=client, practitioner=org.people["gp"],
            starts_at=timezone.now().replace(microsecond=0) + timedelta(minutes=minutes_from_now),
        )
        participant = appointment.participants.get()
    return appointment, participant


def patient_session(org, participant):
    """Open the personal link like a browser does; the session now holds the participant."""
    browser = host_client(org)
    link = services.participant_link(participant)
    browser.get(link.split(":8000", 1)[1])
    return browser.cookies["sessionid"].value


def staff_session(org, key):
    return signed_in_client(org.people[key].user, org).cookies["sessionid"].value


def test_patient_enters_and_the_practitioner_sees_it_live_then_calls_them_in():
    alpha = make_org("alpha", "Alpha Practice")
    appointment, participant = book(alpha)
    patient_key, gp_key = patient_session(alpha, participant), staff_session(alpha, "gp")

    async def scenario():
        staff = socket("/ws/waiting/staff/", "alpha.localhost", gp_key)
        connected, _ = await staff.connect()
        assert connected
        patient = socket("/ws/waiting/patient/", "alpha.localhost", patient_key)
        connected, _ = await patient.connect()
        assert connected
        assert await patient.receive_json_from() == {"type": "status", "state": "on_time"}
        assert await patient.receive_json_from() == {"type": "announcements", "items": []}
        assert await staff.receive_json_from(timeout=2) == {"type": "changed"}

        def waiting_for_gp():
            with organization_scope(alpha):
                return [e.pk for e in waiting.waiting_for(alpha.people["gp"])]

        listed = await database_sync_to_async(waiting_for_gp)()
        assert len(listed) == 1

        # Malformed messages are ignored; the socket stays usable.
        await patient.send_to(text_data="{not json")
        await patient.send_json_to(["not", "a", "dict"])
        await patient.send_json_to({"type": "heartbeat"})

        entry = await database_sync_to_async(WaitingEntry.objects.with_scopes_disabled().get)(pk=listed[0])
        await database_sync_to_async(waiting.waiting_call_in)(member=alpha.people["gp"], entry=entry)
        assert await patient.receive_json_from(timeout=2) == {"type": "called", "room_url": "/c/room/"}
        await patient.disconnect()
        await staff.disconnect()

    async_to_sync(scenario)()


def test_reopening_the_tab_keeps_the_place():
    alpha = make_org("alpha", "Alpha Practice")
    _appointment, participant = book(alpha)
    key = patient_session(alpha, participant)

    async def scenario():
        first = socket("/ws/waiting/patient/", "alpha.localhost", key)
        await first.connect()
        await first.receive_json_from()
        await first.receive_json_from()
        entered = (await database_sync_to_async(WaitingEntry.objects.with_scopes_disabled().get)()).entered_at
        await first.disconnect()
        again = socket("/ws/waiting/patient/", "alpha.localhost", key)
        await again.connect()
        await again.receive_json_from()
        entries = await database_sync_to_async(lambda: list(WaitingEntry.objects.with_scopes_disabled().all()))()
        assert len(entries) == 1 and entries[0].entered_at == entered and entries[0].connected
        await again.disconnect()

    async_to_sync(scenario)()


def test_sockets_without_a_session_or_from_elsewhere_are_refused():
    alpha = make_org("alpha", "Alpha Practice")
    make_org("beta", "Beta Clinic")
    _appointment, participant = book(alpha)
    patient_key = patient_session(alpha, participant)
    too_early = book(alpha, minutes_from_now=24 * 60)[1]
    early_key = patient_session(alpha, too_early)
    beta_gp_key = staff_session_for_host("beta")

    async def closed_with(path, host, key):
        communicator = socket(path, host, key)
        connected, _ = await communicator.connect()
        assert connected  # accepted, then closed with a reason code the page understands
        message = await communicator.receive_output(timeout=2)
        await communicator.wait()
        return message.get("code")

    async def scenario():
        assert await closed_with("/ws/waiting/patient/", "alpha.localhost", None) == 4401
        assert await closed_with("/ws/waiting/staff/", "alpha.localhost", None) == 4401
        # alpha's patient session presented on beta's host
        assert await closed_with("/ws/waiting/patient/", "beta.localhost", patient_key) == 4403
        # a link whose waiting room opens tomorrow
        assert await closed_with("/ws/waiting/patient/", "alpha.localhost", early_key) == 4403
        # beta's practitioner on alpha's host (the session is bound to beta)
        assert await closed_with("/ws/waiting/staff/", "alpha.localhost", beta_gp_key) == 4403

    async_to_sync(scenario)()


def staff_session_for_host(subdomain):
    from orgs.models import Organization

    org = Organization.objects.get(subdomain=subdomain)
    with scopes_disabled():
        from orgs.models import Membership

        gp = Membership.objects.select_related("user").get(organization=org, user__email=f"gp@{subdomain}.test")
    return signed_in_client(gp.user, org).cookies["sessionid"].value


def test_portal_waiting_room_lists_and_calls_in(django_capture_on_commit_callbacks):
    alpha = make_org("alpha", "Alpha Practice")
    _appointment, participant = book(alpha)
    with scopes_disabled():
        waiting.waiting_enter(participant=participant)
    gp = signed_in_client(alpha.people["gp"].user, alpha)
    html = gp.get("/portal/waiting-room/").content.decode()
    assert "J. Jansen" in html and "waiting-on_time" in html
    entry = WaitingEntry.objects.with_scopes_disabled().get()
    physio = signed_in_client(alpha.people["physio"].user, alpha)
    assert "J. Jansen" not in physio.get("/portal/waiting-room/list/").content.decode()
    assert physio.post(f"/portal/waiting-room/{entry.pk}/call-in/").status_code == 404
    assert gp.post(f"/portal/waiting-room/{entry.pk}/call-in/").status_code == 302
    entry.refresh_from_db()
    assert entry.status == "called"
    assert "J. Jansen" not in gp.get("/portal/waiting-room/list/").content.decode()


def test_announcements_reach_everyone_waiting_live_and_follow_the_rules():
    """Covers F-WAIT-4: per organisation or department, expiry, delete all, shown live."""
    from consult.models import Announcement

    alpha = make_org("alpha", "Alpha Practice")
    _appointment, participant = book(alpha)  # a General practice appointment
    key = patient_session(alpha, participant)
    deptadmin, admin = alpha.people["deptadmin"], alpha.people["admin"]
    with scopes_disabled():
        gp_department, physio_department = alpha.departments_by_name["gp"], alpha.departments_by_name["physio"]

    async def scenario():
        patient = socket("/ws/waiting/patient/", "alpha.localhost", key)
        await patient.connect()
        assert (await patient.receive_json_from())["type"] == "status"
        assert await patient.receive_json_from() == {"type": "announcements", "items": []}

        create = database_sync_to_async(waiting.announcement_create)
        await create(member=deptadmin, text="We run  15 minutes late", department=gp_department)
        assert await patient.receive_json_from(timeout=2) == {
            "type": "announcements", "items": ["We run 15 minutes late"]}
        await create(member=admin, text="Physio is closed today", department=physio_department)
        message = await patient.receive_json_from(timeout=2)
        assert message["items"] == ["We run 15 minutes late"]  # another department's is not shown here
        await create(member=admin, text="<b>Coffee</b> in the hall")
        message = await patient.receive_json_from(timeout=2)
        assert message["items"][0] == "<b>Coffee</b> in the hall"  # text, shown with textContent by the page

        everything = await database_sync_to_async(lambda: list(Announcement.objects.with_scopes_disabled().all()))()
        deleted = await database_sync_to_async(waiting.announcements_delete)(member=admin, announcements=everything)
        assert deleted == 3
        assert await patient.receive_json_from(timeout=2) == {"type": "announcements", "items": []}
        await patient.disconnect()

    async_to_sync(scenario)()


def test_announcement_rules():
    from django.core.exceptions import ValidationError

    from consult.models import Announcement

    alpha = make_org("alpha", "Alpha Practice")
    beta = make_org("beta", "Beta Clinic")
    deptadmin, gp = alpha.people["deptadmin"], alpha.people["gp"]
    with scopes_disabled():
        physio_department = alpha.departments_by_name["physio"]
        foreign = beta.departments_by_name["gp"]
    for member, kwargs in [
        (deptadmin, {"text": "x", "department": physio_department}),  # not their department
        (deptadmin, {"text": "x"}),  # organisation-wide is for organisation admins
        (gp, {"text": "x", "department": alpha.departments_by_name["gp"]}),  # practitioners make none
        (alpha.people["admin"], {"text": "x", "department": foreign}),
        (alpha.people["admin"], {"text": "   "}),
        (alpha.people["admin"], {"text": "x", "expires_at": timezone.now() - timedelta(minutes=1)}),
    ]:
        with pytest.raises(ValidationError):
            waiting.announcement_create(member=member, **kwargs)
    assert not Announcement.objects.with_scopes_disabled().exists()
    waiting.announcement_create(member=alpha.people["admin"], text="Short", expires_at=timezone.now()
                                + timedelta(seconds=1))
    appointment, _participant = book(alpha)
    assert waiting.active_announcements(appointment) == ["Short"]
    assert waiting.active_announcements(appointment, now=timezone.now() + timedelta(minutes=1)) == []
    client = signed_in_client(gp.user, alpha)
    assert client.get("/portal/announcements/").status_code == 404
    page = signed_in_client(deptadmin.user, alpha).get("/portal/announcements/").content.decode()
    assert "Everyone waiting" not in page.split("<select", 1)[1].split("</select>", 1)[0]


def test_the_check_socket_answers_pings_and_nothing_else():
    async def scenario():
        check = socket("/ws/check/", "alpha.localhost")
        connected, _ = await check.connect()
        assert connected
        await check.send_to(text_data="garbage")
        await check.send_json_to({"type": "ping", "id": 7})
        answer = await check.receive_json_from()
        assert answer["type"] == "pong" and answer["id"] == 7
        for n in range(20):
            await check.send_json_to({"type": "ping", "id": n})
        for _ in range(19):
            await check.receive_json_from()
        assert (await check.receive_output())["code"] == 4429  # a check needs a handful of pings, not a flood
        await check.disconnect()

    async_to_sync(scenario)()
