"""Live review of the chat (#9): when the practice stops a client's chat while the page is open, the panel says
why and nothing else: no "No live connection…" line beside it (it contradicted the notice) and no more polling
(nothing new can come). Both ways the news arrives: over the socket, and by polling with the socket refused."""

import re
import time

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from chat import services
from tests.browser.test_chat import appointment_with_channel, off_the_loop, panel
from tests.browser.test_patient_portal import phone_context, sign_in
from tests.portal.patient_helpers import make_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

STOPPED = "Your practice has stopped chat for you."
OFFLINE = "No live connection."
# Polling runs every 5 s while the socket is down: allow two rounds.
POLLED_MS = 12_000


def revoke(org, channel):
    off_the_loop(lambda: services.chat_access_set(member=org.people["admin"], channel=channel, allowed=False))


def patient_on_chat(browser, url_for, client, channel, *, refuse_socket):
    page = phone_context(browser).new_page()
    if refuse_socket:  # a hospital proxy that passes no WebSockets
        page.route_web_socket(re.compile(r"/ws/chat/"), lambda socket: socket.close())
    sign_in(page, url_for, client.email)
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "/updates/" in request.url else None)
    page.goto(url_for("alpha", f"/patient/messages/{channel.pk}/"))
    return page, polls


def assert_stopped_quietly(page, polls):
    closed = panel(page).locator("[data-chat-closed]")
    expect(closed).to_contain_text(STOPPED, timeout=POLLED_MS)
    expect(panel(page).locator("[data-chat-connection]")).to_be_hidden()
    expect(page.get_by_text(OFFLINE)).to_have_count(0)
    asked = len(polls)
    time.sleep(6)  # longer than a polling round
    assert len(polls) == asked, "the panel kept polling a chat that was stopped"
    expect(panel(page).locator("[data-chat-connection]")).to_be_hidden()


def test_a_revocation_over_the_socket_ends_the_connection_line_and_polling(browser, asgi_server, url_for, alpha):
    cache.clear()
    client = make_client(alpha)
    _appointment, channel = appointment_with_channel(alpha, client, minutes=2 * 24 * 60)
    page, polls = patient_on_chat(browser, url_for, client, channel, refuse_socket=False)
    expect(panel(page)).to_have_attribute("data-chat-socket", "live")
    revoke(alpha, channel)
    assert_stopped_quietly(page, polls)
    page.context.close()


def test_a_revocation_found_by_polling_ends_the_connection_line_and_polling(browser, asgi_server, url_for, alpha):
    cache.clear()
    client = make_client(alpha)
    _appointment, channel = appointment_with_channel(alpha, client, minutes=2 * 24 * 60)
    page, polls = patient_on_chat(browser, url_for, client, channel, refuse_socket=True)
    expect(panel(page).locator("[data-chat-connection]")).to_contain_text(OFFLINE)
    revoke(alpha, channel)
    assert_stopped_quietly(page, polls)
    page.context.close()


def test_a_page_opened_after_the_revocation_does_not_poll(browser, asgi_server, url_for, alpha):
    cache.clear()
    client = make_client(alpha)
    _appointment, channel = appointment_with_channel(alpha, client, minutes=2 * 24 * 60)
    revoke(alpha, channel)
    page, polls = patient_on_chat(browser, url_for, client, channel, refuse_socket=True)
    assert_stopped_quietly(page, polls)
    page.context.close()
