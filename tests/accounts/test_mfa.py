"""Two-factor authentication (F-AUTH-3): allauth's MFA with our adapter, the organisation's policy, the admin."""

import json
import time
from contextlib import nullcontext
from datetime import UTC, datetime

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.cache import cache

from orgs.models import AuditEvent, TwoFactorPolicy
from orgs.scoping import scopes_disabled
from tests.conftest import PASSWORD, host_client, signed_in_client

pytestmark = pytest.mark.django_db

ACTIVATE = "/accounts/2fa/totp/activate/"
on_commit = nullcontext
AUTHENTICATE = "/accounts/2fa/authenticate/"


@pytest.fixture(autouse=True)
def _commit_callbacks(django_capture_on_commit_callbacks):
    """allauth sends `authenticator_added` on commit; the tests run in a transaction."""
    global on_commit
    on_commit = django_capture_on_commit_callbacks


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # rate limits and used TOTP codes


@pytest.fixture(autouse=True)
def _start_of_a_period():
    """At the start of a 30-second TOTP period (time keeps running): a code computed now is still the
    server's code when the request arrives."""
    now = time.time()
    with time_machine.travel(datetime.fromtimestamp(now - now % 30 + 0.5, tz=UTC), tick=True):
        yield


def totp_code(secret, periods_ago=0):
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 - periods_ago))


def sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def signed_in(org, key):
    """A client signed in through the real form (allauth records the session and the authentication time)."""
    client = host_client(org)
    response = sign_in(client, org.people[key].user.email)
    assert response.status_code == 302 and response["Location"] != AUTHENTICATE
    return client


def reauthenticate(client):
    """allauth asks for the password again before two-factor settings change."""
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302


def activate(client):
    response = client.get(ACTIVATE)
    if response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/"):
        reauthenticate(client)
        response = client.get(ACTIVATE)
    assert response.status_code == 200
    secret = client.session["mfa.totp.secret"]
    with on_commit(execute=True):
        response = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return secret


def set_policy(org, value):
    org.two_factor_policy = value
    org.save(update_fields=["two_factor_policy"])


def authenticators(membership):
    return set(Authenticator.objects.filter(user=membership.user).values_list("type", flat=True))


# --- activation -------------------------------------------------------------------------------------


def test_activation_shows_the_qr_code_refuses_a_wrong_code_and_activates_with_the_right_one(alpha):
    gp = alpha.people["gp"]
    client = signed_in(alpha, "gp")
    assert client.get(ACTIVATE)["Location"] == f"/accounts/reauthenticate/?next={ACTIVATE.replace('/', '%2F')}"
    reauthenticate(client)
    response = client.get(ACTIVATE)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in html  # the QR code
    # The authenticator app lists the account under the organisation's name.
    assert "issuer=Alpha%20Practice" in response.context["totp_url"]
    secret = client.session["mfa.totp.secret"]
    assert secret in html  # also shown as text, for typing in

    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    response = client.post(ACTIVATE, {"code": wrong})
    assert response.status_code == 200 and "Incorrect code." in response.content.decode()
    assert authenticators(gp) == set()

    with on_commit(execute=True):
        response = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert authenticators(gp) == {"totp", "recovery_codes"}
    recovery = Authenticator.objects.get(user=gp.user, type="recovery_codes")
    assert len(recovery.wrap().get_unused_codes()) == 10
    with scopes_disabled():
        event = AuditEvent.objects.get(organization=alpha, action="mfa.activate")
    assert event.actor == gp.user and event.changes == {"type": [None, "totp"]}
    assert client.get("/portal/profile/").content.decode().count("Deactivate the authenticator app") == 1


def test_secrets_are_encrypted_at_rest(alpha):
    gp = alpha.people["gp"]
    secret = activate(signed_in(alpha, "gp"))
    totp = Authenticator.objects.get(user=gp.user, type="totp")
    stored = json.dumps(totp.data)
    assert secret not in stored and totp.data["secret"].startswith("fernet:")
    assert totp.wrap().validate_code(totp_code(secret))  # and it still decrypts
    recovery = Authenticator.objects.get(user=gp.user, type="recovery_codes")
    codes = RecoveryCodes(recovery).get_unused_codes()
    stored = json.dumps(recovery.data)
    assert recovery.data["seed"].startswith("fernet:") and not any(code in stored for code in codes)


