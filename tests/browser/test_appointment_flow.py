"""A department admin adds a client and an appointment in the portal; the client's email has a link that works.

Covers, end to end in Chromium over ASGI: F-CLIENT-1 (search before creating, create), F-APPT-1 (new appointment
with a free slot), F-APPT-2 (email with the personal link and an iCalendar invitation), F-APPT-3 (the link
opens within its window and leaves the URL).
"""

import re
import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from consult.models import Availability, WaitingEntry
from orgs.scoping import organization_scope
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_department_admin_books_a_client_who_then_opens_the_link(page, context, url_for, asgi_server, alpha):
    zone = zoneinfo.ZoneInfo(alpha.time_zone)
    gp = alpha.people["gp"]
    # Bookable hours around now, so that a free slot is open for the link (whatever time the test runs).
    now = timezone.now().astimezone(zone)
    soon = now + timedelta(minutes=40)
    start = soon.replace(minute=0 if soon.minute < 30 else 30, second=0, microsecond=0)  # 10 to 40 minutes ahead
    with organization_scope(alpha):
        Availability.objects.create(
            organization=alpha, practitioner=gp, date=start.date(), start_time=start.time(),
            end_time=min(datetime.combine(start.date(), time(23, 59)), start.replace(tzinfo=None) + timedelta(hours=1))
            .time(), consult_minutes=20, break_minutes=10,
        )

    login(page, url_for("alpha", "/accounts/login/"), "deptadmin@alpha.test")
    page.goto(url_for("alpha", "/portal/clients/new/"))
    page.fill("#id_initials", "R.")
    page.fill("#id_first_name", "Rosa")
    page.fill("#id_last_name", "Verhoeven")
    page.fill("#id_date_of_birth", "1985-04-12")
    page.fill("#id_email", "rosa@example.com")
    page.select_option("#id_language", "en")
    page.select_option("#id_department", label="General practice")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Rosa Verhoeven")).to_be_visible()

    page.get_by_role("link", name="Schedule an appointment").click()
    page.select_option("#id_practitioner", str(gp.pk))
    page.fill("#id_date", start.date().isoformat())
    page.locator("#id_date").dispatch_event("change")
    slot = page.locator(f"[data-fill-time='{start:%H:%M}']")
    expect(slot).to_be_visible()
    slot.click()
    expect(page.locator("#id_time")).to_have_value(f"{start:%H:%M}")
    page.fill("#id_personal_message", "Please have your medication list at hand.")
    page.get_by_role("button", name="Save and email the client").click()
    expect(page.get_by_text("Appointment saved")).to_be_visible()

    message = next(m for m in mail.outbox if m.to == ["rosa@example.com"])
    assert "Please have your medication list at hand." in message.body
    assert any(name == "invite.ics" for name, _content, _type in message.attachments)
    link = re.search(r"http://alpha\.localhost:\d+/c/[\w-]+/", message.body).group(0)

    patient = context.browser.new_context(locale="en-GB").new_page()
    # Emails name the public port (PUBLIC_PORT); this test's server listens on its own.
    patient.goto(re.sub(r":\d+/", f":{asgi_server.port}/", link, count=1))
    expect(patient.get_by_text("Rosa Verhoeven")).to_be_visible()
    assert "/c/" in patient.url and link.rsplit("/c/", 1)[1].strip("/") not in patient.url  # token left the URL
    # Within the window the link leads into the waiting room, which connects over its WebSocket.
    expect(patient.get_by_role("heading", level=1)).to_have_text("Waiting room")
    expect(patient.get_by_text("You are on time. The practitioner will call you in.")).to_be_visible()
    expect(patient.locator("[data-waiting-room][data-socket=open]")).to_be_attached()
    patient.context.close()
    page.context.close()
    asgi_server.wait_idle()  # the server has recorded the closed socket before the database is emptied
    assert not WaitingEntry.objects.with_scopes_disabled().filter(connected=True).exists()
