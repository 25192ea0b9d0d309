"""The widgets embedded in a page of ANOTHER site, in Chromium with third-party cookies blocked (F-WIDGET-2..5).

The embedding site is a tiny http.server on 127.0.0.1:<free port>; the widget comes from
http://alpha.localhost:<live port>: a different site, so inside the frame the browser keeps no cookies.
(a) A walk-in visitor waits for someone to become available (the list updates without a reload), picks
the practitioner, fills in the intake, opens the waiting room in a new tab and appears in the
practitioner's waiting list in the portal as a walk-in; the iframe's height follows its content.
(b) A visitor books a slot from the booking widget, sees the confirmation and is emailed the link.
"""

import functools
import http.server
import re
import threading
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from consult.models import Appointment, AppointmentKind, Availability, AvailabilityKind
from consult.selectors import zone_of
from orgs.scoping import scopes_disabled
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DEFAULT_TIMEOUT_MS, login
from widgets.models import BookingWidget, IntakeChoice, WalkInWidget

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Chromium's switch for the third-party-cookie phase-out: cookies in cross-site frames are neither sent
# nor stored. (Off-the-record profiles block them already; the switch makes the test independent of that.)
BLOCK_THIRD_PARTY_COOKIES = "--test-third-party-cookie-phaseout"
POLL_WAIT_MS = 25_000  # the walk-in list is fetched again every 15 seconds


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def other_site(tmp_path):
    """Another web site: serves files from a temporary directory on 127.0.0.1:<free port>."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler,
                                                                                  directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, name="other-site", daemon=True)
    thread.start()

    def publish(name, html):
        (tmp_path / name).write_text(html)
        return f"http://127.0.0.1:{server.server_address[1]}/{name}"

    yield publish
    server.shutdown()
    server.server_close()


@pytest.fixture
def blocking_browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=[*CHROMIUM_ARGS, BLOCK_THIRD_PARTY_COOKIES])
    yield browser
    browser.close()


def embedding_page(widget, asgi_server):
    """The copy-paste code from the admin, with the widget's address on the test server's port."""
    page_url = f"http://{widget.organization.subdomain}.localhost:{asgi_server.port}{widget.get_absolute_url()}"
    script = f"http://{widget.organization.subdomain}.localhost:{asgi_server.port}/static/widgets/embed.js"
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Another site</title></head>
<body><h1>Another practice web site</h1>
<iframe src="{page_url}" data-openconsult-widget title="{widget.title}"
 allow="camera; microphone; display-capture; fullscreen" style="width: 100%; min-height: 420px; border: 0;"></iframe>
<script src="{script}" async></script>
<p id="after">Text after the widget</p></body></html>"""


def widget_frame(page):
    frame = next(f for f in page.frames if "/widgets/" in f.url)
    return frame


def frame_heights(page):
    """(the iframe's height on the page, the height of the widget page's content)."""
    outer = page.locator("iframe[data-openconsult-widget]").evaluate("f => f.getBoundingClientRect().height")
    inner = widget_frame(page).evaluate("() => document.documentElement.getBoundingClientRect().height")
    return outer, inner


def expect_height_follows_content(page):
    def matches():
        outer, inner = frame_heights(page)
        return abs(outer - inner) <= 2

    for _ in range(50):
        if matches():
            return frame_heights(page)
        page.wait_for_timeout(100)
    raise AssertionError(f"the iframe does not follow its content: {frame_heights(page)}")


def assert_frame_keeps_no_cookies(frame, context):
    frame.evaluate("() => { document.cookie = 'probe=1; SameSite=None; Secure; Path=/'; }")
    assert frame.evaluate("() => document.cookie") == ""
    assert [c for c in context.cookies() if c["name"] == "probe"] == []


