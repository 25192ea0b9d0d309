"""Two-factor authentication in real Chromium: a practitioner activates an authenticator app from My profile
(the code computed from the secret the page shows, as the app would), signs out, and signs in with password and
code. The activation and code pages pass axe-core."""

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.cache import cache
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_patient_portal import assert_accessible
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def current_code(secret):
    if time.time() % 30 > 27:  # about to roll over: wait for the next code, as someone reading the app would
        time.sleep(30 - time.time() % 30 + 0.2)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_practitioner_activates_totp_in_my_profile_and_signs_in_with_a_code(browser, url_for, alpha):
    cache.clear()
    # bypass_csp: axe is injected as an inline script, which our Content-Security-Policy refuses.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    login(page, url_for("alpha", "/accounts/login/"), "gp@alpha.test")
    expect(page).to_have_url(url_for("alpha", "/portal/"))
    expect(page.get_by_role("link", name="Set up two-factor authentication")).to_be_visible()  # the reminder

    page.goto(url_for("alpha", "/portal/profile/"))
    section = page.get_by_role("region", name="Two-factor authentication")
    expect(section).to_contain_text("Off")
    section.get_by_role("link", name="Activate an authenticator app").click()
    # allauth asks for the password again before two-factor settings change.
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Activate Authenticator App")
    expect(page.locator("img[src^='data:image/svg+xml']")).to_be_visible()  # the QR code
    assert_accessible(page, "activate")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(current_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery Codes")

    page.goto(url_for("alpha", "/portal/profile/"))
    expect(section).to_contain_text("On")
    expect(section.get_by_role("link", name="Deactivate the authenticator app")).to_be_visible()

    page.goto(url_for("alpha", "/accounts/logout/"))
    page.locator("main form [type=submit]").click()
    expect(page).to_have_url(url_for("alpha", "/accounts/login/"))

    login(page, url_for("alpha", "/accounts/login/"), "gp@alpha.test")
    expect(page).to_have_url(url_for("alpha", "/accounts/2fa/authenticate/"))
    assert_accessible(page, "authenticate")
    page.get_by_label("Code").fill(current_code(secret))
    page.locator("main form [type=submit]").first.click()
    expect(page).to_have_url(url_for("alpha", "/portal/"))
    expect(page.get_by_role("link", name="Set up two-factor authentication")).to_have_count(0)


def test_security_key_as_second_factor_with_a_virtual_authenticator(browser, url_for, alpha):
    """The whole WebAuthn ceremony: Chromium's virtual authenticator (DevTools protocol) stands in for a key."""
    cache.clear()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})

    login(page, url_for("alpha", "/accounts/login/"), "gp@alpha.test")
    page.goto(url_for("alpha", "/portal/profile/"))
    page.get_by_role("region", name="Two-factor authentication").get_by_role("link", name="Add a security key").click()
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.get_by_label("Name").fill("USB key")
    with page.expect_navigation():
        page.locator("#mfa_webauthn_add").click()
    from allauth.mfa.models import Authenticator

    assert set(Authenticator.objects.filter(user=alpha.people["gp"].user).values_list("type", flat=True)) == {
        "webauthn", "recovery_codes"}

    page.goto(url_for("alpha", "/accounts/logout/"))
    page.locator("main form [type=submit]").click()
    login(page, url_for("alpha", "/accounts/login/"), "gp@alpha.test")
    expect(page).to_have_url(url_for("alpha", "/accounts/2fa/authenticate/"))
    with page.expect_navigation(url=url_for("alpha", "/portal/")):
        page.locator("#mfa_webauthn_authenticate").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_reminder_in_the_wagtail_admin_is_readable(browser, url_for, alpha):
    """Wagtail's teal link on its teal info bar fails AA contrast; the reminder's link takes the bar's text colour."""
    cache.clear()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    login(page, url_for("alpha", "/accounts/login/"), "admin@alpha.test")
    expect(page).to_have_url(url_for("alpha", "/admin/"))
    link = page.locator(".messages li a", has_text="Set up two-factor authentication")
    expect(link).to_be_visible()
    link_colour = link.evaluate("a => getComputedStyle(a).color")
    text_colour = link.evaluate("a => getComputedStyle(a.closest('li')).color")
    assert link_colour == text_colour
    # Wagtail's message bar fades its colour in: measure the contrast once its animations and transitions end.
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")
    page.add_script_tag(path="node_modules/axe-core/axe.min.js")
    violations = page.evaluate(
        "async () => (await axe.run('.messages', {runOnly: ['color-contrast']})).violations"
        ".map(v => v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary))")
    assert violations == []
    context.close()
