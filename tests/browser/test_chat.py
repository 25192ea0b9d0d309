"""Continuous chat in real Chromium (F-CHAT-2,4,7): a patient on a phone and the practice's staff on desktops.

1. The patient signs in to the portal (PIN), opens Messages and writes; a department admin who has the channel
   open sees it arrive without reloading and answers; the patient sees the answer the same way. Meanwhile the
   practitioner's top-bar unread badge counts the patient's message. axe-core checks the patient's chat page.
2. From the appointment link, too early for the waiting room, the patient chats too; with the chat socket
   refused the panel still sends (fetch) and receives (polling every 5 s).
"""

import re
import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from chat import services
from chat.models import Author, Message
from chat.sealing import open_text
from consult import links
from consult import services as consult_services
from consult.models import AppointmentParticipant
from orgs.scoping import scopes_disabled
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, login
from tests.browser.test_patient_portal import assert_accessible, phone_context, sign_in
from tests.portal.patient_helpers import make_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Polling runs every 5 s while the socket is down: allow two rounds.
POLLED_MS = 12_000


def off_the_loop(function):
    """Run `function` in a thread of its own. Playwright keeps an event loop running in this thread, and the chat
    services send their channel-layer events with async_to_sync, which refuses to run beside one."""
    box = {}

    def run():
        try:
            with scopes_disabled():
                box["value"] = function()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            box["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def appointment_with_channel(org, client, *, minutes):
    def make():
        appointment = consult_services.appointment_create(
            member=org.people["admin"], client=client, practitioner=org.people["gp"],
            starts_at=timezone.now() + timedelta(minutes=minutes))
        return appointment, services.channel_ensure_for_appointment(appointment=appointment)

    return off_the_loop(make)


def staff_page(browser, url_for, email, path):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    login(page, url_for("alpha", "/accounts/login/"), email)
    page.goto(url_for("alpha", path))
    return page


def panel(page):
    return page.locator("[data-chat]")


def write(page, text):
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()


def stays_loaded(page):
    """Mark the document: a reload or navigation would lose the mark."""
    page.evaluate("() => { window.chatTestMark = 'still here'; }")


def assert_not_reloaded(page):
    assert page.evaluate("() => window.chatTestMark") == "still here"


def stored(channel, author):
    def read():
        return [open_text(m) for m in Message.objects.filter(channel_id=channel.pk, author=author)]

    return off_the_loop(read)


def test_a_patient_and_the_department_admin_chat_live_from_the_portal(browser, asgi_server, url_for, alpha):
    cache.clear()
    client = make_client(alpha)
    _appointment, channel = appointment_with_channel(alpha, client, minutes=2 * 24 * 60)
    channel_path = f"/portal/messages/{channel.pk}/"

    # The practitioner watches their top bar; the department admin has the conversation open.
    practitioner = staff_page(browser, url_for, "gp@alpha.test", "/portal/")
    badge = practitioner.locator(".chat-topbar-link [data-chat-unread]")
    expect(badge).to_be_hidden()
    expect(practitioner.locator("html")).to_have_attribute("data-chat-inbox", "live")
    admin = staff_page(browser, url_for, "deptadmin@alpha.test", channel_path)
    expect(panel(admin)).to_have_attribute("data-chat-socket", "live")
    stays_loaded(admin)

    patient_context = phone_context(browser)
    patient = patient_context.new_page()
    sign_in(patient, url_for, client.email)
    messages_section = patient.locator("section[aria-labelledby=messages-heading]")
    expect(messages_section).to_contain_text("No unread messages.")
    assert_accessible(patient, "portal home with the Messages section")
    messages_section.get_by_role("link", name="Chat with Gp Alpha").click()
    expect(patient.get_by_role("heading", level=1)).to_have_text("Chat with Gp Alpha")
    expect(panel(patient)).to_have_attribute("data-chat-socket", "live")
    expect(patient.get_by_text("Not for emergencies.")).to_be_visible()
    assert_accessible(patient, "patient chat page")
    stays_loaded(patient)

    write(patient, "Hello doctor, see www.example.org/results please")
    mine = panel(patient).locator(".chat-message.is-mine")
    expect(mine).to_contain_text("Hello doctor")
    expect(mine.get_by_role("link", name="www.example.org/results")).to_have_attribute(
        "href", "https://www.example.org/results")
    expect(patient.get_by_label("Your message")).to_have_value("")

    # Live on the admin's open conversation, and counted on the practitioner's top bar, without reloading.
    expect(panel(admin).locator(".chat-message")).to_contain_text(["Hello doctor, see www.example.org/results"])
    assert_not_reloaded(admin)
    expect(badge).to_be_visible()
    expect(badge.locator("[data-chat-unread-count]")).to_have_text("1")

    write(admin, "Hello Rosa, the results look fine.")
    answer = panel(patient).locator(".chat-message:not(.is-mine)")
    expect(answer).to_contain_text("Hello Rosa, the results look fine.")
    expect(answer).to_contain_text("Deptadmin Alpha")
    assert_not_reloaded(patient)
    assert_accessible(patient, "patient chat page with messages")

    assert stored(channel, Author.CLIENT) == ["Hello doctor, see www.example.org/results please"]
    assert stored(channel, Author.STAFF) == ["Hello Rosa, the results look fine."]


def test_chat_from_an_early_link_still_works_with_the_socket_blocked(browser, asgi_server, url_for, alpha):
    cache.clear()
    alpha.chat_in_waiting_room = True
    alpha.save()
    client = make_client(alpha)
    appointment, channel = appointment_with_channel(alpha, client, minutes=3 * 60)

    def link_path():
        participant = AppointmentParticipant.objects.get(appointment=appointment, role="client")
        return f"/c/{links.token_for(participant.token_nonce)}/"

    path = off_the_loop(link_path)
    admin = staff_page(browser, url_for, "deptadmin@alpha.test", f"/portal/messages/{channel.pk}/")
    expect(panel(admin)).to_have_attribute("data-chat-socket", "live")

    patient_context = phone_context(browser)
    patient = patient_context.new_page()
    refused = []

    def refuse(socket):  # the chat socket is refused: a hospital proxy that passes no WebSockets
        refused.append(socket.url)
        socket.close()

    patient.route_web_socket(re.compile(r"/ws/chat/"), refuse)
    patient.goto(url_for("alpha", path))
    expect(patient.get_by_role("heading", level=1)).to_have_text("You are early")
    expect(patient.get_by_role("heading", name="Messages")).to_be_visible()
    expect(patient.get_by_text("Not for emergencies.")).to_be_visible()
    assert_accessible(patient, "too-early page with chat")
    stays_loaded(patient)

    # Sent by fetch (the socket is down), arriving live at the admin's.
    write(patient, "Can I come in a bit earlier?")
    expect(panel(patient).locator(".chat-message.is-mine")).to_contain_text("Can I come in a bit earlier?")
    expect(panel(admin).locator(".chat-message")).to_contain_text(["Can I come in a bit earlier?"])
    assert refused, "the chat socket was never tried"

    # The answer reaches the patient by polling.
    write(admin, "Yes, from 14:30 the waiting room is open for you.")
    expect(panel(patient).locator(".chat-message:not(.is-mine)")).to_contain_text(
        "Yes, from 14:30", timeout=POLLED_MS)
    assert_not_reloaded(patient)
    with_appointment = off_the_loop(lambda: list(Message.objects.filter(
        channel_id=channel.pk, author=Author.CLIENT).values_list("appointment_id", flat=True)))
    assert with_appointment == [appointment.pk]