def test_walk_in_widget_on_another_site(blocking_browser, browser, other_site, asgi_server, url_for, alpha):
    gp = alpha.people["gp"]
    with scopes_disabled():
        widget = WalkInWidget.objects.create(
            organization=alpha, name="Front desk", title="Walk-in consultation",
            absent_text="<p>Nobody is available right now.</p>", ask_date_of_birth=IntakeChoice.REQUIRED,
            ask_email=IntakeChoice.OPTIONAL, ask_accept_terms=True, terms_text="I accept the privacy statement",
        )
    context = blocking_browser.new_context(viewport={"width": 390, "height": 800}, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    staff_context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(other_site("practice.html", embedding_page(widget, asgi_server)))
        frame = page.frame_locator("iframe[data-openconsult-widget]")
        expect(frame.get_by_text("Nobody is available right now.")).to_be_visible()
        assert_frame_keeps_no_cookies(widget_frame(page), context)
        empty_outer, _inner = expect_height_follows_content(page)
        assert empty_outer < 420  # sized to the short "nobody" message, below the snippet's minimum

        # The practitioner opens for walk-ins: the list appears without a reload.
        with scopes_disabled():
            gp.walk_in_open = True
            gp.save(update_fields=["walk_in_open"])
        choice = frame.get_by_role("radio", name=re.compile("Gp Alpha"))
        expect(choice).to_be_visible(timeout=POLL_WAIT_MS)
        full_outer, _inner = expect_height_follows_content(page)
        assert full_outer > empty_outer + 100  # grew with the list and the form

        choice.check()
        frame.get_by_label("First name or initials").fill("Wendy")
        frame.get_by_label("Last name").fill("Walker")
        frame.get_by_label("Date of birth").fill("1980-02-03")
        frame.get_by_label("Email address").fill("wendy@example.com")
        frame.get_by_label("I accept the privacy statement").check()
        frame.get_by_role("button", name="Go to the waiting room").click()

        expect(frame.get_by_role("heading", name="You are expected")).to_be_visible()
        expect(frame.get_by_text("camera and microphone can only be used on a page of its own")).to_be_visible()
        expect_height_follows_content(page)
        with scopes_disabled():
            appointment = Appointment.objects.get()
        assert appointment.kind == AppointmentKind.WALK_IN and appointment.practitioner == gp
        assert_frame_keeps_no_cookies(widget_frame(page), context)

        with context.expect_page() as new_tab:
            frame.get_by_role("link", name="Open the waiting room").click()
        patient = new_tab.value
        expect(patient.get_by_role("heading", level=1)).to_have_text("Waiting room")
        expect(patient.locator("[data-waiting-room][data-socket=open]")).to_be_attached()
        assert patient.url.startswith(url_for("alpha", "/c/"))
        # First-party in its own tab, the waiting room keeps its session cookie.
        assert any(c["domain"] == "alpha.localhost" for c in context.cookies())

        staff = staff_context.new_page()
        login(staff, url_for("alpha", "/accounts/login/"), "gp@alpha.test")
        staff.goto(url_for("alpha", "/portal/waiting-room/"))
        card = staff.locator("[data-arrival=walk_in]", has_text="Wendy Walker")
        expect(card).to_be_visible()
        expect(card).to_contain_text("walk-in")
    finally:
        context.close()
        staff_context.close()
        asgi_server.wait_idle()


def test_booking_widget_on_another_site(blocking_browser, other_site, asgi_server, alpha):
    gp = alpha.people["gp"]
    zone = zone_of(alpha)
    day = timezone.localdate(timezone=zone) + timedelta(days=1)
    with scopes_disabled():
        Availability.objects.create(organization=alpha, practitioner=gp, kind=AvailabilityKind.BOOKING, date=day,
                                    start_time=time(10, 0), end_time=time(11, 0), consult_minutes=20)
        widget = BookingWidget.objects.create(organization=alpha, name="Bookings", title="Book a video consult",
                                              ask_phone=IntakeChoice.OPTIONAL, days_ahead=7)
    mail.outbox.clear()
    context = blocking_browser.new_context(viewport={"width": 390, "height": 800}, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(other_site("booking.html", embedding_page(widget, asgi_server)))
        frame = page.frame_locator("iframe[data-openconsult-widget]")
        expect(frame.get_by_role("heading", name="Choose a time")).to_be_visible()
        assert_frame_keeps_no_cookies(widget_frame(page), context)
        frame.get_by_role("link", name=re.compile(r"10:20")).click()
        expect(frame.get_by_role("heading", name="Your appointment")).to_be_visible()
        frame.get_by_label("First name or initials").fill("B.")
        frame.get_by_label("Last name").fill("Booker")
        frame.get_by_label("Date of birth").fill("1975-06-07")
        frame.get_by_label("Email address").fill("booker@example.com")
        frame.get_by_role("button", name="Book this appointment").click()
        expect(frame.get_by_role("heading", name="Your appointment is booked")).to_be_visible()
        expect(frame.get_by_text("booker@example.com")).to_be_visible()
        expect_height_follows_content(page)
    finally:
        context.close()
        asgi_server.wait_idle()

    with scopes_disabled():
        appointment = Appointment.objects.get()
    assert appointment.starts_at == datetime.combine(day, time(10, 20), tzinfo=zone)
    assert appointment.client.last_name == "Booker"
    message = next(m for m in mail.outbox if m.to == ["booker@example.com"])
    assert re.search(r"http://alpha\.localhost:\d+/c/[\w-]+/", message.body)
