"""Single sign-on per organisation with OpenID Connect (F-AUTH-4), against a real provider on 127.0.0.1.

Every sign-in goes through allauth talking HTTP to tests/oidc_provider.py: discovery, /authorize, /token
(client secret, code, redirect URI checked), the RS256 ID token checked against the provider's JWKS.
"""

import html
import re
from urllib.parse import urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.core.cache import cache
from django.core.exceptions import ValidationError

from accounts import sso
from accounts.models import OidcProvider, User
from orgs.models import AuditEvent, Membership, Role
from orgs.scoping import organization_scope, scopes_disabled
from tests.conftest import PASSWORD, host_client, signed_in_client
from tests.oidc_provider import OidcTestProvider

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


@pytest.fixture
def idp():
    with OidcTestProvider(client_id="openconsult-test", client_secret="s3cret-value-123") as provider:
        yield provider


def make_provider(org, idp, *, departments=(), **fields):
    fields.setdefault("name", "Test IdP")
    fields.setdefault("button_text", "Sign in with Test")
    provider = OidcProvider(organization=org, issuer=idp.issuer, client_id=idp.client_id, **fields)
    provider = sso.oidc_provider_create(provider=provider, actor=None, client_secret=idp.client_secret,
                                        departments=list(departments))
    register_callback(idp, org, provider)
    return provider


def register_callback(idp, org, provider):
    idp.redirect_uris.append(f"http://{org.hostname}/accounts/oidc/{provider.provider_id}/login/callback/")


def start_sign_in(client, provider, query=""):
    """The sign-in button (a POST): answered with a page that moves on to the provider by itself, not a redirect,
    which the CSP's form-action 'self' would block in browsers. Returns the provider's /authorize address."""
    response = client.post(f"/accounts/oidc/{provider.provider_id}/login/{query}")
    assert response.status_code == 200, response.content[:500]
    page = response.content.decode()
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', page).group(1)
    link = re.search(r'<a class="button" href="([^"]+)" data-sso-continue>', page).group(1)
    assert refresh == link
    assert response["Cache-Control"] == "no-store"
    return html.unescape(link)


