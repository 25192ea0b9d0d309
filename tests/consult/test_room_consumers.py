"""The consultation room's WebSocket (/ws/room/, /ws/room/<appointment id>/) through the real ASGI application
(config.asgi: origin check, sessions, auth, URL router), on the in-memory channel layer and on Redis.

Access: no session → 4401; another organisation's host, staff who may not see the appointment, a foreign
appointment id, a consult that is not open, an extra participant before the client is in → 4403.
Signalling: relayed only to a peer of the same consult by its peer id; garbage is ignored; chat is stored
and broadcast; a second socket of the same person replaces the first (4409); ending closes with 4410.
"""

import os
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from consult import room, services
from consult.models import AppointmentParticipant, Consult, ConsultMessage, ConsultPresence, ConsultStatus
from orgs.models import Organization
from orgs.scoping import scopes_disabled
from tests.conftest import host_client, make_org, signed_in_client

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 3
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _redis_answers(url):
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(params=["memory", "redis"], autouse=True)
def layer(request, settings):
    """Every test runs twice: on the in-memory layer and on Redis (skipped only when REDIS_URL is unset and
    no Redis answers on this machine; with REDIS_URL set, a Redis that does not answer fails the test)."""
    if request.param == "memory":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        yield request.param
        return
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    if not os.environ.get("REDIS_URL") and not _redis_answers(url):
        pytest.skip(f"no Redis on {url}")
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # A prefix of its own: runs side by side (and leftovers of other tests) never see each other's messages.
        "CONFIG": {"hosts": [url], "prefix": f"test-room-{uuid.uuid4().hex[:12]}"},
    }}
    yield request.param
    from channels.layers import get_channel_layer

    async_to_sync(get_channel_layer().flush)()


# --- building the situation ---------------------------------------------------------------------

def appointment_now(org, *, practitioner_key="gp", guests=0, minutes=1, last_name="Verhoeven"):
    """A booked appointment starting in `minutes` (its links are open), with `guests` extra participants."""
    admin = org.people["admin"]
    with scopes_disabled():
        client = services.client_create(member=admin, initials="R.", first_name="Rosa", last_name=last_name,
                                        email="rosa@example.test", language="en",
                                        department=org.departments_by_name["gp"])
        extra = [services.client_create(member=admin, is_external=True, initials="K.", first_name=f"Kim{i}",
                                        last_name="Jansen", email=f"kim{i}@example.test", language="en")
                 for i in range(guests)]
        return services.appointment_create(
            member=admin, client=client, practitioner=org.people[practitioner_key],
            starts_at=timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=minutes), guests=extra)


def participant_of(appointment, role="client"):
    with scopes_disabled():
        return AppointmentParticipant.objects.select_related("appointment__organization").filter(
            appointment=appointment, role=role).order_by("pk").first()


def patient_session(org, participant):
    """Open the personal link like a browser does; the session now holds the participant."""
    browser = host_client(org)
    browser.get(services.participant_link(participant).split(":8000", 1)[1])
    return browser.cookies["sessionid"].value


def staff_session(org, key):
    return signed_in_client(org.people[key].user, org).cookies["sessionid"].value


def start(org, appointment, key="gp"):
    return room.consult_start(member=org.people[key], appointment=appointment)


def socket(path, host, session_key=None):
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def staff_path(appointment):
    return f"/ws/room/{appointment.pk}/"


async def closed_with(communicator):
    """Accepted, then closed at once with a reason code the page understands: that code."""
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    if await communicator.receive_nothing(timeout=TIMEOUT):
        await communicator.disconnect()
        pytest.fail("the socket was let in (it stayed open)")
    message = await communicator.receive_output(timeout=TIMEOUT)
    assert message["type"] == "websocket.close", message
    await communicator.wait(timeout=TIMEOUT)
    return message.get("code")


async def joined(communicator, session="tab-1"):
    """Connect and say hello; returns the welcome."""
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    await communicator.send_json_to({"type": "hello", "session": session})
    welcome = await communicator.receive_json_from(timeout=TIMEOUT)
    assert welcome["type"] == "welcome", welcome
    return welcome


