"""The staff side of chat in real Chromium (F-CHAT-1, 2, 3): the messages page, a channel, the client list's
icons and the client record's chat section pass axe-core on a desktop and a phone, the several-channels menu
opens by keyboard, and "Delete history" asks before it deletes."""

import pytest
from playwright.sync_api import expect

from chat.models import Author
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, login
from tests.browser.test_chat import appointment_with_channel, off_the_loop, stored
from tests.browser.test_patient_portal import assert_accessible
from tests.portal.patient_helpers import make_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def check(page, label):
    """axe-core, and nothing wider than the screen (also on a phone: the portal's grid no longer lets the
    sidebar's one-line menu widen it)."""
    assert_accessible(page, label)


def staff(browser, url_for, email, viewport):
    # bypass_csp: axe is injected as an inline script, which the pages' Content-Security-Policy refuses.
    context = browser.new_context(viewport=viewport, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    login(page, url_for("alpha", "/accounts/login/"), email)
    return page


def test_portal_pages_fit_a_phone_screen(browser, asgi_server, url_for, alpha):
    """The sidebar's one-line menu scrolls inside itself instead of widening the page (static/css/app.css)."""
    page = staff(browser, url_for, "admin@alpha.test", {"width": 390, "height": 844})
    for path in ("/portal/profile/", "/portal/messages/", "/portal/"):
        page.goto(url_for("alpha", path))
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a 390px screen"
    # The top bar stays one row: the language switch moves from it into the account menu, and works there.
    bar = page.locator("header.topbar").bounding_box()
    assert bar["height"] < 80, f"the top bar is {bar['height']}px high on a phone"
    expect(page.locator("header.topbar .language-switch-topbar")).to_be_hidden()
    page.locator(".user-menu summary").click()
    page.locator("#language-select-menu").select_option("nl")
    page.locator(".user-menu-language [type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    page.context.close()


def test_staff_chat_pages_are_accessible_and_delete_asks_first(browser, asgi_server, url_for, alpha):
    from chat import services

    rosa = make_client(alpha)
    piet = make_client(alpha, email="piet@example.com", last_name="Jansen")
    _appointment, channel = appointment_with_channel(alpha, rosa, minutes=2 * 24 * 60)
    appointment_with_channel(alpha, piet, minutes=3 * 24 * 60)
    off_the_loop(lambda: services.channel_create(member=alpha.people["admin"], client=piet,
                                                 practitioner=alpha.people["physio"]))
    off_the_loop(lambda: services.message_post(channel=channel, text="A question, see www.example.org", client=rosa))

    for first, viewport in ((True, {"width": 1280, "height": 900}), (False, {"width": 375, "height": 740})):
        page = staff(browser, url_for, "admin@alpha.test", viewport)
        page.goto(url_for("alpha", "/portal/messages/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Messages")
        if first:  # unread until the channel page below is opened
            expect(page.locator(".chat-topbar-link [data-chat-unread-count]")).to_have_text("1")
        check(page, "messages page")

        page.goto(url_for("alpha", "/portal/clients/"))
        menu = page.locator("details.chat-icon-menu")
        expect(menu).to_have_count(1)
        menu.locator("summary").focus()
        page.keyboard.press("Enter")
        expect(menu.get_by_role("link", name="Physio Alpha")).to_be_visible()
        check(page, "client list with chat icons")

        page.goto(url_for("alpha", f"/portal/clients/{rosa.pk}/"))
        expect(page.get_by_role("heading", name="Chat channels")).to_be_visible()
        check(page, "client record")

        page.goto(url_for("alpha", f"/portal/messages/{channel.pk}/"))
        expect(page.locator(".chat-message")).to_contain_text(["A question, see www.example.org"])
        expect(page.locator(".chat-topbar-link [data-chat-unread]")).to_be_hidden()  # opening read it
        check(page, "channel page")
        page.context.close()

    page = staff(browser, url_for, "gp@alpha.test", {"width": 1280, "height": 900})
    page.goto(url_for("alpha", f"/portal/messages/{channel.pk}/"))
    page.get_by_role("link", name="Delete history").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete chat history")
    assert_accessible(page, "delete history confirmation")
    page.get_by_role("link", name="Cancel").click()
    assert stored(channel, Author.CLIENT) == ["A question, see www.example.org"]
    page.get_by_role("link", name="Delete history").click()
    page.get_by_role("button", name="Delete the history").click()
    expect(page.get_by_text("The chat history has been deleted.")).to_be_visible()
    expect(page.get_by_text("No messages yet.")).to_be_visible()
    assert stored(channel, Author.CLIENT) == []
