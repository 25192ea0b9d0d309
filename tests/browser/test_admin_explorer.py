"""Staff sign-in, the Wagtail page explorer and the public site, in real Chromium over ASGI.

Covers, end to end in a browser: an organisation admin sees only its own page tree (tenancy in the
Wagtail admin), practitioners land in the portal, a login does not carry to another organisation's
host (host-only cookies), and unknown hosts are a 404.

Set BROWSER_SCREENSHOT_DIR=/tmp to keep a screenshot of the explorer (explorer.png) for a look.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def path_of(url):
    return urlsplit(url).path


def main_page(org):
    """The preset main page under the organisation's site root (cms.page_sets.create_site_tree)."""
    return org.root_page.get_children().get(slug="home")


def test_org_admin_explorer_shows_own_tree_only(page, url_for, alpha, beta):
    login(page, url_for("alpha", "/accounts/login/"), "admin@alpha.test")
    assert page.url == url_for("alpha", "/admin/")
    home, main = alpha.root_page, main_page(alpha)

    # The sidebar's "Pages" menu opens the explorer at the organisation's site root.
    page.get_by_role("button", name="Pages", exact=True).click()
    explorer = page.get_by_role("dialog", name="Page explorer")
    expect(explorer).to_be_visible()
    header = explorer.locator(".c-page-explorer__header__title")
    expect(header).to_have_text("Alpha Practice")
    expect(header).to_have_attribute("href", f"/admin/pages/{home.pk}/")
    items = explorer.locator(".c-page-explorer__item__title")
    expect(items).to_have_text(["Alpha Practice"])
    # One level down, under the main page: the follow-up page.
    explorer.get_by_role("link", name="View child pages of 'Alpha Practice'").click()
    expect(items).to_have_text(["How it works"])
    expect(explorer.locator(".c-page-explorer__header__title")).to_have_text("Alpha Practice")
    expect(explorer).not_to_contain_text("Beta Clinic")
    expect(page.locator("body")).not_to_contain_text("Beta Clinic")

    # The explorer listing pages.
    response = page.goto(url_for("alpha", "/admin/pages/"))
    assert response.ok
    expect(page.locator("main")).not_to_contain_text("Beta Clinic")

    page.goto(url_for("alpha", f"/admin/pages/{home.pk}/"))
    listing = page.locator("main")
    expect(listing.get_by_role("link", name="Alpha Practice", exact=True).first).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Beta Clinic")

    page.goto(url_for("alpha", f"/admin/pages/{main.pk}/"))
    expect(listing.get_by_role("link", name="How it works", exact=True)).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Beta Clinic")
    if os.environ.get("BROWSER_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(os.environ["BROWSER_SCREENSHOT_DIR"]) / "explorer.png"), full_page=True)

    # Searching all pages finds nothing of beta's.
    page.goto(url_for("alpha", "/admin/pages/search/?q=Clinic"))
    expect(page.locator("main")).not_to_contain_text("Beta Clinic")
    page.goto(url_for("alpha", "/admin/pages/search/?q=how"))
    expect(page.locator("main").get_by_text("How it works").first).to_be_visible()

    # Beta's tree by id: a 404, not a 403 that confirms it exists.
    response = page.goto(url_for("alpha", f"/admin/pages/{beta.root_page.pk}/"))
    assert response.status == 404
    response = page.goto(url_for("alpha", f"/admin/pages/{main_page(beta).pk}/"))
    assert response.status == 404


def test_practitioner_lands_in_portal_and_login_stays_on_its_host(page, context, url_for, alpha, beta):
    login(page, url_for("alpha", "/accounts/login/"), "gp@alpha.test")
    assert page.url == url_for("alpha", "/portal/")
    nav = page.get_by_role("navigation", name="Portal")
    expect(nav.get_by_role("link", name="Overview")).to_be_visible()
    expect(nav.get_by_role("link", name="My profile")).to_be_visible()
    expect(nav.get_by_role("link", name="Organisation admin")).to_have_count(0)

    session_cookies = [c for c in context.cookies() if c["name"] == "sessionid"]
    assert [c["domain"] for c in session_cookies] == ["alpha.localhost"]  # host-only: no Domain attribute

    # Same browser, another organisation: not signed in there.
    page.goto(url_for("beta", "/portal/"))
    assert path_of(page.url) == "/accounts/login/"
    assert page.url.startswith(url_for("beta", "/accounts/login/"))
    expect(page.locator("input[name=login]")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Staff sign-in for Beta Clinic")
    expect(page.get_by_role("navigation", name="Portal")).to_have_count(0)

    # and the alpha login is still there.
    page.goto(url_for("alpha", "/portal/"))
    assert page.url == url_for("alpha", "/portal/")


def test_public_site_and_unknown_host(page, url_for, alpha):
    response = page.goto(url_for("alpha", "/"))
    assert response.status == 200
    expect(page).to_have_title(re.compile(r"^Alpha Practice\b"))  # "<page title> · <site name>"
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha Practice")
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()

    response = page.goto(url_for("nobody", "/"))
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("Alpha Practice")
