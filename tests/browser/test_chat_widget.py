"""The public chat widget (F-CHAT-6) in Chromium: embedded in ANOTHER site's page with third-party cookies blocked,
a visitor starts a conversation on a phone-sized screen, an organisation admin answers from the portal and the
visitor sees it live (and the other way round); coming back to the site offers the conversation again (the
frame's own storage). The start and conversation pages pass axe and fit a phone screen."""

import re

import pytest
from playwright.sync_api import expect

from chat import widget_access
from chat.models import Channel, ChannelKind
from orgs.scoping import scopes_disabled
from tests.browser import test_widgets
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, login
from tests.browser.test_patient_portal import assert_accessible, phone_context
from tests.browser.test_widgets import assert_frame_keeps_no_cookies

# the other site and the browser that blocks third-party cookies, as for the walk-in and booking widgets
blocking_browser = test_widgets.blocking_browser
other_site = test_widgets.other_site

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LIVE_MS = 4_000  # under chat.js's 5-second polling: arriving sooner means the socket carried it


def switch_on(org):
    org.public_chat_widget = True
    org.save(update_fields=["public_chat_widget"])


def embedding_page(org, asgi_server):
    """The admin's copy-paste code, with the widget's address on the test server's port."""
    base = f"http://{org.subdomain}.localhost:{asgi_server.port}"
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Another site</title></head>
<body><h1>Another practice web site</h1>
<iframe src="{base}{widget_access.chat_widget_path(org)}" data-openconsult-widget title="Send us a message"
 style="width: 100%; min-height: 520px; border: 0;"></iframe>
<script src="{base}/static/widgets/embed.js" async></script></body></html>"""


def chat_frame(page):
    return next(f for f in page.frames if "/widgets/chat/" in f.url)


def test_a_visitor_chats_from_another_site_and_staff_answer_live(blocking_browser, browser, other_site, asgi_server,
                                                               url_for, alpha):
    switch_on(alpha)
    context = blocking_browser.new_context(viewport={"width": 390, "height": 800}, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    staff_context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        embedded = other_site("chat.html", embedding_page(alpha, asgi_server))
        page.goto(embedded)
        frame = page.frame_locator("iframe[data-openconsult-widget]")
        expect(frame.get_by_text("Not for emergencies.")).to_be_visible()
        frame.get_by_label("Your name").fill("Vera <b>Visitor</b>")
        frame.get_by_label("Your email address").fill("vera@example.com")
        frame.get_by_label("Your message").fill("Do you take new patients?")
        frame.get_by_role("button", name="Send").click()

        expect(frame.get_by_role("heading", name="Your conversation")).to_be_visible()
        expect(frame.locator("[data-chat][data-chat-socket=live]")).to_be_attached()
        expect(frame.get_by_text("Not for emergencies.")).to_be_visible()
        assert_frame_keeps_no_cookies(chat_frame(page), context)
        with scopes_disabled():
            channel = Channel.objects.get(organization=alpha, kind=ChannelKind.PUBLIC)
        assert channel.visitor_name == "Vera <b>Visitor</b>"

        staff = staff_context.new_page()
        login(staff, url_for("alpha", "/accounts/login/"), "admin@alpha.test")
        staff.goto(url_for("alpha", f"/portal/messages/{channel.pk}/"))
        expect(staff.get_by_text("Do you take new patients?")).to_be_visible()
        expect(staff.locator("[data-chat][data-chat-socket=live]")).to_be_attached()
        staff.get_by_label("Your message").fill("Yes, we do. See www.example.com")
        staff.get_by_role("button", name="Send").click()

        reply = frame.locator(".chat-message", has_text="Yes, we do.")
        expect(reply).to_be_visible(timeout=LIVE_MS)
        expect(reply.get_by_role("link", name="www.example.com")).to_have_attribute("rel", re.compile("noopener"))

        frame.get_by_label("Your message").fill("Thank you! <script>alert(1)</script>")
        frame.get_by_role("button", name="Send").click()
        expect(staff.get_by_text("Thank you! <script>alert(1)</script>")).to_be_visible(timeout=LIVE_MS)

        # Back on the site later: the frame remembers the conversation (its own storage, no cookies).
        page.goto(embedded)
        expect(frame.get_by_role("heading", name="Send us a message")).to_be_visible()
        frame.get_by_role("link", name="Continue your earlier conversation").click()
        expect(frame.get_by_text("Yes, we do.")).to_be_visible()
        # "Start a new conversation" forgets it.
        frame.get_by_role("link", name="Start a new conversation").click()
        expect(frame.get_by_role("heading", name="Send us a message")).to_be_visible()
        page.wait_for_timeout(500)  # the remembered-conversation check would have shown by now
        expect(frame.get_by_role("link", name="Continue your earlier conversation")).to_be_hidden()
    finally:
        context.close()
        staff_context.close()
        asgi_server.wait_idle()


def test_the_widget_pages_are_accessible_on_a_phone(browser, asgi_server, url_for, alpha):
    switch_on(alpha)
    context = phone_context(browser)
    try:
        page = context.new_page()
        page.goto(url_for("alpha", widget_access.chat_widget_path(alpha)))
        expect(page.get_by_role("heading", level=1)).to_have_text("Send us a message")
        assert_accessible(page, "chat widget start")
        page.get_by_role("button", name="Send").click()  # empty: every field says what is missing
        expect(page.locator(".field-error").first).to_be_visible()
        assert_accessible(page, "chat widget start with errors")
        page.get_by_label("Your name").fill("Vera Visitor")
        page.get_by_label("Your email address").fill("vera@example.com")
        page.get_by_label("Your message").fill("Do you take new patients?")
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your conversation")
        expect(page.get_by_text("Do you take new patients?")).to_be_visible()
        assert_accessible(page, "chat widget conversation")
        alpha.public_chat_widget = False
        alpha.save(update_fields=["public_chat_widget"])
        page.goto(url_for("alpha", widget_access.chat_widget_path(alpha)))
        expect(page.get_by_role("heading", level=1)).to_have_text("Chat is not available")
        assert_accessible(page, "chat widget switched off")
    finally:
        context.close()
        asgi_server.wait_idle()
