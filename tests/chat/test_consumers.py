"""The chat's WebSockets (/ws/chat/<id>/, /ws/chat/inbox/) through the real ASGI application (config.asgi: origin
check, sessions, auth, URL router) and the configured channel layer (in-memory; Redis with REDIS_URL).

Access: another organisation's host, another client's portal session, a revoked client, a guest's link session,
no session at all, a staff member of another department under strict segregation and a wrong visitor token are
refused with 4403; a revocation while connected says why, then closes. Traffic: staff → client and client →
staff arrive live with "mine" per viewer, a closed channel refuses "send" with a clear error, a visitor's hello
opens their public channel, and org A's inbox socket never hears about org B.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.utils import timezone

from chat import services
from chat.models import Author, Channel, Message
from chat.sealing import open_text
from config.asgi import application
from consult import services as consult_services
from consult.models import AppointmentParticipant
from orgs.models import Organization
from orgs.scoping import scopes_disabled
from portal import patient_session
from tests.conftest import host_client, make_org, signed_in_client

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 3
XSS = '<script>alert(1)</script><img src=x onerror=alert(2)> javascript:alert(3) "><svg onload=alert(4)>'


# --- the situation ----------------------------------------------------------------------------------

def client_of(org, last_name="Verhoeven", department="gp"):
    with scopes_disabled():
        return consult_services.client_create(
            member=org.people["admin"], initials="R.", first_name="Rosa", last_name=last_name,
            email=f"{last_name.lower()}@example.test", language="en", department=org.departments_by_name[department])


def appointment(org, client, *, minutes=10, guests=()):
    with scopes_disabled():
        return consult_services.appointment_create(
            member=org.people["admin"], client=client, practitioner=org.people["gp"], guests=list(guests),
            starts_at=timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=minutes))


def channel_with(org, client, **booking):
    """The gp's channel with `client`, made as booking an appointment makes it."""
    with scopes_disabled():
        return services.channel_ensure_for_appointment(appointment=appointment(org, client, **booking))


def staff_key(org, key):
    return signed_in_client(org.people[key].user, org).cookies["sessionid"].value


def portal_key(org, *clients):
    """A patient-portal session for `clients`, started as the PIN sign-in starts it."""
    store = SessionStore()
    patient_session.sign_in(SimpleNamespace(user=AnonymousUser(), session=store, organization=org),
                            [c.pk for c in clients])
    store.save()
    return store.session_key


def link_key(org, participant):
    """Open the personal appointment link like a browser does; the session now holds the participant."""
    browser = host_client(org)
    browser.get(consult_services.participant_link(participant).split(":8000", 1)[1])
    return browser.cookies["sessionid"].value


def participant(appointment_, role):
    with scopes_disabled():
        return AppointmentParticipant.objects.filter(appointment=appointment_, role=role).first()


def switch(org, **fields):
    Organization.objects.filter(pk=org.pk).update(**fields)


def socket(path, host, session_key=None):
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def path_of(channel):
    return f"/ws/chat/{channel.pk}/"


async def let_in(communicator):
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert await communicator.receive_nothing(timeout=0.3), "a socket that was let in must stay open"
    return communicator


async def closed_code(communicator, *, opened=True):
    """Accepted, then closed at once with a reason code the page understands: that code."""
    if opened:
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
    message = await communicator.receive_output(timeout=TIMEOUT)
    await communicator.wait()
    return message.get("code"), message


async def next_json(communicator):
    return await communicator.receive_json_from(timeout=TIMEOUT)


def staff_post(org, channel, text, who="gp"):
    with scopes_disabled():
        return services.message_post(channel=channel, text=text, member=org.people[who])


# --- who may listen --------------------------------------------------------------------------------

