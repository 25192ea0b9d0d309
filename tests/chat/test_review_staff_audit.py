"""Security review of the chat (#9), finding 2: every staff read of a channel's history is audited, also through
the updates JSON (views_staff.channel_updates), not only the page."""

import pytest
from django.core.cache import cache

from chat import services
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from tests.chat.core_helpers import book, channel_of, make_client
from tests.conftest import signed_in_client


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _views_of(org, channel):
    with scopes_disabled():
        return AuditEvent.objects.filter(organization=org, action="chat.view", target_id=str(channel.pk)).count()


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?after=0", "", "?after=x"])
def test_staff_updates_json_is_an_audited_read(alpha, query):
    """The updates URL without a (valid) `after` returns the channel's history (up to 200 messages) without the
    page ever being opened: it writes the same "chat.view" row as the page."""
    rosa = make_client(alpha)
    book(alpha, rosa)
    channel = channel_of(alpha, rosa)
    services.message_post(channel=channel, text="My test results worry me", client=rosa)
    browser = signed_in_client(alpha.people["gp"].user, alpha)
    data = browser.get(f"/portal/messages/{channel.pk}/updates/{query}").json()
    assert [m["text"] for m in data["messages"]] == ["My test results worry me"]
    assert _views_of(alpha, channel) == 1, "a staff read of chat text through the updates JSON left no audit row"


@pytest.mark.django_db
def test_polling_for_new_messages_is_not_a_history_read(alpha):
    """Polling with after=<newest id> every 5 s is the open page continuing: no row per poll."""
    rosa = make_client(alpha)
    book(alpha, rosa)
    channel = channel_of(alpha, rosa)
    first = services.message_post(channel=channel, text="Hello", client=rosa)
    browser = signed_in_client(alpha.people["gp"].user, alpha)
    assert browser.get(f"/portal/messages/{channel.pk}/updates/?after={first.pk}").json()["messages"] == []
    assert _views_of(alpha, channel) == 0