def db(function):
    return database_sync_to_async(function)


def presences():
    return {p.peer_id: p for p in ConsultPresence.objects.with_scopes_disabled().all()}


def messages():
    return [(m.peer_id, m.text) for m in ConsultMessage.objects.with_scopes_disabled().all()]


# --- who may join -------------------------------------------------------------------------------

def test_patient_of_an_open_consult_joins_and_is_welcomed():
    alpha = make_org("alpha", "Alpha Practice")
    appointment = appointment_now(alpha)
    participant = participant_of(appointment)
    key = patient_session(alpha, participant)
    consult = start(alpha, appointment)

    async def scenario():
        patient = socket("/ws/room/", "alpha.localhost", key)
        welcome = await joined(patient, session="s-1")
        assert welcome["you"] == {"id": f"p{participant.pk}", "name": "Rosa Verhoeven", "role": "client",
                                  "session": "s-1"}
        assert welcome["peers"] == [] and welcome["chat"] == [] and welcome["files"] == []
        assert welcome["started_at"] == consult.started_at.isoformat()
        present = await db(presences)()
        assert present[f"p{participant.pk}"].connected and present[f"p{participant.pk}"].browser_session == "s-1"
        await patient.disconnect()
        assert not (await db(presences)())[f"p{participant.pk}"].connected

    async_to_sync(scenario)()


def test_sockets_without_a_session_are_refused_with_4401():
    alpha = make_org("alpha", "Alpha Practice")
    appointment = appointment_now(alpha)
    start(alpha, appointment)

    async def scenario():
        assert await closed_with(socket("/ws/room/", "alpha.localhost")) == 4401
        assert await closed_with(socket(staff_path(appointment), "alpha.localhost")) == 4401

    async_to_sync(scenario)()


def test_a_patient_session_on_another_host_or_for_another_appointment_is_refused_with_4403():
    alpha = make_org("alpha", "Alpha Practice")
    beta = make_org("beta", "Beta Clinic")
    appointment = appointment_now(alpha)
    key = patient_session(alpha, participant_of(appointment))
    idle = appointment_now(alpha, minutes=40, last_name="Idle")  # no consult opened for this one
    idle_key = patient_session(alpha, participant_of(idle))
    beta_appointment = appointment_now(beta)
    start(alpha, appointment)
    start(beta, beta_appointment)

    async def scenario():
        # alpha's patient, whose consult is open, presented on beta's host (where a consult is open too)
        assert await closed_with(socket("/ws/room/", "beta.localhost", key)) == 4403
        # a patient whose own appointment has no open consult: another appointment's open consult is not theirs
        assert await closed_with(socket("/ws/room/", "alpha.localhost", idle_key)) == 4403
        # the control: the same alpha session on alpha's host gets in
        await joined(socket("/ws/room/", "alpha.localhost", key))

    async_to_sync(scenario)()


def test_staff_of_another_organisation_or_who_may_not_see_the_appointment_are_refused_with_4403():
    alpha = make_org("alpha", "Alpha Practice")
    beta = make_org("beta", "Beta Clinic")
    appointment = appointment_now(alpha)  # a General practice appointment with alpha's gp
    beta_appointment = appointment_now(beta)
    start(alpha, appointment)
    start(beta, beta_appointment)
    Organization.objects.filter(pk=alpha.pk).update(strict_departments=True)
    beta_gp, alpha_physio, alpha_gp = staff_session(beta, "gp"), staff_session(alpha, "physio"), \
        staff_session(alpha, "gp")

    async def scenario():
        # beta's practitioner on alpha's host (the session is bound to beta)
        assert await closed_with(socket(staff_path(appointment), "alpha.localhost", beta_gp)) == 4403
        # alpha's physiotherapist may not see a General practice appointment with strict departments
        assert await closed_with(socket(staff_path(appointment), "alpha.localhost", alpha_physio)) == 4403
        # alpha's gp asking for beta's appointment id (whose consult is open) on alpha's host
        assert await closed_with(socket(staff_path(beta_appointment), "alpha.localhost", alpha_gp)) == 4403
        # beta's gp asking for alpha's appointment id on beta's own host
        assert await closed_with(socket(staff_path(appointment), "beta.localhost", beta_gp)) == 4403
        # the control: the appointment's own practitioner gets in
        welcome = await joined(socket(staff_path(appointment), "alpha.localhost", alpha_gp))
        assert welcome["you"]["id"] == f"m{alpha.people['gp'].pk}" and welcome["you"]["role"] == "staff"

    async_to_sync(scenario)()


