"""The patient portal in real Chromium on a 360×740 phone screen (F-PORTAL-1,2, F-FORM-3,4).

A patient asks for a PIN (read from django.core.mail.outbox: the live server runs in this process),
signs in, answers step 1 and starts typing in step 2 (saved as they type), closes the browser, comes back
with a new PIN, finds step 2 with what they typed, and sends the questionnaire; the practitioner then sees
"Finished", reads the answers and downloads the PDF, and both reads are in the audit log. axe-core checks every
page for serious or critical violations; the sign-in page is checked in all four languages.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

from formbuilder.forms import questionnaire_steps
from formbuilder.models import Questionnaire, ResponseStatus
from formbuilder.services import answers_open
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from portal.models import AccessCodeDelivery
from portal.services import access_code_create
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, login
from tests.portal.patient_helpers import last_pin, make_client, make_questionnaire, send_questionnaire

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
QUESTIONS = [
    ("title", "About you", False, ""),
    ("singleline", "Your occupation", True, ""),
    ("radio", "Do you smoke", True, "Yes\nNo"),
    ("title", "Your health", False, ""),
    ("multiline", "Current complaints", True, ""),
    ("singleline", "Since when", True, ""),
    ("checkboxes", "Allergies", False, "Penicillin\nNuts\nPollen"),
    ("title", "Last step", False, ""),
    ("checkbox", "I confirm my answers are correct", True, ""),
]


def assert_accessible(page, label):
    """axe-core on the page as it is now: no serious or critical violations, nothing wider than the screen."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert result["testEngine"]["name"] == "axe-core" and result["passes"], label
    bad = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{label}: {bad}"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{label}: wider than the screen by {overflow}px"


def phone_context(browser, locale="en-GB"):
    # bypass_csp: axe is injected as an inline script, which the pages' Content-Security-Policy refuses.
    context = browser.new_context(viewport=PHONE, locale=locale, bypass_csp=True, is_mobile=True,
                                  has_touch=True, service_workers="block")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


