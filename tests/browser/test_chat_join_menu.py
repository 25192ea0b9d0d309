"""Live review of the staff chat (#9) in Chromium: a practitioner of another department finds, in the client
list, the menu to join a colleague's chat (or create their own); by keyboard, axe-clean, and "Join" leads to the
conversation."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, login
from tests.browser.test_chat import appointment_with_channel
from tests.browser.test_patient_portal import assert_accessible
from tests.portal.patient_helpers import make_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_join_a_colleagues_chat_from_the_client_list(browser, asgi_server, url_for, alpha):
    rosa = make_client(alpha)
    _appointment, channel = appointment_with_channel(alpha, rosa, minutes=2 * 24 * 60)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    login(page, url_for("alpha", "/accounts/login/"), "physio@alpha.test")
    page.goto(url_for("alpha", "/portal/clients/"))
    menu = page.locator("details.chat-icon-menu")
    expect(menu).to_have_count(1)
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    join = menu.get_by_role("button", name="Join Gp Alpha's chat")
    expect(join).to_be_visible()
    expect(menu.get_by_role("button", name="Create chat channel with Physio Alpha")).to_be_visible()
    assert_accessible(page, "client list with a join menu")
    join.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(url_for("alpha", f"/portal/messages/{channel.pk}/"))
    expect(page.get_by_text("You have joined the chat with")).to_be_visible()
    context.close()