def test_secret_key_rotation_keeps_authenticators_working(alpha, settings):
    gp = alpha.people["gp"]
    secret = activate(signed_in(alpha, "gp"))
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-the-rotation-test-0123456789abcdef"
    totp = Authenticator.objects.get(user=gp.user, type="totp")
    assert totp.wrap().validate_code(totp_code(secret))
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(ValueError):
        totp.wrap().validate_code(totp_code(secret, periods_ago=1))


# --- signing in -------------------------------------------------------------------------------------


def test_sign_in_with_password_and_totp_code(alpha):
    secret = activate(signed_in(alpha, "gp"))
    client = host_client(alpha)
    response = sign_in(client, "gp@alpha.test")
    assert response.status_code == 302 and response["Location"] == AUTHENTICATE
    # Password alone does not open anything.
    assert client.get("/portal/").status_code == 302
    response = client.post(AUTHENTICATE, {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert response.status_code == 200 and "Incorrect code." in response.content.decode()
    response = client.post(AUTHENTICATE, {"code": totp_code(secret)})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200


def test_a_totp_code_cannot_be_replayed(alpha):
    secret = activate(signed_in(alpha, "gp"))
    code = totp_code(secret)
    first = host_client(alpha)
    sign_in(first, "gp@alpha.test")
    assert first.post(AUTHENTICATE, {"code": code})["Location"] == "/portal/"
    # Someone who saw the code (shoulder, phishing proxy) tries it within its 30 seconds.
    second = host_client(alpha)
    sign_in(second, "gp@alpha.test")
    response = second.post(AUTHENTICATE, {"code": code})
    assert response.status_code == 200 and "Incorrect code." in response.content.decode()
    assert second.get("/portal/").status_code == 302


def test_sign_in_with_a_recovery_code_works_once(alpha):
    gp = alpha.people["gp"]
    activate(signed_in(alpha, "gp"))
    code = RecoveryCodes(Authenticator.objects.get(user=gp.user, type="recovery_codes")).get_unused_codes()[0]
    client = host_client(alpha)
    sign_in(client, "gp@alpha.test")
    response = client.post(AUTHENTICATE, {"code": code})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert len(RecoveryCodes(Authenticator.objects.get(user=gp.user, type="recovery_codes")).get_unused_codes()) == 9

    again = host_client(alpha)
    sign_in(again, "gp@alpha.test")
    response = again.post(AUTHENTICATE, {"code": code})
    assert response.status_code == 200 and "Incorrect code." in response.content.decode()


def test_security_key_registration_starts_on_the_organisation_host(alpha):
    client = signed_in(alpha, "gp")
    reauthenticate(client)
    response = client.get("/accounts/2fa/webauthn/add/")
    assert response.status_code == 200
    options = response.context["js_data"]["creation_options"]["publicKey"]
    assert options["rp"] == {"id": "alpha.localhost", "name": "Alpha Practice"}
    assert options["user"]["name"] == "gp@alpha.test"
    assert options["challenge"]
    html = response.content.decode()
    assert 'id="js_data"' in html and "mfa/js/webauthn.js" in html


def test_deactivating_is_audited(alpha):
    gp = alpha.people["gp"]
    client = signed_in(alpha, "gp")
    activate(client)
    reauthenticate(client)
    with on_commit(execute=True):
        response = client.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302
    assert authenticators(gp) == set()  # the recovery codes go with the last authenticator
    with scopes_disabled():
        assert AuditEvent.objects.filter(organization=alpha, action="mfa.deactivate", actor=gp.user).count() == 1


# --- sessions ---------------------------------------------------------------------------------------


def test_activating_ends_the_other_sessions(alpha):
    other = signed_in(alpha, "gp")
    assert other.get("/portal/").status_code == 200
    this = signed_in(alpha, "gp")
    activate(this)
    response = other.get("/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")  # signed out
    assert this.get("/portal/").status_code == 200


def test_changing_the_password_ends_the_other_sessions(alpha):
    other = signed_in(alpha, "gp")
    this = signed_in(alpha, "gp")
    new = "another-long-password-42"
    response = this.post("/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new,
                                                         "password2": new})
    assert response.status_code == 302
    response = other.get("/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert this.get("/portal/").status_code == 200


def test_my_profile_links_the_sessions_page(alpha):
    client = signed_in(alpha, "gp")
    html = client.get("/portal/profile/").content.decode()
    assert 'href="/accounts/sessions/"' in html
    other = signed_in(alpha, "gp")
    page = client.get("/accounts/sessions/").content.decode()
    assert "Where you are signed in" in page and page.count("<tr>") == 3  # header + both sessions
    assert "This session" in page and 'href="/portal/profile/"' in page
    assert client.post("/accounts/sessions/").status_code == 302  # sign out the other sessions
    assert other.get("/portal/")["Location"].startswith("/accounts/login/")
    assert client.get("/portal/").status_code == 200


# --- the organisation's policy ----------------------------------------------------------------------


def test_required_sends_staff_to_set_it_up_first(alpha):
    set_policy(alpha, TwoFactorPolicy.REQUIRED)
    client = host_client(alpha)
    assert sign_in(client, "gp@alpha.test")["Location"] == "/portal/"
    for path in ("/portal/", "/portal/profile/", "/portal/clients/", "/portal/waiting-room/count/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/accounts/2fa/", path
    response = client.get("/portal/waiting-room/list/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == "/accounts/2fa/"
    response = client.get("/portal/waiting-room/count/", HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and response.json()["redirect"] == "/accounts/2fa/"
    response = client.get("/accounts/2fa/")
    assert response.status_code == 200
    assert "Alpha Practice requires two-factor authentication" in response.content.decode()
    assert "Back to My profile" not in response.content.decode()  # it would only come back here
    assert 'href="/portal/agenda/"' not in response.content.decode()  # nor a portal menu that loops back
    # The setup pages (after the password again), the language switch and signing out stay reachable.
    reauthenticate(client)
    assert client.get(ACTIVATE).status_code == 200
    assert client.post("/i18n/setlang/", {"language": "nl", "next": "/accounts/2fa/"}).status_code == 302

    activate(client)
    assert client.get("/portal/").status_code == 200
    assert client.get("/portal/waiting-room/count/").status_code == 200


def test_required_closes_the_admin_too_and_sign_out_still_works(alpha):
    set_policy(alpha, TwoFactorPolicy.REQUIRED)
    client = host_client(alpha)
    assert sign_in(client, "admin@alpha.test")["Location"] == "/admin/"
    for path in ("/admin/", "/admin/employees/", "/admin/organisation/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/accounts/2fa/", path
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/accounts/2fa/").status_code == 302  # signed out: to the sign-in page


def test_allowed_reminds_after_each_sign_in_and_stops_once_set_up(alpha):
    assert alpha.two_factor_policy == TwoFactorPolicy.ALLOWED
    client = host_client(alpha)
    sign_in(client, "gp@alpha.test")
    html = client.get("/portal/").content.decode()
    assert "Protect your account with two-factor authentication" in html
    assert '<a href="/accounts/2fa/">Set up two-factor authentication</a>' in html
    activate(client)
    client = host_client(alpha)
    sign_in(client, "gp@alpha.test")
    assert "Protect your account" not in client.get("/portal/").content.decode()


def test_no_reminder_where_not_offered_and_no_activation_either(alpha):
    set_policy(alpha, TwoFactorPolicy.OFF)
    client = host_client(alpha)
    sign_in(client, "gp@alpha.test")
    assert "Protect your account" not in client.get("/portal/").content.decode()
    assert client.get(ACTIVATE).status_code == 404
    assert client.get("/accounts/2fa/webauthn/add/").status_code == 404
    assert "does not offer two-factor authentication" in client.get("/portal/profile/").content.decode()


# --- the organisation admin -------------------------------------------------------------------------


def test_employee_list_shows_who_has_two_factor_and_filters_on_it(alpha):
    activate(signed_in(alpha, "gp"))
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    response = admin.get("/admin/employees/")
    html = response.content.decode()
    assert response.status_code == 200 and "Two-factor" in html
    rows = {row.split("</a>")[0].rsplit(">", 1)[-1].strip(): row for row in html.split("<tr")[2:]}
    gp_row = next(row for row in rows.values() if "gp@alpha.test" in row)
    physio_row = next(row for row in rows.values() if "physio@alpha.test" in row)
    assert ">on<" in gp_row.replace(" ", "").replace("\n", "") and ">off<" in physio_row.replace(" ", "").replace(
        "\n", "")
    listed = admin.get("/admin/employees/?has_two_factor=true").content.decode()
    assert "gp@alpha.test" in listed and "physio@alpha.test" not in listed
    listed = admin.get("/admin/employees/?has_two_factor=false").content.decode()
    assert "gp@alpha.test" not in listed and "physio@alpha.test" in listed


def test_admin_disables_an_employees_two_factor_audited(alpha):
    gp = alpha.people["gp"]
    activate(signed_in(alpha, "gp"))
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    url = f"/admin/employees/{gp.pk}/two-factor/disable/"
    assert url in admin.get(f"/admin/employees/edit/{gp.pk}/").content.decode()
    response = admin.get(url)
    assert response.status_code == 200 and "Disable two-factor authentication" in response.content.decode()
    assert authenticators(gp) == {"totp", "recovery_codes"}  # asking removes nothing
    response = admin.post(url)
    assert response.status_code == 302
    assert authenticators(gp) == set()
    with scopes_disabled():
        event = AuditEvent.objects.get(organization=alpha, action="mfa.disable")
    assert event.actor == alpha.people["admin"].user and event.target_id == str(gp.pk)
    assert event.changes == {"two_factor": [["recovery_codes", "totp"], []]}
    # The employee signs in with the password alone again.
    client = host_client(alpha)
    assert sign_in(client, "gp@alpha.test")["Location"] == "/portal/"


def test_only_the_organisations_own_admins_may_disable(alpha, beta):
    gp = alpha.people["gp"]
    activate(signed_in(alpha, "gp"))
    url = f"/admin/employees/{gp.pk}/two-factor/disable/"
    beta_admin = signed_in_client(beta.people["admin"].user, beta)
    assert beta_admin.post(url).status_code == 404  # another organisation's employee id
    practitioner = signed_in_client(alpha.people["physio"].user, alpha)
    assert practitioner.post(url).status_code == 404
    deptadmin = signed_in_client(alpha.people["deptadmin"].user, alpha)
    assert deptadmin.post(url).status_code == 404
    assert authenticators(gp) == {"totp", "recovery_codes"}
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="mfa.disable").exists()


def test_the_reminder_reaches_an_org_admin_in_the_admin_too(alpha):
    client = host_client(alpha)
    assert sign_in(client, "admin@alpha.test")["Location"] == "/admin/"
    html = client.get("/admin/").content.decode()
    assert '<a href="/accounts/2fa/">Set up two-factor authentication</a>' in html  # a link, not escaped text


def test_an_admin_cannot_remove_the_second_factor_another_organisation_relies_on(alpha, beta):
    """One account may work for two organisations; its authenticators protect both. Adding beta's admin as an
    employee of alpha must not let alpha's admin strip that protection."""
    from orgs.models import Role
    from orgs.services import employee_create

    victim = beta.people["admin"]
    activate(signed_in(beta, "admin"))
    with scopes_disabled():
        shared = employee_create(organization=alpha, actor=None, email=victim.user.email, first_name="B",
                                 last_name="Admin", role=Role.PRACTITIONER, departments=[], send_invitation=False)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    url = f"/admin/employees/{shared.pk}/two-factor/disable/"
    assert url not in admin.get(f"/admin/employees/edit/{shared.pk}/").content.decode()
    page = admin.get(url)
    assert page.status_code == 200 and "Only platform support can reset it" in page.content.decode()
    refused = admin.post(url)  # Wagtail answers a refusal with its "no permission" redirect
    assert refused.status_code == 302 and refused["Location"] == "/admin/"
    assert authenticators(victim) == {"totp", "recovery_codes"}
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="mfa.disable").exists()


def test_platform_staff_set_up_two_factor_on_the_platform_host_without_portal_links(superuser):
    """Remote support needs the staff member's own authenticator; its pages on the platform host lead back to the
    platform admin, not into a portal that does not exist there."""
    client = host_client(None)
    assert sign_in(client, superuser.email)["Location"] == "/admin/"
    page = client.get("/accounts/2fa/").content.decode()
    assert 'href="/admin/"' in page and "Back to the platform admin" in page
    assert "/portal/" not in page
