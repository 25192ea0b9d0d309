"""The two-factor gate holds for the staff WebSockets too: they need only a session, so an organisation
requiring two-factor authentication refuses them (4403) until the employee has set it up."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from config.asgi import application
from consult import room
from orgs.models import TwoFactorPolicy
from tests.conftest import make_org, signed_in_client
from tests.consult.test_room_consumers import appointment_now

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 3


def socket(path, session_key):
    headers = [(b"host", b"alpha.localhost"), (b"origin", b"http://alpha.localhost"),
               (b"cookie", f"sessionid={session_key}".encode())]
    return WebsocketCommunicator(application, path, headers=headers)


async def outcome(path, session_key):
    """"open" when the socket is let in and stays open, else the close code."""
    communicator = socket(path, session_key)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    if await communicator.receive_nothing(timeout=1):
        await communicator.disconnect()
        return "open"
    message = await communicator.receive_output(timeout=TIMEOUT)
    await communicator.wait(timeout=TIMEOUT)
    return message.get("code")


def test_staff_sockets_wait_for_two_factor_where_it_is_required():
    alpha = make_org("alpha", "Alpha Practice")
    appointment = appointment_now(alpha)
    room.consult_start(member=alpha.people["gp"], appointment=appointment)
    alpha.two_factor_policy = TwoFactorPolicy.REQUIRED
    alpha.save(update_fields=["two_factor_policy"])
    gp = alpha.people["gp"]
    key = signed_in_client(gp.user, alpha).cookies["sessionid"].value
    paths = ("/ws/waiting/staff/", f"/ws/room/{appointment.pk}/")

    for path in paths:
        assert async_to_sync(outcome)(path, key) == 4403, path

    TOTP.activate(gp.user, generate_totp_secret())
    assert async_to_sync(outcome)(paths[0], key) == "open"

    async def room_welcome():
        communicator = socket(paths[1], key)
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        await communicator.send_json_to({"type": "hello", "session": "tab-1"})
        welcome = await communicator.receive_json_from(timeout=TIMEOUT)
        await communicator.disconnect()
        return welcome["type"]

    assert async_to_sync(room_welcome)() == "welcome"
