"""The usage report in real Chromium (issue #10, F-USAGE-1): the org admin opens it from the menu, the four
charts are drawn by Chart.js (served from our origin, loaded with the page's nonce) without console errors or
Content-Security-Policy violations, the tables are there, the page passes axe at 1280 px and at 390 px without
getting wider than the screen, and a CSV link downloads the file."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from orgs.scoping import organization_scope
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, login
from tests.browser.test_patient_portal import assert_accessible
from usage import selectors
from usage.models import UsageAppointments, UsageDay, UsageDurations, UsageErrors

# Recorded before any page script runs (an init script is not subject to the page's policy).
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def roll_up_some_days(org):
    today = selectors.today_of(org)
    gp = org.departments_by_name["gp"]
    with organization_scope(org):
        for n in (1, 2, 3, 5, 8, 13, 21, 34):
            day = today - timedelta(days=n)
            UsageDay.objects.create(organization=org, day=day, employees=4, active_employees=n % 4, logins=n % 5,
                                    failed_emails=n % 2, rolled_up_at=timezone.now())
            UsageAppointments.objects.create(organization=org, day=day, department=gp, department_name=gp.name,
                                             practitioner=org.people["gp"], practitioner_name="Gp Alpha",
                                             planned=3, held=2, no_show=1, cancelled=n % 3)
            UsageDurations.objects.create(organization=org, day=day, bucket=10, consults=2, total_seconds=1500)
            UsageErrors.objects.create(organization=org, day=day, kind="ice_failed", source="room", count=1)


def charts_drawn(page):
    return page.evaluate("""() => Array.from(document.querySelectorAll("canvas[data-chart]")).map((canvas) => {
        const chart = window.Chart && window.Chart.getChart(canvas);
        return [canvas.dataset.chart, Boolean(chart), chart ? chart.data.datasets.length : 0, canvas.width > 0];
    })""")


def test_the_org_admin_reads_the_usage_report(browser, url_for, alpha, tmp_path):
    roll_up_some_days(alpha)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    page.add_init_script(WATCH_CSP)
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    login(page, url_for("alpha", "/accounts/login/"), "admin@alpha.test")
    page.get_by_role("link", name="Usage reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Usage reports")
    assert page.url == url_for("alpha", "/admin/usage/")

    expect(page.locator("canvas[data-chart]")).to_have_count(4)
    page.wait_for_function("() => window.Chart && document.querySelectorAll('canvas[data-chart]').length === 4 && "
                           "Array.from(document.querySelectorAll('canvas[data-chart]')).every(c => Chart.getChart(c))")
    assert charts_drawn(page) == [["appointments", True, 3, True], ["durations", True, 1, True],
                                  ["users", True, 3, True], ["errors", True, 2, True]]
    for name in ("Per department", "Per practitioner", "Consults per length", "Browser errors by kind and where"):
        expect(page.locator("caption", has_text=name)).to_be_visible()
    # 8 days of 3 planned (2 held, 1 no-show) and n % 3 cancelled.
    row = page.locator("table:has(caption:text-is('Per department')) tbody tr")
    expect(row).to_have_count(1)
    assert row.locator("th, td").all_inner_texts() == ["General practice", "24", "16", "8", "9", "33.3 %"]
    expect(page.get_by_text("32 days of this period have not been rolled up yet")).to_be_visible()
    assert page.evaluate("() => window.__cspViolations") == []
    assert problems == []

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download appointments (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("usage-appointments-alpha-")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "Date,Department,Practitioner,Planned,Held,No-show,Cancelled"
    assert len(lines) == 1 + 8 and all(",General practice,Gp Alpha,3,2,1," in line for line in lines[1:])
    context.close()


def test_the_usage_report_is_accessible_wide_and_on_a_phone(browser, url_for, alpha):
    roll_up_some_days(alpha)
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        # bypass_csp: axe is injected as an inline script, which the pages' Content-Security-Policy refuses.
        context = browser.new_context(viewport=viewport, locale="en-GB", bypass_csp=True)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        page = context.new_page()
        login(page, url_for("alpha", "/accounts/login/"), "admin@alpha.test")
        page.goto(url_for("alpha", "/admin/usage/"))
        page.wait_for_function("() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
                               ".every(c => window.Chart && Chart.getChart(c))")
        # The charts fit the screen: not wider than their section.
        widths = page.evaluate("() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
                               ".map(c => c.getBoundingClientRect().right <= document.documentElement.clientWidth)")
        assert widths == [True] * 4, viewport
        for details in page.locator("details.usage-details").all():
            details.locator("summary").click()
        assert_accessible(page, f"usage report at {viewport['width']} px")
        context.close()