def sign_in(page, url_for, email, check=False):
    mail.outbox.clear()
    page.goto(url_for("alpha", "/patient/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to your patient portal")
    if check:
        assert_accessible(page, "sign-in")
    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    expect(page.get_by_text("If these details are ours, we have emailed a 6-digit code")).to_be_visible()
    if check:
        assert_accessible(page, "PIN page")
    message = next(m for m in mail.outbox if m.to == [email])
    pin = "".join(re.search(r"^\s+(\d{3}) (\d{3})$", message.body, re.M).groups())
    page.get_by_label("The 6-digit code from the email").fill(pin)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your patient portal")


def test_a_patient_fills_half_a_questionnaire_leaves_comes_back_and_finishes(browser, asgi_server, url_for, alpha):
    cache.clear()
    client = make_client(alpha)
    response = send_questionnaire(alpha, client, make_questionnaire(alpha, questions=QUESTIONS))
    context = phone_context(browser)
    try:
        page = context.new_page()
        sign_in(page, url_for, client.email, check=True)
        expect(page.get_by_text("0% answered")).to_be_visible()
        assert_accessible(page, "home")
        page.get_by_role("link", name="Medical history").click()
        expect(page.get_by_text("Step 1 of 3")).to_be_visible()
        assert_accessible(page, "step 1")
        # Next without answers: the error summary takes the focus and names the questions.
        page.get_by_role("button", name="Next").click()
        summary = page.locator("[data-error-summary]")
        expect(summary).to_be_focused()
        expect(summary.get_by_role("link", name=re.compile("Your occupation"))).to_be_visible()
        assert_accessible(page, "step 1 with errors")
        page.get_by_label("Your occupation").fill("Baker")
        page.get_by_role("group", name=re.compile("Do you smoke")).get_by_label("No").check()
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_text("Step 2 of 3")).to_be_visible()
        assert_accessible(page, "step 2")
        page.get_by_label("Current complaints").fill("Back pain since the move")
        page.get_by_label("Nuts").check()
        expect(page.locator("form[data-autosave-state=saved]")).to_be_attached()
        expect(page.get_by_text(re.compile(r"Saved at \d\d:\d\d"))).to_be_visible()
        page.close()
    finally:
        context.close()

    with scopes_disabled():
        response.refresh_from_db()
        saved = answers_open(response)
    assert response.status == ResponseStatus.STARTED
    assert saved["current_complaints"] == "Back pain since the move" and saved["allergies"] == ["Nuts"]

    context = phone_context(browser)  # the browser was closed: its session cookie is gone
    try:
        page = context.new_page()
        sign_in(page, url_for, client.email)
        expect(page.get_by_text("Started", exact=True)).to_be_visible()
        page.get_by_role("link", name="Medical history").click()
        expect(page.get_by_text("Step 2 of 3")).to_be_visible()
        expect(page.get_by_label("Current complaints")).to_have_value("Back pain since the move")
        expect(page.get_by_label("Nuts")).to_be_checked()
        page.get_by_label("Since when").fill("March")
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_text("Step 3 of 3")).to_be_visible()
        assert_accessible(page, "step 3")
        page.get_by_label("I confirm my answers are correct").check()
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text("Thank you. Your answers have been sent.")).to_be_visible()
        expect(page.get_by_text("They can no longer be changed")).to_be_visible()
        expect(page.get_by_text("Back pain since the move")).to_be_visible()
        assert_accessible(page, "read-back")
        page.get_by_role("link", name="Back to your portal").click()
        expect(page.get_by_role("heading", name="Sent")).to_be_visible()
    finally:
        context.close()
        asgi_server.wait_idle()
    with scopes_disabled():
        response.refresh_from_db()
    assert response.status == ResponseStatus.FINISHED

    # The practitioner sees "Finished" on the client record, reads the answers and downloads the PDF.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        login(page, url_for("alpha", "/accounts/login/"), "gp@alpha.test")
        page.goto(url_for("alpha", f"/portal/clients/{client.pk}/"))
        row = page.locator(f"[data-questionnaires] tr[data-response='{response.pk}']")
        expect(row.locator(".q-status")).to_have_text("Finished")
        row.get_by_role("link", name=re.compile("^Read")).click()
        expect(page.get_by_text("Back pain since the move")).to_be_visible()
        page.go_back()
        with page.expect_download() as download_info:
            row.get_by_role("link", name=re.compile("^PDF")).click()
        download = download_info.value
        assert download.suggested_filename.endswith(".pdf")
        assert Path(download.path()).read_bytes().startswith(b"%PDF")
    finally:
        context.close()
        asgi_server.wait_idle()
    with scopes_disabled():
        reads = list(AuditEvent.objects.filter(organization=alpha, action__startswith="answers.")
                     .values_list("action", "actor_label", "subject_label"))
    assert sorted(reads) == [("answers.pdf", "gp@alpha.test", client.display_name),
                             ("answers.view", "gp@alpha.test", client.display_name)]


def test_the_sign_in_page_in_all_four_languages(browser, asgi_server, url_for, alpha):
    context = phone_context(browser)
    try:
        page = context.new_page()
        page.goto(url_for("alpha", "/patient/"))
        for language in ("nl", "de", "es", "en"):
            page.locator("#language-select").select_option(language)
            with page.expect_navigation():
                page.locator("form.language-switch [type=submit]").click()
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.locator("form[action='/patient/sign-in/'] input[type=email]")).to_be_visible()
            assert_accessible(page, f"sign-in ({language})")
    finally:
        context.close()
        asgi_server.wait_idle()


@pytest.mark.parametrize("language, heading", [("nl", "Uw cliëntportaal"), ("de", "Ihr Patientenportal"),
                                               ("es", "Su portal del paciente")])