def test_staff_and_client_hear_each_other_live_each_with_their_own_mine():
    alpha = make_org("alpha", "Alpha Practice")
    rosa = client_of(alpha)
    channel = channel_with(alpha, rosa)
    gp, patient = staff_key(alpha, "gp"), portal_key(alpha, rosa)

    async def scenario():
        staff = await let_in(socket(path_of(channel), "alpha.localhost", gp))
        client = await let_in(socket(path_of(channel), "alpha.localhost", patient))

        await staff.send_json_to({"type": "send", "text": "  How are you today?  "})
        for listener, mine in ((staff, True), (client, False)):
            event = await next_json(listener)
            assert event["type"] == "message"
            message = event["message"]
            assert message["text"] == "How are you today?" and message["author"] == "staff"
            assert message["mine"] is mine and message["sender"] == "Gp Alpha"
            assert message["time"] == message["at"][11:16]

        await client.send_json_to({"type": "send", "text": XSS})
        for listener, mine in ((client, True), (staff, False)):
            message = (await next_json(listener))["message"]
            # The JSON carries the text as text (the pages put it in with textContent); never markup.
            assert message["text"] == XSS and message["author"] == "client" and message["mine"] is mine
            assert set(message) == {"id", "text", "author", "sender", "mine", "at", "time"}

        await client.send_json_to({"type": "send", "text": "   "})
        assert await next_json(client) == {"type": "error", "message": "Type a message first."}
        await client.send_json_to({"type": "read"})
        await staff.send_json_to({"type": "read"})
        await staff.send_to(text_data="{not json")  # garbage is ignored, the socket stays up
        await staff.send_json_to(["not", "a", "dict"])
        assert await staff.receive_nothing(timeout=0.3)
        await staff.disconnect()
        await client.disconnect()

    async_to_sync(scenario)()
    with scopes_disabled():
        stored = list(Message.objects.filter(channel=channel).order_by("pk"))
        assert [(m.author, open_text(m)) for m in stored] == [
            (Author.STAFF, "How are you today?"), (Author.CLIENT, XSS)]
        assert Channel.objects.get(pk=channel.pk).client_read_at is not None


def test_sockets_that_may_not_listen_are_refused_with_4403():
    alpha = make_org("alpha", "Alpha Practice")
    make_org("beta", "Beta Clinic")
    rosa, other = client_of(alpha), client_of(alpha, "Jansen")
    channel = channel_with(alpha, rosa, minutes=24 * 60)
    others_channel = channel_with(alpha, other, minutes=26 * 60)
    with scopes_disabled():
        guest = consult_services.client_create(member=alpha.people["admin"], is_external=True, initials="K.",
                                               first_name="Kim", last_name="Guest", email="kim@example.test",
                                               language="en")
    switch(alpha, chat_in_waiting_room=True)
    booked = appointment(alpha, rosa, minutes=5, guests=[guest])
    guest_key = link_key(alpha, participant(booked, "guest"))
    keys = {
        "patient": portal_key(alpha, rosa), "other client": portal_key(alpha, other), "gp": staff_key(alpha, "gp"),
        "physio": staff_key(alpha, "physio"),
    }

    async def refused(path, host, key):
        code, _ = await closed_code(socket(path, host, key))
        return code

    async def scenario():
        # no session at all, and a session that holds nothing
        assert await refused(path_of(channel), "alpha.localhost", None) == 4403
        assert await refused(path_of(channel), "alpha.localhost", "nothing") == 4403
        # alpha's patient and practitioner on beta's host (the sessions are alpha's)
        assert await refused(path_of(channel), "beta.localhost", keys["patient"]) == 4403
        assert await refused(path_of(channel), "beta.localhost", keys["gp"]) == 4403
        # another client's channel, from a signed-in client of the same practice
        assert await refused(path_of(channel), "alpha.localhost", keys["other client"]) == 4403
        assert await refused(path_of(others_channel), "alpha.localhost", keys["patient"]) == 4403
        # a guest's link session (an extra participant, not the client): the conversation is the client's
        assert await refused(path_of(channel), "alpha.localhost", guest_key) == 4403
        # an id that is no channel; the inbox is staff only
        assert await refused("/ws/chat/999999/", "alpha.localhost", keys["gp"]) == 4403
        assert await refused("/ws/chat/inbox/", "alpha.localhost", keys["patient"]) == 4403
        assert await refused("/ws/chat/inbox/", "alpha.localhost", None) == 4403
        assert await refused("/ws/chat/inbox/", "beta.localhost", keys["gp"]) == 4403
        # A physiotherapist is no colleague of the GP's department …
        assert await refused(path_of(channel), "alpha.localhost", keys["physio"]) == 4403

    async_to_sync(scenario)()
    # … unless they join the channel; which counts only while departments are not strictly segregated.
    with scopes_disabled():
        services.channel_join(member=alpha.people["physio"], channel=channel)

    async def joined_physio_let_in():
        await (await let_in(socket(path_of(channel), "alpha.localhost", keys["physio"]))).disconnect()

    async_to_sync(joined_physio_let_in)()
    switch(alpha, strict_departments=True)
    assert async_to_sync(refused)(path_of(channel), "alpha.localhost", keys["physio"]) == 4403
    # A revoked client is refused from the start.
    with scopes_disabled():
        services.chat_access_set(member=alpha.people["deptadmin"], channel=channel, allowed=False)
    assert async_to_sync(refused)(path_of(channel), "alpha.localhost", keys["patient"]) == 4403