def sso_sign_in(client, provider, idp):
    """The browser's round trip: our login view → the provider's /authorize (real HTTP) → our callback."""
    authorize = start_sign_in(client, provider)
    assert authorize.startswith(f"{idp.issuer}/authorize?") and "code_challenge=" in authorize  # PKCE on
    answer = requests.get(authorize, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def link(membership, provider, sub):
    return SocialAccount.objects.create(user=membership.user, provider=provider.provider_id, uid=sub)


# --- happy paths --------------------------------------------------------------------------------

def test_linked_employee_signs_in_over_real_http(alpha, idp):
    provider = make_provider(alpha, idp)
    gp = alpha.people["gp"]
    link(gp, provider, "gp-sub-1")
    idp.user = {"sub": "gp-sub-1", "email": "gp@alpha.test", "email_verified": True}
    client = host_client(alpha)

    response = sso_sign_in(client, provider, idp)

    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert signed_in_user_id(client) == str(gp.user.pk)
    assert client.get("/portal/").status_code == 200
    # allauth really talked to the provider: discovery, token, keys and userinfo.
    assert {("GET", "/.well-known/openid-configuration"), ("POST", "/token"), ("GET", "/jwks"),
            ("GET", "/userinfo")} <= set(idp.requests)


def test_first_sign_in_creates_an_employee_with_the_configured_role_and_departments(alpha, idp):
    physio = alpha.departments_by_name["physio"]
    provider = make_provider(alpha, idp, create_users_on_login=True, new_user_role=Role.DEPARTMENT_ADMIN,
                             departments=[physio], allowed_domains="Example.com")
    idp.user = {"sub": "new-1", "email": "New.Person@example.com", "email_verified": True, "hd": "example.com",
                "given_name": "New", "family_name": "Person"}
    client = host_client(alpha)

    response = sso_sign_in(client, provider, idp)

    assert response.status_code == 302
    user = User.objects.get(email__iexact="new.person@example.com")
    assert signed_in_user_id(client) == str(user.pk)
    assert (user.first_name, user.last_name) == ("New", "Person")
    assert not user.has_usable_password()
    with scopes_disabled():
        membership = Membership.objects.get(organization=alpha, user=user)
        assert membership.role == Role.DEPARTMENT_ADMIN
        assert list(membership.departments.all()) == [physio]
        actions = set(AuditEvent.objects.filter(organization=alpha).values_list("action", flat=True))
    assert {"employee.create", "sso.user_create", "sso.create"} <= actions
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == (provider.provider_id, "new-1")

    # The next sign-in finds the same account by (issuer, subject), even with a changed email.
    idp.user = {**idp.user, "email": "renamed@example.com"}
    second = host_client(alpha)
    assert sso_sign_in(second, provider, idp).status_code == 302
    assert signed_in_user_id(second) == str(user.pk)
    assert User.objects.filter(email__iexact="renamed@example.com").count() == 0


# --- refusals: a clear page, nothing created ---------------------------------------------------

def assert_refused(client, response, text):
    assert response.status_code in (403, 404), response.status_code
    assert text in response.content.decode()
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize("claims, allowed", [
    ({"email": "someone@example.com"}, "example.org"),  # email domain not in the list
    ({"email": "someone@example.org", "hd": "example.com"}, "example.org"),  # the hosted-domain claim decides
])
def test_domain_not_allowed(alpha, idp, claims, allowed):
    provider = make_provider(alpha, idp, create_users_on_login=True, allowed_domains=allowed)
    idp.user = {"sub": "x-1", "email_verified": True, **claims}
    client = host_client(alpha)
    response = sso_sign_in(client, provider, idp)
    assert_refused(client, response, "may not sign in here")
    assert not User.objects.filter(email__iexact=claims["email"]).exists()
    assert not SocialAccount.objects.exists()


def test_unverified_email_is_refused(alpha, idp):
    provider = make_provider(alpha, idp, create_users_on_login=True)
    idp.user = {"sub": "u-1", "email": "unverified@example.com", "email_verified": False}
    client = host_client(alpha)
    assert_refused(client, sso_sign_in(client, provider, idp), "not verified")
    assert not User.objects.filter(email="unverified@example.com").exists()


def test_unknown_person_is_refused_when_creating_users_is_off(alpha, idp):
    provider = make_provider(alpha, idp, create_users_on_login=False)
    idp.user = {"sub": "s-1", "email": "stranger@example.com", "email_verified": True}
    client = host_client(alpha)
    assert_refused(client, sso_sign_in(client, provider, idp), "There is no account for you at Alpha Practice")
    assert not User.objects.filter(email="stranger@example.com").exists()
    assert not SocialAccount.objects.exists()


def test_maximum_number_of_users_reached_creates_no_user(alpha, idp):
    alpha.max_users = 4  # the fixture's four employees
    alpha.save()
    provider = make_provider(alpha, idp, create_users_on_login=True)
    idp.user = {"sub": "m-1", "email": "one.too.many@example.com", "email_verified": True}
    users_before = User.objects.count()
    client = host_client(alpha)
    assert_refused(client, sso_sign_in(client, provider, idp), "maximum number of users reached")
    assert User.objects.count() == users_before
    assert not SocialAccount.objects.exists()


def test_disabled_provider_is_refused(alpha, idp):
    provider = make_provider(alpha, idp)
    link(alpha.people["gp"], provider, "gp-sub")
    client = host_client(alpha)
    authorize = start_sign_in(client, provider)  # a sign-in started while it was enabled
    with organization_scope(alpha):
        provider.enabled = False
        provider.save()
    idp.user = {"sub": "gp-sub", "email": "gp@alpha.test", "email_verified": True}
    answer = requests.get(authorize, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    assert_refused(client, client.get(f"{callback.path}?{callback.query}"), "has been turned off")
    assert_refused(client, client.post(f"/accounts/oidc/{provider.provider_id}/login/"), "has been turned off")
    assert "Sign in with Test" not in client.get("/accounts/login/").content.decode()


def test_another_organisations_provider_is_a_404_here(alpha, beta, idp):
    beta_provider = make_provider(beta, idp, button_text="Beta staff login")
    client = host_client(alpha)
    assert client.post(f"/accounts/oidc/{beta_provider.provider_id}/login/").status_code == 404
    assert client.get(f"/accounts/oidc/{beta_provider.provider_id}/login/callback/?code=x&state=y").status_code == 404


def test_sso_identity_of_one_organisation_does_not_sign_in_on_another(alpha, beta, idp):
    beta_provider = make_provider(beta, idp)
    # An alpha employee's identity linked under beta's provider (by whatever means): beta still refuses,
    # the person has no membership there.
    link(alpha.people["gp"], beta_provider, "gp-sub")
    idp.user = {"sub": "gp-sub", "email": "gp@alpha.test", "email_verified": True}
    client = host_client(beta)
    assert_refused(client, sso_sign_in(client, beta_provider, idp), "has no access to Beta Clinic")


def test_existing_email_without_link_does_not_sign_in(alpha, idp):
    provider = make_provider(alpha, idp, create_users_on_login=True)
    idp.user = {"sub": "attacker-sub", "email": "admin@alpha.test", "email_verified": True}
    client = host_client(alpha)
    response = sso_sign_in(client, provider, idp)
    assert_refused(client, response, "Sign in with your email address and password")
    assert not SocialAccount.objects.exists()


def test_changing_the_issuer_unlinks_accounts_of_the_old_issuer(alpha, idp):
    provider = make_provider(alpha, idp)
    gp = alpha.people["gp"]
    link(gp, provider, "same-sub")
    old_id = provider.provider_id
    with OidcTestProvider(client_id=idp.client_id, client_secret=idp.client_secret) as other:
        with organization_scope(alpha):
            provider.issuer = other.issuer
        provider = sso.oidc_provider_update(provider=provider, actor=alpha.people["admin"].user,
                                            changes={"issuer": [idp.issuer, other.issuer]})
        register_callback(other, alpha, provider)
        assert provider.provider_id != old_id
        assert not SocialAccount.objects.filter(provider=old_id).exists()
        with scopes_disabled():
            update = AuditEvent.objects.get(organization=alpha, action="sso.update")
        assert update.changes["linked_accounts"] == [1, 0] and update.changes["issuer"][1] == other.issuer
        # The same subject at another issuer is another person: no sign-in as the gp.
        other.user = {"sub": "same-sub", "email": "gp@alpha.test", "email_verified": True}
        client = host_client(alpha)
        assert_refused(client, sso_sign_in(client, provider, other), "not linked")
    assert host_client(alpha).post(f"/accounts/oidc/{old_id}/login/").status_code == 404


def test_id_token_with_a_bad_signature_is_refused(alpha):
    with OidcTestProvider(client_id="openconsult-test", client_secret="s3cret-value-123", wrong_key=True) as forged:
        provider = make_provider(alpha, forged)
        link(alpha.people["gp"], provider, "gp-sub")
        forged.user = {"sub": "gp-sub", "email": "gp@alpha.test", "email_verified": True}
        client = host_client(alpha)
        response = sso_sign_in(client, provider, forged)
        assert ("POST", "/token") in forged.requests
    assert response.status_code == 401 and "Third-Party Login Failure" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_two_factor_still_applies_to_sso_sign_in(alpha, idp):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    provider = make_provider(alpha, idp)
    gp = alpha.people["gp"]
    link(gp, provider, "gp-sub")
    TOTP.activate(gp.user, generate_totp_secret())
    idp.user = {"sub": "gp-sub", "email": "gp@alpha.test", "email_verified": True}
    client = host_client(alpha)
    response = sso_sign_in(client, provider, idp)
    assert response.status_code == 302 and "/2fa/authenticate/" in response["Location"]
    assert signed_in_user_id(client) is None


# --- pages ----------------------------------------------------------------------------------------

def test_login_page_shows_only_this_organisations_buttons(alpha, beta, idp):
    make_provider(alpha, idp, button_text="Alpha Google")
    make_provider(beta, idp, button_text="Beta Microsoft")
    page = host_client(alpha).get("/accounts/login/").content.decode()
    assert "Alpha Google" in page and "Beta Microsoft" not in page
    assert "Alpha Google" not in host_client(beta).get("/accounts/login/").content.decode()


def test_client_secret_is_encrypted_at_rest_and_never_rendered(alpha, idp):
    provider = make_provider(alpha, idp)
    raw = bytes(OidcProvider.objects.with_scopes_disabled().values_list("client_secret_sealed", flat=True)
                .get(pk=provider.pk))
    assert idp.client_secret.encode() not in raw and len(raw) > 12
    assert provider.client_secret == idp.client_secret
    # Sealed to its row: copied into another provider it does not open.
    twin = OidcProvider(organization_id=alpha.pk, key="other", client_secret_sealed=raw)
    assert twin.client_secret == ""


def test_client_secret_survives_a_secret_key_rotation_with_the_old_key_as_fallback(alpha, idp, settings):
    provider = make_provider(alpha, idp)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-for-the-rotation-test-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert OidcProvider.objects.with_scopes_disabled().get(pk=provider.pk).client_secret == idp.client_secret
    settings.SECRET_KEY_FALLBACKS = []  # the old key dropped: the admin has to type the secret again
    assert OidcProvider.objects.with_scopes_disabled().get(pk=provider.pk).client_secret == ""

    admin = signed_in_client(alpha.people["admin"].user, alpha)
    page = admin.get(f"/admin/sso_providers/edit/{provider.pk}/").content.decode()
    assert idp.client_secret not in page
    assert "•••• set, type to replace" in page
    # The settings page gives the exact callback URL to register.
    assert f"{alpha.base_url}/accounts/oidc/{provider.provider_id}/login/callback/" in page
    assert page.count("https://login.microsoftonline.com/&lt;tenant id&gt;/v2.0") == 2  # help text and callback panel
    assert "microsoftonline.com/<tenant id>" not in page


def test_admin_creates_edits_and_deletes_providers_audited(alpha, idp):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    physio = alpha.departments_by_name["physio"]
    data = {
        "name": "Google", "enabled": "on", "button_text": "Sign in with Google", "issuer": idp.issuer + "/",
        "allowed_domains": "Example.COM; @example.org", "client_id": "abc", "client_secret": "top-secret-1",
        "new_user_role": Role.PRACTITIONER, "new_user_departments": [physio.pk],
    }
    response = admin.post("/admin/sso_providers/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    provider = OidcProvider.objects.with_scopes_disabled().get(organization=alpha)
    assert provider.issuer == idp.issuer and provider.allowed_domains == "example.com,example.org"
    assert provider.client_secret == "top-secret-1"

    # Editing without typing a secret keeps it; the audit row never holds it.
    response = admin.post(f"/admin/sso_providers/edit/{provider.pk}/", {**data, "client_secret": "",
                                                                        "button_text": "Google"})
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.client_secret == "top-secret-1" and provider.button_text == "Google"
    response = admin.post(f"/admin/sso_providers/edit/{provider.pk}/", {**data, "client_secret": "new-secret-2"})
    provider.refresh_from_db()
    assert provider.client_secret == "new-secret-2"
    response = admin.post(f"/admin/sso_providers/delete/{provider.pk}/")
    assert response.status_code == 302
    assert not OidcProvider.objects.with_scopes_disabled().filter(pk=provider.pk).exists()
    with scopes_disabled():
        events = AuditEvent.objects.filter(organization=alpha, action__startswith="sso.")
        assert sorted(events.values_list("action", flat=True)) == ["sso.create", "sso.delete", "sso.update",
                                                                  "sso.update"]
        assert not any("secret-" in str(e.changes) for e in events)


def test_admin_bad_input_writes_nothing(alpha):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    response = admin.post("/admin/sso_providers/new/", {
        "name": "Bad", "button_text": "Bad", "issuer": "http://idp.example.com", "allowed_domains": "not a domain!",
        "client_id": "abc", "client_secret": "", "new_user_role": Role.PRACTITIONER,
    })
    assert response.status_code == 200
    page = response.content.decode()
    assert "https://" in page and "is not a domain name" in page and "Enter the client secret" in page
    assert not OidcProvider.objects.with_scopes_disabled().exists()


def test_admin_screens_are_for_this_organisations_admins_only(alpha, beta, idp):
    beta_provider = make_provider(beta, idp)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    assert admin.get("/admin/sso_providers/").status_code == 200
    assert admin.get(f"/admin/sso_providers/edit/{beta_provider.pk}/").status_code == 404
    assert admin.post(f"/admin/sso_providers/delete/{beta_provider.pk}/").status_code == 404
    practitioner = signed_in_client(alpha.people["gp"].user, alpha)
    assert practitioner.get("/admin/sso_providers/").status_code in (302, 403, 404)
    assert OidcProvider.objects.with_scopes_disabled().filter(pk=beta_provider.pk).exists()


def test_profile_links_to_the_linked_accounts_page(alpha, beta, idp):
    alpha_provider = make_provider(alpha, idp, button_text="Alpha Google")
    beta_provider = make_provider(beta, idp, button_text="Beta Microsoft")
    gp = alpha.people["gp"]
    link(gp, alpha_provider, "gp-a")
    link(gp, beta_provider, "gp-b")  # another organisation's link is not listed on alpha's host
    client = signed_in_client(gp.user, alpha)
    assert "/accounts/3rdparty/" in client.get("/portal/profile/").content.decode()
    page = client.get("/accounts/3rdparty/").content.decode()
    assert "Alpha Google" in page and "Beta Microsoft" not in page


def test_employee_links_the_provider_from_my_profile_then_signs_in_with_it(alpha, idp):
    provider = make_provider(alpha, idp)
    gp = alpha.people["gp"]
    idp.user = {"sub": "gp-own-sub", "email": "gp.private@example.com", "email_verified": True}
    client = signed_in_client(gp.user, alpha)
    authorize = start_sign_in(client, provider, "?process=connect")
    assert authorize.startswith(f"{idp.issuer}/authorize?")
    answer = requests.get(authorize, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    response = client.get(f"{callback.path}?{callback.query}")
    # Linking asks for the password again first (SOCIALACCOUNT_REAUTHENTICATION_REQUIRED): nothing linked yet.
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
    assert not SocialAccount.objects.exists()
    assert client.post("/accounts/reauthenticate/", {"password": "wrong-password-1"}).status_code == 200
    assert not SocialAccount.objects.exists()
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302 and "/accounts/3rdparty/" in response["Location"]
    account = SocialAccount.objects.get(user=gp.user)
    assert (account.provider, account.uid) == (provider.provider_id, "gp-own-sub")

    fresh = host_client(alpha)
    assert sso_sign_in(fresh, provider, idp).status_code == 302
    assert signed_in_user_id(fresh) == str(gp.user.pk)


def test_linking_is_refused_during_remote_support(alpha, idp, rf):
    """Defence in depth behind remote support's forbidden paths: platform staff acting as an employee cannot
    link their own identity to the employee's account (a way in that outlives the support session)."""
    from allauth.core.exceptions import ImmediateHttpResponse
    from allauth.socialaccount.models import SocialLogin

    provider = make_provider(alpha, idp)
    account = SocialAccount(provider=provider.provider_id, uid="staff-sub", extra_data={
        "id_token": {"iss": idp.issuer, "sub": "staff-sub", "email": "staff@platform.test"}})
    request = rf.get("/accounts/oidc/x/login/callback/", HTTP_HOST=alpha.hostname)
    request.organization = alpha
    request.user = alpha.people["gp"].user
    request.remote_support = {"staff_id": 1, "staff_email": "staff@platform.test"}
    sociallogin = SocialLogin(account=account)
    sociallogin.state = {"process": "connect"}
    with pytest.raises(ImmediateHttpResponse) as refused:
        sso.pre_social_login(request, sociallogin)
    assert refused.value.response.status_code == 403
    assert "cannot be linked during remote support" in refused.value.response.content.decode()
    request.remote_support = None  # the same link by the employee themselves goes on (to re-authentication)
    assert sso.pre_social_login(request, sociallogin) is None
    assert not SocialAccount.objects.exists()


# --- hosted domain, subject, addresses (security review) -------------------------------------------

def test_google_accounts_need_an_allowed_hosted_domain():
    """A personal Google account (no "hd") with a verified work address is not the organisation's Workspace
    account; for other issuers the email's domain still counts when there is no "hd"."""
    google = OidcProvider(issuer=sso.GOOGLE_ISSUER, allowed_domains="example.com")
    token = {"iss": sso.GOOGLE_ISSUER, "sub": "1"}
    personal = {"email": "ex.employee@example.com", "email_verified": True}
    with pytest.raises(sso.RefusedError, match="Personal Google accounts may not sign in here"):
        sso.check_identity(google, {**personal, **token}, token)
    with pytest.raises(sso.RefusedError, match="“other.org” may not sign in here"):
        sso.check_identity(google, {**personal, "hd": "other.org", **token}, token)
    assert sso.check_identity(google, {**personal, "hd": "Example.com", **token}, token) == "ex.employee@example.com"
    assert sso.check_identity(OidcProvider(issuer=sso.GOOGLE_ISSUER), {**personal, **token}, token)  # no list

    other = OidcProvider(issuer="https://login.microsoftonline.com/t/v2.0", allowed_domains="example.com")
    token = {"iss": other.issuer, "sub": "1"}
    assert sso.check_identity(other, {**personal, **token}, token) == "ex.employee@example.com"


def test_no_hosted_domain_falls_back_to_the_email_domain_for_other_issuers(alpha, idp):
    provider = make_provider(alpha, idp, create_users_on_login=True, allowed_domains="example.com")
    idp.user = {"sub": "ms-1", "email": "new.colleague@example.com"}  # like Entra ID: no hd, no email_verified
    client = host_client(alpha)
    assert sso_sign_in(client, provider, idp).status_code == 302
    assert signed_in_user_id(client) == str(User.objects.get(email="new.colleague@example.com").pk)


def test_userinfo_naming_another_subject_than_the_id_token_is_refused(alpha, idp):
    """allauth takes the subject from the userinfo answer; the match must rest on the signed ID token."""
    provider = make_provider(alpha, idp, create_users_on_login=True)
    link(alpha.people["admin"], provider, "admin-sub")
    idp.user = {"sub": "attacker-sub", "email": "attacker@example.com", "email_verified": True}
    idp.userinfo_overrides = {"sub": "admin-sub"}
    client = host_client(alpha)
    assert_refused(client, sso_sign_in(client, provider, idp), "did not agree on who you are")
    assert not User.objects.filter(email="attacker@example.com").exists()
    assert SocialAccount.objects.count() == 1


@pytest.mark.parametrize("issuer", [
    "https://127.0.0.1", "https://localhost:8443", "https://10.1.2.3", "https://192.168.0.10/realms/x",
    "https://169.254.169.254", "https://[::1]", "https://[::ffff:127.0.0.1]", "https://100.64.0.1",
    "https://0.0.0.0", "http://127.0.0.1:9000", "https://no-such-host.invalid",
])
def test_admin_cannot_save_an_issuer_on_a_private_address(alpha, settings, issuer):
    settings.SSO_ALLOW_PRIVATE_ISSUERS = False
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    response = admin.post("/admin/sso_providers/new/", {
        "name": "Internal", "button_text": "Internal", "issuer": issuer, "client_id": "abc",
        "client_secret": "top-secret-1", "new_user_role": Role.PRACTITIONER,
    })
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert ("is a local or private network address" in page or "could not be found" in page
            or "must be an https:// address" in page)
    assert not OidcProvider.objects.with_scopes_disabled().exists()


def test_private_issuer_is_refused_again_before_the_server_calls_it(alpha, idp, settings):
    provider = make_provider(alpha, idp)  # saved while local providers were allowed (development, or DNS changed)
    link(alpha.people["gp"], provider, "gp-sub")
    settings.SSO_ALLOW_PRIVATE_ISSUERS = False
    client = host_client(alpha)
    response = client.post(f"/accounts/oidc/{provider.provider_id}/login/")
    assert response.status_code == 403
    page = html.unescape(response.content.decode())
    assert "This sign-in provider cannot be used" in page and "is not an https:// address" in page
    assert idp.requests == []  # not even the discovery document was fetched


@pytest.mark.parametrize("endpoint", ["token_endpoint", "jwks_uri", "userinfo_endpoint"])
def test_discovery_naming_a_private_endpoint_is_refused(alpha, idp, endpoint):
    provider = make_provider(alpha, idp)
    link(alpha.people["gp"], provider, "gp-sub")
    idp.discovery_overrides = {endpoint: "http://169.254.169.254/latest/meta-data/"}
    client = host_client(alpha)
    response = client.post(f"/accounts/oidc/{provider.provider_id}/login/")
    assert response.status_code == 403
    assert "is not an https:// address" in html.unescape(response.content.decode())
    assert idp.requests == [("GET", "/.well-known/openid-configuration")]


def test_server_side_calls_go_to_public_https_addresses_only(settings):
    """The session allauth uses for every provider call checks each request, redirects included."""
    from allauth.socialaccount.adapter import get_adapter

    settings.SSO_ALLOW_PRIVATE_ISSUERS = False
    with OidcTestProvider() as local, get_adapter().get_requests_session() as session:
        for url in (f"{local.issuer}/jwks", "https://127.0.0.1:1/", "https://[fd00::1]/", "https://10.0.0.1/"):
            with pytest.raises(requests.RequestException):
                session.get(url)
        assert local.requests == []
        settings.SSO_ALLOW_PRIVATE_ISSUERS = True
        assert session.get(f"{local.issuer}/jwks").status_code == 200
    sso.check_server_url("https://8.8.8.8/")  # a public address passes
    with pytest.raises(ValidationError):
        sso.check_server_url("http://8.8.8.8/")  # plain http never, outside this machine
