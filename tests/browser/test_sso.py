"""Single sign-on in real Chromium (F-AUTH-4), with our Content-Security-Policy enforced: the organisation's
button on the sign-in page takes an employee through the local OpenID Connect provider (tests/oidc_provider.py)
and back into the portal; a refusal is a clear page. The sign-in page with its buttons and the refusal page
pass axe-core."""

from allauth.socialaccount.models import SocialAccount
from django.core.cache import cache
from playwright.sync_api import expect

from accounts import sso
from accounts.models import OidcProvider
from tests.browser.conftest import DEFAULT_TIMEOUT_MS
from tests.browser.test_patient_portal import assert_accessible
from tests.oidc_provider import OidcTestProvider


def make_provider(org, idp):
    provider = OidcProvider(organization=org, name="Test IdP", button_text="Sign in with Test IdP",
                            issuer=idp.issuer, client_id=idp.client_id)
    return sso.oidc_provider_create(provider=provider, actor=None, client_secret=idp.client_secret)


def test_employee_signs_in_with_the_organisations_button(url_for, alpha, page):
    cache.clear()
    with OidcTestProvider(client_id="openconsult-browser", client_secret="browser-secret") as idp:
        provider = make_provider(alpha, idp)
        idp.redirect_uris = [url_for("alpha", f"/accounts/oidc/{provider.provider_id}/login/callback/")]
        SocialAccount.objects.create(user=alpha.people["gp"].user, provider=provider.provider_id, uid="gp-sub")
        idp.user = {"sub": "gp-sub", "email": "gp@alpha.test", "email_verified": True}

        page.goto(url_for("alpha", "/accounts/login/"))
        # The page's CSP (form-action 'self') is on in this browser: the button must still reach the provider.
        page.get_by_role("button", name="Sign in with Test IdP").click()
        expect(page).to_have_url(url_for("alpha", "/portal/"))
        assert ("POST", "/token") in idp.requests

        # Someone the organisation does not know: a clear refusal, no account.
        idp.user = {"sub": "stranger", "email": "stranger@example.com", "email_verified": True}
        context = page.context.browser.new_context(locale="en-GB", bypass_csp=True)  # axe is an inline script
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        other = context.new_page()
        other.goto(url_for("alpha", "/accounts/login/"))
        expect(other.get_by_role("heading", name="Or sign in with your organisation's account")).to_be_visible()
        assert_accessible(other, "sign-in page with SSO buttons")
        other.get_by_role("button", name="Sign in with Test IdP").click()
        expect(other.get_by_role("alert")).to_contain_text("There is no account for you at Alpha Practice")
        assert_accessible(other, "SSO refusal")
        context.close()
