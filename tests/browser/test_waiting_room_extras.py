"""The waiting room's extras in Chromium over ASGI: the patient accepts the disclaimer, then sees the
organisation's text with its placeholders filled and the live status, and checks their camera (F-ORG-6,
F-TEXT-3, F-WAIT-1); the practitioner's navigation badge counts up live, with the doorbell (F-WAIT-2)."""

import re
import time as time_module
import zoneinfo

import pytest
from playwright.sync_api import expect

from consult import services
from consult.models import WaitingEntry
from orgs.models import Organization
from tests.browser.conftest import login
from tests.consult.test_waiting_consumers import book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def patient_link(asgi_server, participant):
    # Emails name the public port (PUBLIC_PORT); this test's server listens on its own.
    return re.sub(r":\d+/", f":{asgi_server.port}/", services.participant_link(participant), count=1)


def wait_until_everyone_left():
    """The server records closed sockets in the background; let it finish before the database is emptied."""
    deadline = time_module.monotonic() + 10
    while time_module.monotonic() < deadline:
        if not WaitingEntry.objects.with_scopes_disabled().filter(connected=True).exists():
            return
        time_module.sleep(0.05)
    raise AssertionError("the waiting room never noticed the patient leaving")


def test_patient_accepts_the_disclaimer_then_waits_with_the_organisations_text(page, asgi_server, alpha):
    Organization.objects.filter(pk=alpha.pk).update(
        disclaimer_enabled=True, disclaimer_text="This consult is not for emergencies.",
        waiting_room_text_en="Hello *|client_name|*!\n"
                             "*|appointment_welcome_from|* will see you at *|appointment_time|*.",
    )
    appointment, participant = book(alpha)
    start = appointment.starts_at.astimezone(zoneinfo.ZoneInfo(alpha.time_zone))

    page.goto(patient_link(asgi_server, participant))
    expect(page.get_by_role("heading", level=1)).to_have_text("Before you enter the waiting room")
    expect(page.get_by_text("This consult is not for emergencies.")).to_be_visible()
    expect(page.locator("[data-waiting-room]")).to_have_count(0)
    assert not WaitingEntry.objects.with_scopes_disabled().exists()  # not entered before accepting

    page.get_by_role("button", name="I accept").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Waiting room")
    text = page.locator("[data-room-text]")
    expect(text).to_have_text(f"Hello J. Jansen!Dr. Alpha will see you at {start:%H:%M}.")
    expect(text.locator("br")).to_have_count(1)
    expect(page.get_by_text("You are on time. The practitioner will call you in.")).to_be_visible()
    expect(page.locator("[data-waiting-room][data-socket=open]")).to_be_attached()
    assert WaitingEntry.objects.with_scopes_disabled().filter(participant=participant, connected=True).exists()

    # The device check in the waiting room: the (fake) camera shows, the microphone works; closing turns it off.
    toggle = page.get_by_role("button", name="Check my camera and microphone")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator('[data-device="camera"]')).to_have_attribute("data-result", "ok")
    expect(page.locator('[data-device="microphone"]')).to_have_attribute("data-result", "ok")
    expect(page.get_by_label("Your camera")).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-device-preview]').videoWidth > 0", timeout=30_000)
    page.get_by_role("button", name="Play a test sound").click()
    expect(page.get_by_text("Did you hear a tone?")).to_be_visible()
    page.get_by_role("button", name="Close the check (turns the camera off)").click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_label("Your camera")).to_be_hidden()
    assert page.evaluate("document.querySelector('[data-device-preview]').srcObject") is None

    # Being called in goes only to a path on this site.
    checks = page.evaluate("""async () => {
        const { sameOriginPath } = await import(document.querySelector("script[src$='waiting-room.js']").src);
        return ["/c/room/?a=1", "//evil.example/", "/\\\\evil.example/", "https://evil.example/c/room/",
                "javascript:alert(1)", null].map(sameOriginPath);
    }""")
    assert checks == ["/c/room/?a=1", None, None, None, None, None]

    page.context.close()
    wait_until_everyone_left()


def test_practitioners_badge_counts_up_live_with_the_doorbell(context, asgi_server, url_for, alpha):
    # Count the staff sockets the page opens: the badge's is the only one, the list listens to it.
    context.add_init_script("""
        window.__sockets = [];
        const Original = window.WebSocket;
        window.WebSocket = function (url, protocols) {
            window.__sockets.push(url);
            return new Original(url, protocols);
        };
        window.WebSocket.prototype = Original.prototype;
    """)
    practitioner = context.new_page()
    login(practitioner, url_for("alpha", "/accounts/login/"), "gp@alpha.test")
    practitioner.goto(url_for("alpha", "/portal/waiting-room/"))
    badge = practitioner.locator("[data-waiting-badge]")
    expect(practitioner.locator("html[data-waiting-socket=live]")).to_be_attached()
    expect(badge).to_have_attribute("data-count", "0")
    expect(badge).to_be_hidden()
    expect(practitioner.get_by_text("Live")).to_be_visible()
    practitioner.get_by_label("Doorbell sound").check()  # the click browsers need before they play sound
    expect(badge).to_have_attribute("data-chimes", "1")

    _appointment, participant = book(alpha)
    patient = context.browser.new_context(locale="en-GB").new_page()
    patient.goto(patient_link(asgi_server, participant))
    expect(patient.locator("[data-waiting-room][data-socket=open]")).to_be_attached()

    expect(badge).to_have_attribute("data-count", "1")  # no reload
    expect(badge).to_be_visible()
    expect(badge.locator("[data-waiting-count]")).to_have_text("1")
    expect(badge).to_have_attribute("data-chimes", "2")  # the doorbell rang for the arrival
    card = practitioner.locator(".waiting-card")
    expect(card).to_contain_text("J. Jansen")  # the list on this page followed the same socket
    expect(card).to_have_attribute("data-arrival", "on_time")
    staff_sockets = [url for url in practitioner.evaluate("window.__sockets") if url.endswith("/ws/waiting/staff/")]
    assert len(staff_sockets) == 1

    # The choice is remembered: on the next page the toggle is still on.
    practitioner.goto(url_for("alpha", "/portal/"))
    expect(practitioner.get_by_label("Doorbell sound")).to_be_checked()
    expect(badge).to_have_attribute("data-count", "1")

    patient.context.close()
    wait_until_everyone_left()
