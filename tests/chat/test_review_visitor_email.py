"""Security review of the chat (#9), finding 8: the unread email to a website visitor does not greet them with the
name they typed (anyone can start a conversation with any name and address: phishing text under the practice's
brand). A neutral greeting; the conversation link stays. Clients (names the practice keeps) are still greeted."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from chat import services
from tests.chat.core_helpers import book, channel_of, make_client, member, reload, switch

PHISHING = "Your account is locked - call +31 600 000 000 to unlock"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _run_at(moment):
    with time_machine.travel(moment, tick=False):
        return services.unread_notifications_send()


@pytest.mark.django_db
def test_the_visitor_email_greets_neutrally_and_keeps_the_link(alpha):
    switch(alpha, public_chat_widget=True)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        channel, _token = services.public_conversation_start(
            organization=alpha, name=PHISHING, email="victim@example.test", text="Hi", language="en")
    with time_machine.travel(t0 + timedelta(seconds=30), tick=False):
        services.message_post(channel=reload(channel), text="An answer", member=member(alpha, "admin"))
    assert _run_at(t0 + timedelta(minutes=61)) == 1
    [email] = mail.outbox
    html = email.alternatives[0][0]
    for body in (email.body, html):
        assert PHISHING not in body and "+31 600" not in body
        assert "Hello," in body
        assert f"{alpha.base_url}/widgets/chat/" in body
    assert PHISHING not in email.subject


@pytest.mark.django_db
def test_a_client_is_still_greeted_by_name(alpha):
    rosa = make_client(alpha)
    book(alpha, rosa, minutes=700)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        services.message_post(channel=channel_of(alpha, rosa), text="An answer", member=member(alpha, "gp"))
    assert _run_at(t0 + timedelta(minutes=61)) == 1
    [email] = mail.outbox
    assert f"Hello {rosa.display_name}," in email.body
