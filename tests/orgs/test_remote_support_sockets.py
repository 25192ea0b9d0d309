"""Remote support on the staff WebSockets (F-ORG-10): the socket sees the session's support marks like a page
does. Watching the waiting room is fine; joining a consult (a patient-facing live action) is refused, and a
session past its time limit opens nothing."""

import pytest
from asgiref.sync import async_to_sync

from accounts.models import User
from tests.conftest import make_org
from tests.consult.test_room_consumers import appointment_now, closed_with, socket, staff_path, start
from tests.orgs.test_remote_support import support_client

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 3


def support_session(org, key, minutes=60):
    staff = User.objects.create_superuser(email="staff@platform.test", password="correct-horse-battery-staple")
    org.allow_remote_support = True
    org.save()
    return support_client(org, org.people[key], staff, minutes=minutes).cookies["sessionid"].value


async def accepted(communicator):
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert await communicator.receive_nothing(timeout=0.5), "closed at once"
    await communicator.disconnect()
    return True


def test_support_watches_the_waiting_room_but_joins_no_consult():
    alpha = make_org("alpha", "Alpha Practice")
    appointment = appointment_now(alpha)
    start(alpha, appointment)
    key = support_session(alpha, "gp")

    async def scenario():
        assert await accepted(socket("/ws/waiting/staff/", "alpha.localhost", key))
        assert await closed_with(socket(staff_path(appointment), "alpha.localhost", key)) == 4403

    async_to_sync(scenario)()


def test_a_support_session_past_its_time_opens_no_socket():
    alpha = make_org("alpha", "Alpha Practice")
    key = support_session(alpha, "gp", minutes=-1)  # ended a minute ago; no page request has ended it yet

    async def scenario():
        assert await closed_with(socket("/ws/waiting/staff/", "alpha.localhost", key)) == 4403

    async_to_sync(scenario)()