def test_without_strict_departments_a_colleague_of_another_department_may_join():
    """The other side of the strict-departments refusal above: the rule, not the department, refuses."""
    alpha = make_org("alpha", "Alpha Practice")
    appointment = appointment_now(alpha)
    start(alpha, appointment)
    physio = staff_session(alpha, "physio")

    async def scenario():
        welcome = await joined(socket(staff_path(appointment), "alpha.localhost", physio))
        assert welcome["you"]["id"] == f"m{alpha.people['physio'].pk}"

    async_to_sync(scenario)()


def test_a_consult_that_is_not_open_is_refused_with_4403():
    alpha = make_org("alpha", "Alpha Practice")
    never = appointment_now(alpha, last_name="Never")
    ended = appointment_now(alpha, minutes=40, last_name="Ended")
    never_key = patient_session(alpha, participant_of(never))
    ended_key = patient_session(alpha, participant_of(ended))
    consult = start(alpha, ended)
    room.consult_end(member=alpha.people["gp"], consult=consult)
    gp = staff_session(alpha, "gp")

    async def scenario():
        assert await closed_with(socket("/ws/room/", "alpha.localhost", never_key)) == 4403
        assert await closed_with(socket("/ws/room/", "alpha.localhost", ended_key)) == 4403
        assert await closed_with(socket(staff_path(never), "alpha.localhost", gp)) == 4403
        assert await closed_with(socket(staff_path(ended), "alpha.localhost", gp)) == 4403

    async_to_sync(scenario)()


def test_an_extra_participant_gets_in_only_once_the_client_is_in_the_room():
    alpha = make_org("alpha", "Alpha Practice")
    appointment = appointment_now(alpha, guests=1)
    client, guest = participant_of(appointment), participant_of(appointment, "guest")
    client_key, guest_key = patient_session(alpha, client), patient_session(alpha, guest)
    start(alpha, appointment)

    async def scenario():
        assert await closed_with(socket("/ws/room/", "alpha.localhost", guest_key)) == 4403
        patient = socket("/ws/room/", "alpha.localhost", client_key)
        await joined(patient)
        extra = socket("/ws/room/", "alpha.localhost", guest_key)
        welcome = await joined(extra)
        assert welcome["you"]["id"] == f"p{guest.pk}" and welcome["you"]["role"] == "guest"
        assert [p["id"] for p in welcome["peers"]] == [f"p{client.pk}"]
        assert "channel" not in welcome["peers"][0]  # channel names never reach a browser
        joined_message = await patient.receive_json_from(timeout=TIMEOUT)
        assert joined_message == {"type": "peer-joined", "peer": welcome["you"]}
        await extra.disconnect()
        await patient.disconnect()

    async_to_sync(scenario)()


def test_a_patient_who_has_not_accepted_the_disclaimer_does_not_get_into_the_room():
    """F-ORG-6: the disclaimer comes before the waiting room, so before the room too (a force start or a
    quick consult opens the consult before the client ever saw the waiting room)."""
    alpha = make_org("alpha", "Alpha Practice")
    Organization.objects.filter(pk=alpha.pk).update(disclaimer_enabled=True, disclaimer_text="Not for emergencies.")
    appointment = appointment_now(alpha)
    participant = participant_of(appointment)
    browser = host_client(alpha)
    browser.get(services.participant_link(participant).split(":8000", 1)[1])
    key = browser.cookies["sessionid"].value
    start(alpha, appointment)

    async def scenario():
        assert await closed_with(socket("/ws/room/", "alpha.localhost", key)) == 4403

    async_to_sync(scenario)()
    assert not ConsultPresence.objects.with_scopes_disabled().exists()
    assert browser.post("/c/disclaimer/").status_code == 302  # accepted: now the same session gets in

    async def accepted():
        await joined(socket("/ws/room/", "alpha.localhost", key))

    async_to_sync(accepted)()