def test_the_appointments_client_chats_from_the_link_only_when_the_switch_is_on():
    alpha = make_org("alpha", "Alpha Practice")
    rosa = client_of(alpha)
    booked = appointment(alpha, rosa, minutes=3 * 60)  # early: chat works whichever the moment
    with scopes_disabled():
        channel = services.channel_ensure_for_appointment(appointment=booked)
    key = link_key(alpha, participant(booked, "client"))

    async def refused():
        code, _ = await closed_code(socket(path_of(channel), "alpha.localhost", key))
        return code

    assert async_to_sync(refused)() == 4403

    switch(alpha, chat_in_waiting_room=True)

    async def scenario():
        client = await let_in(socket(path_of(channel), "alpha.localhost", key))
        await client.send_json_to({"type": "send", "text": "I am a bit early"})
        message = (await next_json(client))["message"]
        assert message["mine"] is True and message["author"] == "client"
        await database_sync_to_async(staff_post)(alpha, channel, "No problem")
        message = (await next_json(client))["message"]
        assert message["text"] == "No problem" and message["mine"] is False
        await client.disconnect()

    async_to_sync(scenario)()
    with scopes_disabled():
        sent = Message.objects.get(channel=channel, author=Author.CLIENT)
    assert sent.appointment_id == booked.pk  # sent from the waiting room: retention after the consult applies


def test_a_revoked_client_is_told_why_and_disconnected_and_a_closed_channel_refuses_send():
    alpha = make_org("alpha", "Alpha Practice")
    rosa = client_of(alpha)
    channel = channel_with(alpha, rosa)
    patient = portal_key(alpha, rosa)

    async def closed_then_send():
        client = await let_in(socket(path_of(channel), "alpha.localhost", patient))
        await database_sync_to_async(Channel.objects.with_scopes_disabled().filter(pk=channel.pk).update)(
            closed_at=timezone.now())
        await client.send_json_to({"type": "send", "text": "Still there?"})
        error = await next_json(client)
        assert error["type"] == "error" and "closed" in error["message"]
        return client

    async def revoked(client):
        def revoke():
            with scopes_disabled():
                services.chat_access_set(member=alpha.people["deptadmin"], channel=channel, allowed=False)

        await database_sync_to_async(revoke)()
        event = await next_json(client)
        assert event["type"] == "access" and event["open"] is False
        assert "stopped chat for you" in event["reason"]
        code, _ = await closed_code(client, opened=False)
        assert code == 4403
        # Nobody writes to a revoked client any more (policy.can_post_in_channel), not even through the service.
        with pytest.raises(ValidationError):
            await database_sync_to_async(staff_post)(alpha, channel, "After the revocation")

    async def scenario():
        client = await closed_then_send()
        await revoked(client)

    async_to_sync(scenario)()
    with scopes_disabled():
        assert not Message.objects.filter(channel=channel, author=Author.CLIENT).exists()


def test_a_signed_out_patient_hears_nothing_more():
    alpha = make_org("alpha", "Alpha Practice")
    rosa = client_of(alpha)
    channel = channel_with(alpha, rosa)
    patient = portal_key(alpha, rosa)

    async def scenario():
        client = await let_in(socket(path_of(channel), "alpha.localhost", patient))
        await database_sync_to_async(lambda: SessionStore(patient).delete())()  # signed out in another tab
        await database_sync_to_async(staff_post)(alpha, channel, "Your results are in")
        event = await next_json(client)
        assert event["type"] == "access" and event["open"] is False  # never the message
        code, _ = await closed_code(client, opened=False)
        assert code == 4403

    async_to_sync(scenario)()


