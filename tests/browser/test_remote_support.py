"""Remote support in real Chromium (F-ORG-10): a platform staff member signs in on the platform host with their
authenticator, starts support for an employee from the Organisations admin with a fresh code, lands on the
organisation's portal as that employee under the banner, and ends it."""

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core.cache import cache
from playwright.sync_api import expect

from orgs.models import AuditEvent
from tests.browser.conftest import login
from tests.browser.test_patient_portal import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def code(secret, ahead=0):
    if time.time() % 30 > 27:  # about to roll over: wait for the next code, as someone reading the app would
        time.sleep(30 - time.time() % 30 + 0.2)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + ahead))


def test_staff_start_support_land_on_the_portal_under_the_banner_and_end_it(browser, url_for, asgi_server, alpha,
                                                                           settings):
    from accounts.models import User

    cache.clear()
    settings.PUBLIC_PORT = asgi_server.port  # the handoff goes to <organisation>.localhost:<this server's port>
    settings.MFA_TOTP_TOLERANCE = 1  # the next period's code too: the start needs a code the sign-in did not use
    alpha.allow_remote_support = True
    alpha.save()
    staff = User.objects.create_superuser(email="staff@platform.test", password="correct-horse-battery-staple")
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    # bypass_csp: axe is injected as an inline script, which our Content-Security-Policy refuses.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    login(page, url_for(None, "/accounts/login/"), staff.email)
    expect(page).to_have_url(url_for(None, "/accounts/2fa/authenticate/"))
    page.get_by_label("Code").fill(code(secret))
    page.locator("main form [type=submit]").first.click()
    expect(page).to_have_url(url_for(None, "/admin/"))

    page.goto(url_for(None, "/admin/organisations/"))
    page.get_by_role("row", name="Alpha Practice").get_by_role("link", name="Remote support").click()
    expect(page.get_by_text("for at most 60 minutes")).to_be_visible()
    page.get_by_label("Act as").select_option(label="Gp Alpha <gp@alpha.test> — Practitioner")
    page.get_by_label("Reason").fill("Her agenda shows no free slots")
    page.get_by_label("Code from your authenticator app").fill(code(secret, ahead=1))
    page.get_by_role("button", name="Start remote support").click()

    expect(page).to_have_url(url_for("alpha", "/portal/"))
    banner = page.get_by_role("region", name="Remote support")
    expect(banner).to_contain_text("staff@platform.test is acting as gp@alpha.test until")
    expect(banner).to_contain_text("reason: Her agenda shows no free slots")
    assert_accessible(page, "portal under the remote support banner")
    end = banner.get_by_role("button", name="End remote support")
    end.focus()
    expect(end).to_be_focused()

    page.goto(url_for("alpha", "/portal/profile/"))
    expect(banner).to_be_visible()
    expect(page.get_by_role("link", name="Change password")).to_have_count(0)

    end.click()
    expect(page).to_have_url(url_for("alpha", "/support/ended/?why=ended"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Remote support has ended")
    expect(page.get_by_role("link", name="Back to the platform admin")).to_have_attribute(
        "href", url_for(None, "/admin/"))
    page.goto(url_for("alpha", "/portal/"))
    expect(page).to_have_url(url_for("alpha", "/accounts/login/?next=/portal/"))

    actions = list(AuditEvent.objects.with_scopes_disabled().filter(organization=alpha,
                                                                     action__startswith="remote_support.")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["remote_support.start", "remote_support.end"]