# --- signalling, chat ---------------------------------------------------------------------------

def two_peers(alpha, guests=0):
    appointment = appointment_now(alpha, guests=guests)
    participant = participant_of(appointment)
    patient_key, gp_key = patient_session(alpha, participant), staff_session(alpha, "gp")
    consult = start(alpha, appointment)
    return appointment, consult, participant, patient_key, gp_key


def test_a_signal_reaches_only_the_peer_it_is_addressed_to_with_the_sender_as_from():
    alpha = make_org("alpha", "Alpha Practice")
    appointment, _consult, participant, patient_key, gp_key = two_peers(alpha, guests=1)
    guest_key = patient_session(alpha, participant_of(appointment, "guest"))
    gp_id, patient_id = f"m{alpha.people['gp'].pk}", f"p{participant.pk}"

    async def scenario():
        gp = socket(staff_path(appointment), "alpha.localhost", gp_key)
        await joined(gp)
        patient = socket("/ws/room/", "alpha.localhost", patient_key)
        welcome = await joined(patient)
        assert [p["id"] for p in welcome["peers"]] == [gp_id]
        assert (await gp.receive_json_from(timeout=TIMEOUT))["peer"]["id"] == patient_id
        guest = socket("/ws/room/", "alpha.localhost", guest_key)
        await joined(guest)
        assert (await gp.receive_json_from(timeout=TIMEOUT))["type"] == "peer-joined"
        assert (await patient.receive_json_from(timeout=TIMEOUT))["type"] == "peer-joined"

        offer = {"sdp": "v=0 offer", "type": "offer"}
        await gp.send_json_to({"type": "signal", "to": patient_id, "data": offer})
        assert await patient.receive_json_from(timeout=TIMEOUT) == {"type": "signal", "from": gp_id, "data": offer}
        await patient.send_json_to({"type": "signal", "to": gp_id, "data": {"candidate": "c1"}})
        assert await gp.receive_json_from(timeout=TIMEOUT) == {
            "type": "signal", "from": patient_id, "data": {"candidate": "c1"}}
        assert await guest.receive_nothing(timeout=0.5)  # addressed to someone else

        # A peer id that is not in the room, and the patient's real channel name: nobody receives them.
        patient_channel = (await db(presences)())[patient_id].channel_name
        assert patient_channel
        for target in ("m999999", "p0", patient_channel, f"specific.{patient_channel}", None):
            await gp.send_json_to({"type": "signal", "to": target, "data": {"sdp": "x"}})
        for other in (patient, guest, gp):
            assert await other.receive_nothing(timeout=0.5)
        for communicator in (guest, patient, gp):
            await communicator.disconnect()

    async_to_sync(scenario)()