def test_a_visitor_opens_their_public_channel_with_hello_and_hears_the_answer():
    alpha = make_org("alpha", "Alpha Practice")
    switch(alpha, public_chat_widget=True)
    alpha.public_chat_widget = True
    with scopes_disabled():
        channel, token = services.public_conversation_start(
            organization=alpha, name="Vera Visitor", email="", text="Do you take new patients?", language="en")
    deptadmin = staff_key(alpha, "deptadmin")

    async def scenario():
        wrong = socket(path_of(channel), "alpha.localhost")
        await let_in(wrong)
        await wrong.send_json_to({"type": "hello", "token": "not-the-token"})
        code, _ = await closed_code(wrong, opened=False)
        assert code == 4403

        silent = socket(path_of(channel), "alpha.localhost")
        await let_in(silent)
        await silent.send_json_to({"type": "send", "text": "no hello first"})  # ignored: nobody yet
        assert await silent.receive_nothing(timeout=0.3)
        await silent.disconnect()

        visitor = socket(path_of(channel), "alpha.localhost")
        await let_in(visitor)
        await visitor.send_json_to({"type": "hello", "token": token})
        staff = await let_in(socket(path_of(channel), "alpha.localhost", deptadmin))  # department admins answer
        await staff.send_json_to({"type": "send", "text": "Yes, we do"})
        for listener, mine in ((visitor, False), (staff, True)):
            message = (await next_json(listener))["message"]
            assert message["text"] == "Yes, we do" and message["mine"] is mine
        await visitor.send_json_to({"type": "send", "text": "Thanks"})
        message = (await next_json(visitor))["message"]
        assert message["author"] == "visitor" and message["mine"] is True and message["sender"] == "Vera Visitor"
        await visitor.disconnect()
        await staff.disconnect()

    async_to_sync(scenario)()


def test_the_inbox_socket_hears_its_own_organisation_only():
    alpha, beta = make_org("alpha", "Alpha Practice"), make_org("beta", "Beta Clinic")
    alpha_channel, beta_channel = channel_with(alpha, client_of(alpha)), channel_with(beta, client_of(beta))
    alpha_gp = staff_key(alpha, "gp")

    async def scenario():
        inbox = await let_in(socket("/ws/chat/inbox/", "alpha.localhost", alpha_gp))
        await database_sync_to_async(staff_post)(beta, beta_channel, "Beta's business")
        assert await inbox.receive_nothing(timeout=0.5)
        await database_sync_to_async(staff_post)(alpha, alpha_channel, "Alpha's business")
        assert await next_json(inbox) == {"type": "changed"}
        await inbox.disconnect()

    async_to_sync(scenario)()


def test_sending_too_fast_is_refused_with_a_clear_error(monkeypatch):
    # The send bucket refills at one a second: on a busy machine eight posts can take long enough to earn new
    # tokens. Without refill the sixth post is over the burst of five whatever the machine's speed.
    from chat import consumers
    from consult.consumers.room import TokenBucket

    monkeypatch.setattr(consumers, "TokenBucket", lambda rate, burst: TokenBucket(rate=0, burst=burst))
    alpha = make_org("alpha", "Alpha Practice")
    channel = channel_with(alpha, client_of(alpha))
    gp = staff_key(alpha, "gp")

    async def scenario():
        staff = await let_in(socket(path_of(channel), "alpha.localhost", gp))
        errors = 0
        for number in range(8):
            await staff.send_json_to({"type": "send", "text": f"message {number}"})
        while not await staff.receive_nothing(timeout=0.5):
            event = await next_json(staff)
            errors += event["type"] == "error" and "too quickly" in event["message"]
        assert errors == 3
        await staff.disconnect()

    async_to_sync(scenario)()
    with scopes_disabled():
        assert Message.objects.filter(channel=channel).count() == 5


def test_staff_panels_follow_revocation_and_a_deleted_history():
    alpha = make_org("alpha", "Alpha Practice")
    rosa = client_of(alpha)
    channel = channel_with(alpha, rosa)
    staff_post(alpha, channel, "Before")
    gp = staff_key(alpha, "gp")

    def as_deptadmin(action, **kwargs):
        with scopes_disabled():
            return action(member=alpha.people["deptadmin"], channel=channel, **kwargs)

    async def scenario():
        staff = await let_in(socket(path_of(channel), "alpha.localhost", gp))
        await database_sync_to_async(as_deptadmin)(services.history_delete)
        event = await next_json(staff)
        assert event == {"type": "access", "open": True, "reason": "", "empty": True}

        await database_sync_to_async(as_deptadmin)(services.chat_access_set, allowed=False)
        event = await next_json(staff)
        assert event["type"] == "access" and event["open"] is False and "revoked" in event["reason"]
        # The staff page's rule holds on the socket too: nobody writes to a client who cannot read it.
        await staff.send_json_to({"type": "send", "text": "Hello?"})
        error = await next_json(staff)
        assert error["type"] == "error" and "revoked" in error["message"]
        await staff.disconnect()

    async_to_sync(scenario)()
    with scopes_disabled():
        assert not Message.objects.filter(channel=channel).exists()