def test_the_signed_in_pages_in_every_language_on_a_phone(browser, asgi_server, url_for, alpha, language, heading):
    """The browser's language picks the portal's; every page passes axe-core and fits 360 px."""
    cache.clear()
    client = make_client(alpha, language=language)
    send_questionnaire(alpha, client, make_questionnaire(alpha, questions=QUESTIONS))
    context = phone_context(browser, locale=language)
    try:
        page = context.new_page()
        mail.outbox.clear()
        page.goto(url_for("alpha", "/patient/"))
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.locator("input[type=email]").fill(client.email)
        page.locator("form:has(input[type=email]) button[type=submit]").click()
        page.wait_for_url("**/patient/code/")
        assert_accessible(page, f"PIN page ({language})")
        page.locator("input[name=pin]").fill(last_pin(client.email))
        page.locator("form:has(input[name=pin]) button[type=submit]").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page, f"home ({language})")
        page.locator("a[href*='/patient/questionnaires/']").first.click()
        page.locator("button[value=next]").click()  # nothing answered: the error summary
        expect(page.locator("[data-error-summary]")).to_be_focused()
        assert_accessible(page, f"step with errors ({language})")
    finally:
        context.close()
        asgi_server.wait_idle()


def test_the_qr_pages_and_every_field_type_of_the_standard_anamnesis_on_a_phone(browser, asgi_server, url_for,
                                                                                 alpha):
    """The QR code's tap-to-open page, an unknown code's page, and the first steps of the real medical history
    (dates, countries, numbers, emails, choices, a picture upload) pass axe-core and fit 360 px."""
    cache.clear()
    alpha.client_app_enabled = True
    alpha.save()
    client = make_client(alpha)
    client.organization = alpha
    with scopes_disabled():
        anamnesis = Questionnaire.objects.get(organization=alpha, is_default=True, language="en")
        types = {field.field_type for field in anamnesis.fields.all()}
        code = access_code_create(member=alpha.people["gp"], client=client, delivery=AccessCodeDelivery.EMAIL)
    assert {"date", "country", "number", "email", "multiselect", "dropdown", "image", "radio"} <= types
    steps = len(questionnaire_steps(send_questionnaire(alpha, client, anamnesis).questions))
    context = phone_context(browser)
    try:
        page = context.new_page()
        page.goto(url_for("alpha", "/patient/qr/not-a-code/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("This QR code does not work")
        assert_accessible(page, "unknown QR code")
        page.goto(url_for("alpha", "/" + code.url.split("/", 3)[3]))
        assert_accessible(page, "QR code: tap to open")
        page.get_by_role("button", name="Open my patient portal").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your patient portal")
        page.get_by_role("link", name="Medical history").click()
        address = page.url.split("?")[0]
        for step in range(1, steps + 1):
            page.goto(f"{address}?step={step}")
            expect(page.get_by_text(f"Step {step} of {steps}")).to_be_visible()
            assert_accessible(page, f"anamnesis step {step}")
    finally:
        context.close()
        asgi_server.wait_idle()


def test_the_installed_app_keeps_only_its_shell_and_shows_the_offline_page(browser, asgi_server, url_for, alpha):
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(url_for("alpha", "/patient/"))
        scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
        assert scope == url_for("alpha", "/patient/")
        cached = page.evaluate("""async () => {
            const urls = [];
            for (const key of await caches.keys()) {
                for (const request of await (await caches.open(key)).keys()) urls.push(new URL(request.url).pathname);
            }
            return urls.sort();
        }""")
        assert "/patient/offline/" in cached and "/static/patient/patient.css" in cached
        assert "/patient/" not in cached  # no page with patient data
        page.reload()  # now controlled by the worker
        context.set_offline(True)
        page.goto(url_for("alpha", "/patient/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("No connection")
        context.set_offline(False)
    finally:
        context.close()
        asgi_server.wait_idle()