def test_garbage_and_messages_before_hello_are_ignored_and_the_socket_keeps_working():
    alpha = make_org("alpha", "Alpha Practice")
    appointment, _consult, participant, patient_key, gp_key = two_peers(alpha)
    patient_id = f"p{participant.pk}"

    async def scenario():
        gp = socket(staff_path(appointment), "alpha.localhost", gp_key)
        await joined(gp)
        patient = socket("/ws/room/", "alpha.localhost", patient_key)
        connected, _ = await patient.connect(timeout=TIMEOUT)
        assert connected
        # Before hello nothing counts: no chat stored, no broadcast, no presence.
        await patient.send_json_to({"type": "chat", "text": "too early"})
        await patient.send_json_to({"type": "media", "audio": True})
        assert await gp.receive_nothing(timeout=0.5)
        assert await patient.receive_nothing(timeout=0.2)
        assert await db(messages)() == []
        assert patient_id not in await db(presences)()

        await patient.send_json_to({"type": "hello", "session": "s"})
        assert (await patient.receive_json_from(timeout=TIMEOUT))["type"] == "welcome"
        assert (await gp.receive_json_from(timeout=TIMEOUT))["type"] == "peer-joined"
        await patient.send_to(text_data="{not json")
        await patient.send_to(text_data=" ")
        await patient.send_json_to(["not", "a", "dict"])
        await patient.send_json_to("chat")
        await patient.send_json_to(None)
        await patient.send_json_to({"no": "type"})
        await patient.send_json_to({"type": 7, "text": "x"})
        await patient.send_json_to({"type": "nonsense"})
        await patient.send_json_to({"type": "receive_json"})
        await patient.send_json_to({"type": "signal"})
        assert await patient.receive_nothing(timeout=0.3)
        assert await gp.receive_nothing(timeout=0.3)

        await patient.send_json_to({"type": "chat", "text": "still here"})
        assert (await patient.receive_json_from(timeout=TIMEOUT))["message"]["text"] == "still here"
        assert (await gp.receive_json_from(timeout=TIMEOUT))["message"]["text"] == "still here"
        assert await db(messages)() == [(patient_id, "still here")]
        await patient.disconnect()
        await gp.disconnect()

    async_to_sync(scenario)()


def test_malformed_fields_of_known_types_are_ignored_and_the_socket_keeps_working():
    """A chat whose text is not a string, a signal addressed to a list: refused or ignored, never a crash
    that drops the socket (and with it the caller's media negotiation)."""
    alpha = make_org("alpha", "Alpha Practice")
    appointment, _consult, participant, patient_key, gp_key = two_peers(alpha)
    gp_id = f"m{alpha.people['gp'].pk}"

    async def scenario():
        gp = socket(staff_path(appointment), "alpha.localhost", gp_key)
        await joined(gp)
        patient = socket("/ws/room/", "alpha.localhost", patient_key)
        await joined(patient)
        await gp.receive_json_from(timeout=TIMEOUT)  # peer-joined
        for number, malformed in enumerate([
                {"type": "signal", "to": [gp_id], "data": {"sdp": "x"}},
                {"type": "signal", "to": {"id": gp_id}, "data": {"sdp": "x"}},
                {"type": "chat", "text": 12345},
                {"type": "chat", "text": ["a", "list"]},
                {"type": "caption", "text": {"a": 1}, "final": True}]):
            await patient.send_json_to(malformed)
            await patient.send_json_to({"type": "chat", "text": f"ok {number}"})
            # At most an error for the malformed message, then the next chat as usual.
            answer = await patient.receive_json_from(timeout=TIMEOUT)
            if answer["type"] == "error":
                answer = await patient.receive_json_from(timeout=TIMEOUT)
            assert answer["type"] == "chat" and answer["message"]["text"] == f"ok {number}", (malformed, answer)
            seen = await gp.receive_json_from(timeout=TIMEOUT)
            if seen["type"] == "caption":
                seen = await gp.receive_json_from(timeout=TIMEOUT)
            assert seen["type"] == "chat" and seen["message"]["text"] == f"ok {number}", (malformed, seen)
        assert await gp.receive_nothing(timeout=0.3)  # no signal was relayed
        await patient.send_json_to({"type": "chat", "text": "still here"})
        assert (await patient.receive_json_from(timeout=TIMEOUT))["message"]["text"] == "still here"
        assert (await gp.receive_json_from(timeout=TIMEOUT))["message"]["text"] == "still here"
        await patient.disconnect()
        await gp.disconnect()

    async_to_sync(scenario)()


def test_a_binary_frame_is_ignored_and_the_peer_stays_in_the_room():
    """A binary frame is malformed input like any other: ignored, not a crash that drops the socket without
    disconnect() (which would leave the peer "connected" for everyone else until the presence timeout)."""
    alpha = make_org("alpha", "Alpha Practice")
    appointment, _consult, _participant, patient_key, gp_key = two_peers(alpha)

    async def scenario():
        gp = socket(staff_path(appointment), "alpha.localhost", gp_key)
        await joined(gp)
        patient = socket("/ws/room/", "alpha.localhost", patient_key)
        await joined(patient)
        await gp.receive_json_from(timeout=TIMEOUT)  # peer-joined
        await patient.send_to(bytes_data=b'{"type": "chat", "text": "binary"}')
        await patient.send_json_to({"type": "chat", "text": "still here"})
        assert (await patient.receive_json_from(timeout=TIMEOUT))["message"]["text"] == "still here"
        assert (await gp.receive_json_from(timeout=TIMEOUT))["message"]["text"] == "still here"
        await patient.disconnect()
        await gp.disconnect()

    async_to_sync(scenario)()


