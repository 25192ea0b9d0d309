"""The network and hardware check (F-ROOM-11, F-SUPPORT-1) in real Chromium with fake camera and microphone:
camera, microphone, the WebSocket to the server and a WebRTC connection all report that they work."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_check_page_reports_a_working_setup(page, url_for, alpha):
    page.goto(url_for("alpha", "/c/check/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your camera, microphone and connection")
    page.get_by_role("button", name="Start the check").click()
    expect(page.locator("[data-check]")).to_have_attribute("data-done", "ok", timeout=20000)
    for name in ("browser", "camera", "microphone", "server", "webrtc", "screen"):
        expect(page.locator(f'[data-check-item="{name}"]')).to_have_attribute("data-result", "ok")
    expect(page.get_by_role("status").filter(has_text="Everything works")).to_be_visible()
    assert page.evaluate("document.querySelector('[data-preview]').videoWidth") > 0


def test_check_page_needs_no_organisation_or_account(page, url_for, db):
    page.goto(url_for(None, "/c/check/"))
    expect(page.get_by_role("button", name="Start the check")).to_be_visible()
