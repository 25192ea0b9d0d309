"""Security review of the chat (#9), the sockets (the real ASGI application).

Finding 5: socket posts count in the same limit (portal/throttle.hit, same key and limit) as the HTTP post view of
the same kind of viewer (portal and appointment link: views_patient; widget visitor: views_widget), so opening new
sockets does not get round it; a limited send answers {"type": "error", "message": "…try again in a minute."}.
Finding 6: the staff inbox socket re-checks the session and membership for every event and closes when they fail.
"""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache

from chat import services
from chat.access import POST_LIMIT, POSTS_PER_CONVERSATION
from chat.models import Author, Message
from orgs.models import Membership
from orgs.scoping import scopes_disabled
from tests.chat.test_consumers import (
    appointment,
    channel_with,
    client_of,
    link_key,
    participant,
    path_of,
    portal_key,
    socket,
    staff_key,
    staff_post,
    switch,
)
from tests.conftest import host_client, make_org

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 3
LIMITED = "try again in a minute"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


async def _flood(path, host, key=None, *, sockets, sends, hello=None):
    """Open `sockets` fresh sockets one after another, each sending `sends` messages; the answers' types and
    how many said the limit was reached."""
    limited = 0
    for _round in range(sockets):
        sock = socket(path, host, key)
        connected, _ = await sock.connect(timeout=TIMEOUT)
        assert connected
        if hello:
            await sock.send_json_to({"type": "hello", "token": hello})
        for _n in range(sends):
            await sock.send_json_to({"type": "send", "text": "spam"})
            answer = await sock.receive_json_from(timeout=TIMEOUT)
            limited += answer["type"] == "error" and LIMITED in answer["message"]
        await sock.disconnect()
    return limited


def _stored(channel, author):
    with scopes_disabled():
        return Message.objects.filter(channel=channel, author=author).count()


def test_patient_socket_posts_share_the_http_posting_limit():
    """Each socket has its own token bucket (burst 5): without the shared limit, fresh sockets post without end."""
    alpha = make_org("alpha", "Alpha Practice")
    rosa = client_of(alpha)
    channel = channel_with(alpha, rosa)
    key = portal_key(alpha, rosa)
    limited = async_to_sync(_flood)(path_of(channel), "alpha.localhost", key, sockets=8, sends=5)
    assert _stored(channel, Author.CLIENT) == POST_LIMIT
    assert limited == 8 * 5 - POST_LIMIT


def test_link_socket_and_http_posts_count_together():
    """The appointment link's HTTP posts (/c/chat/) and its socket's posts are one limit."""
    alpha = make_org("alpha", "Alpha Practice")
    switch(alpha, chat_in_waiting_room=True)
    rosa = client_of(alpha)
    booked = appointment(alpha, rosa, minutes=5)
    with scopes_disabled():
        channel = services.channel_ensure_for_appointment(appointment=booked)
    key = link_key(alpha, participant(booked, "client"))
    browser = host_client(alpha)
    browser.cookies["sessionid"] = key
    for _n in range(POST_LIMIT):
        assert browser.post("/c/chat/", {"text": "by form"}, HTTP_ACCEPT="application/json").status_code == 201
    limited = async_to_sync(_flood)(path_of(channel), "alpha.localhost", key, sockets=1, sends=1)
    assert limited == 1 and _stored(channel, Author.CLIENT) == POST_LIMIT


def test_visitor_sockets_share_the_widget_posting_limit():
    alpha = make_org("alpha", "Alpha Practice")
    switch(alpha, public_chat_widget=True)
    alpha.public_chat_widget = True
    with scopes_disabled():
        channel, token = services.public_conversation_start(
            organization=alpha, name="Vera Visitor", email="", text="Do you take new patients?", language="en")
    limited = async_to_sync(_flood)(path_of(channel), "alpha.localhost", sockets=3, sends=5, hello=token)
    assert _stored(channel, Author.VISITOR) == 1 + POSTS_PER_CONVERSATION  # the first question, then the limit
    assert limited == 3 * 5 - POSTS_PER_CONVERSATION


def _signed_out(key):
    SessionStore(session_key=key).delete()


def _deactivated(org, key):
    Membership.objects.with_scopes_disabled().filter(pk=org.people[key].pk).update(is_active=False)


@pytest.mark.parametrize("lose_access", ["signed out", "deactivated"])
def test_inbox_socket_stops_when_the_employee_may_no_longer_listen(lose_access):
    """The inbox socket used to check the session only when it opened: after a sign-out (or expiry, or the
    membership's end) it kept hearing every chat change of the organisation."""
    alpha = make_org("alpha", "Alpha Practice")
    channel = channel_with(alpha, client_of(alpha))
    key = staff_key(alpha, "gp")

    async def scenario():
        sock = socket("/ws/chat/inbox/", "alpha.localhost", key)
        connected, _ = await sock.connect(timeout=TIMEOUT)
        assert connected
        await database_sync_to_async(staff_post)(alpha, channel, "first", who="deptadmin")
        assert await sock.receive_json_from(timeout=TIMEOUT) == {"type": "changed"}  # still allowed: hears
        if lose_access == "signed out":
            await database_sync_to_async(_signed_out)(key)
        else:
            await database_sync_to_async(_deactivated)(alpha, "gp")
        await database_sync_to_async(staff_post)(alpha, channel, "second", who="deptadmin")
        output = await sock.receive_output(timeout=TIMEOUT)
        await sock.disconnect()
        return output

    output = async_to_sync(scenario)()
    assert output["type"] == "websocket.close" and output["code"] == 4403, output