def test_chat_is_stored_and_broadcast_and_an_over_long_message_is_refused():
    alpha = make_org("alpha", "Alpha Practice")
    appointment, consult, participant, patient_key, gp_key = two_peers(alpha)
    gp_id, patient_id = f"m{alpha.people['gp'].pk}", f"p{participant.pk}"

    async def scenario():
        gp = socket(staff_path(appointment), "alpha.localhost", gp_key)
        await joined(gp)
        patient = socket("/ws/room/", "alpha.localhost", patient_key)
        await joined(patient)
        await gp.receive_json_from(timeout=TIMEOUT)  # peer-joined

        await gp.send_json_to({"type": "chat", "text": "  Good morning  "})
        to_gp, to_patient = await gp.receive_json_from(timeout=TIMEOUT), await patient.receive_json_from(
            timeout=TIMEOUT)
        assert to_gp == to_patient
        assert to_gp["type"] == "chat"
        message = to_gp["message"]
        assert (message["from"], message["name"], message["text"]) == (gp_id, "Gp Alpha", "Good morning")
        stored = await db(lambda: list(ConsultMessage.objects.with_scopes_disabled().all()))()
        assert [(m.pk, m.consult_id, m.peer_id, m.text) for m in stored] == [
            (message["id"], consult.pk, gp_id, "Good morning")]
        assert b"Good morning" not in bytes(stored[0].sealed_text)  # sealed at rest

        await patient.send_json_to({"type": "chat", "text": "x" * (room.CHAT_MAX_CHARS + 1)})
        error = await patient.receive_json_from(timeout=TIMEOUT)
        assert error["type"] == "error" and str(room.CHAT_MAX_CHARS) in error["message"]
        assert await gp.receive_nothing(timeout=0.5)
        assert await db(messages)() == [(gp_id, "Good morning")]

        # The longest allowed message goes through, and a newcomer's welcome carries the history.
        await patient.send_json_to({"type": "chat", "text": "y" * room.CHAT_MAX_CHARS})
        assert len((await gp.receive_json_from(timeout=TIMEOUT))["message"]["text"]) == room.CHAT_MAX_CHARS
        await patient.receive_json_from(timeout=TIMEOUT)
        second_gp = socket(staff_path(appointment), "alpha.localhost", gp_key)
        welcome = await joined(second_gp, session="tab-2")
        assert [m["from"] for m in welcome["chat"]] == [gp_id, patient_id]
        for communicator in (patient, gp, second_gp):
            await communicator.disconnect()

    async_to_sync(scenario)()


def test_a_second_socket_of_the_same_person_replaces_the_first_which_then_changes_nothing():
    alpha = make_org("alpha", "Alpha Practice")
    appointment, _consult, participant, patient_key, gp_key = two_peers(alpha)
    patient_id = f"p{participant.pk}"

    async def scenario():
        gp = socket(staff_path(appointment), "alpha.localhost", gp_key)
        await joined(gp)
        first = socket("/ws/room/", "alpha.localhost", patient_key)
        await joined(first, session="old-tab")
        assert (await gp.receive_json_from(timeout=TIMEOUT))["peer"]["session"] == "old-tab"
        first_channel = (await db(presences)())[patient_id].channel_name

        second = socket("/ws/room/", "alpha.localhost", patient_key)
        await joined(second, session="new-tab")
        assert await first.receive_json_from(timeout=TIMEOUT) == {"type": "replaced"}
        closing = await first.receive_output(timeout=TIMEOUT)
        assert closing == {"type": "websocket.close", "code": 4409}
        again = await gp.receive_json_from(timeout=TIMEOUT)
        assert again["type"] == "peer-joined" and again["peer"]["id"] == patient_id
        assert again["peer"]["session"] == "new-tab"

        presence = (await db(presences)())[patient_id]
        assert presence.connected and presence.channel_name not in ("", first_channel)
        second_channel = presence.channel_name

        await first.disconnect()  # the replaced socket goes away: the person is still here
        presence = (await db(presences)())[patient_id]
        assert presence.connected and presence.channel_name == second_channel and presence.left_at is None
        assert await gp.receive_nothing(timeout=0.5)  # no peer-left for the stale socket
        # The gp still reaches the person, on the new socket.
        await gp.send_json_to({"type": "signal", "to": patient_id, "data": {"sdp": "again"}})
        assert (await second.receive_json_from(timeout=TIMEOUT))["data"] == {"sdp": "again"}

        await second.disconnect()  # now they are gone
        assert not (await db(presences)())[patient_id].connected
        assert await gp.receive_json_from(timeout=TIMEOUT) == {"type": "peer-left", "id": patient_id,
                                                                 "final": False}
        await gp.disconnect()

    async_to_sync(scenario)()


def test_ending_the_consult_tells_everyone_and_closes_with_4410():
    alpha = make_org("alpha", "Alpha Practice")
    appointment, consult, _participant, patient_key, gp_key = two_peers(alpha)

    async def scenario():
        gp = socket(staff_path(appointment), "alpha.localhost", gp_key)
        await joined(gp)
        patient = socket("/ws/room/", "alpha.localhost", patient_key)
        await joined(patient)
        await gp.receive_json_from(timeout=TIMEOUT)  # peer-joined

        await db(room.consult_end)(member=alpha.people["gp"], consult=consult)
        for communicator in (patient, gp):
            assert await communicator.receive_json_from(timeout=TIMEOUT) == {"type": "ended"}
            assert await communicator.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4410}
        stored = await db(lambda: Consult.objects.with_scopes_disabled().get(pk=consult.pk))()
        assert stored.status == ConsultStatus.ENDED
        assert not any(p.connected for p in (await db(presences)()).values())
        await patient.disconnect()
        await gp.disconnect()
        # Coming back afterwards: refused.
        assert await closed_with(socket("/ws/room/", "alpha.localhost", patient_key)) == 4403

    async_to_sync(scenario)()


def test_a_chat_flood_is_cut_off_and_stored_only_up_to_the_limit():
    alpha = make_org("alpha", "Alpha Practice")
    appointment, consult, _participant, patient_key, gp_key = two_peers(alpha)

    async def scenario():
        gp = socket(staff_path(appointment), "alpha.localhost", gp_key)
        await joined(gp)
        for number in range(30):
            await gp.send_json_to({"type": "chat", "text": f"spam {number}"})
        answers = [await gp.receive_json_from(timeout=TIMEOUT) for _ in range(30)]
        assert [a["type"] for a in answers].count("chat") <= 12
        assert any(a["type"] == "error" and "too quickly" in a["message"] for a in answers)
        await gp.disconnect()

    async_to_sync(scenario)()
    assert ConsultMessage.objects.with_scopes_disabled().filter(consult=consult).count() <= 12


def test_a_socket_that_never_said_hello_hears_nothing():
    alpha = make_org("alpha", "Alpha Practice")
    appointment, _consult, _participant, patient_key, gp_key = two_peers(alpha)

    async def scenario():
        silent = socket(staff_path(appointment), "alpha.localhost", gp_key)
        connected, _ = await silent.connect()
        assert connected
        patient = socket("/ws/room/", "alpha.localhost", patient_key)
        await joined(patient)
        await patient.send_json_to({"type": "chat", "text": "private"})
        await patient.receive_json_from(timeout=TIMEOUT)
        assert await silent.receive_nothing(timeout=0.3)  # no hello: not in the group, no chat, no captions
        await silent.disconnect()
        await patient.disconnect()

    async_to_sync(scenario)()
