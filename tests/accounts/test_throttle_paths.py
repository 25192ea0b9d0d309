"""Failed-login throttling on every way in (issue #7 part 3, F-AUTH-5): one test per path.

Each proves the lock engages, that even the right secret is refused while locked, and that the refusal says
when to try again. The API key path is tested with the API (tests/api/). Django's admin is not mounted.
"""

import re
import time
from datetime import UTC, datetime

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core import mail
from django.core.cache import cache

from accounts import signin_throttle
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from portal import services as portal_services
from tests.conftest import PASSWORD, host_client
from tests.portal.patient_helpers import last_pin, make_client, request_pin

pytestmark = pytest.mark.django_db

TRY_AGAIN = re.compile(r"Too many failed login attempts\. Try again after \d{2}:\d{2}\.")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def signed_in(client):
    return "_auth_user_id" in client.session


def lockouts(org, path):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(organization=org, action="signin.locked", changes__path=path))


# --- allauth login (email + password) ---------------------------------------------------------------

def test_wrong_passwords_lock_the_account_and_the_right_one_is_refused_until_the_lock_ends(alpha):
    client = host_client(alpha)
    limit = signin_throttle.KEY_LIMITS["password"]
    for _ in range(limit.failures - 1):
        response = sign_in(client, "gp@alpha.test", password="wrong-password")
        assert "not correct" in response.content.decode()
    response = sign_in(client, "gp@alpha.test", password="wrong-password")  # the last allowed failure locks
    assert TRY_AGAIN.search(response.content.decode())
    response = sign_in(host_client(alpha), "GP@alpha.test")  # the right password, from another browser
    assert response.status_code == 200 and TRY_AGAIN.search(response.content.decode())
    assert not signed_in(client)
    [event] = lockouts(alpha, "password")  # recorded once, however often it is refused afterwards
    assert event.changes["who"] == "gp@alpha.test" and event.action_label() == "Sign-in locked after failed attempts"
    assert datetime.fromisoformat(event.changes["until"]).timestamp() == pytest.approx(time.time() + limit.lock, abs=5)
    with time_machine.travel(time.time() + limit.lock + 1):  # the lock ends by the clock, in any cache
        response = sign_in(client, "gp@alpha.test")
    assert response.status_code == 302 and signed_in(client)


def test_wrong_passwords_on_another_host_lock_nothing_here(alpha, beta):
    for _ in range(signin_throttle.KEY_LIMITS["password"].failures):
        sign_in(host_client(beta), "gp@alpha.test", password="wrong-password")
    assert len(lockouts(beta, "password")) == 1 and lockouts(alpha, "password") == []
    client = host_client(alpha)
    assert sign_in(client, "gp@alpha.test").status_code == 302 and signed_in(client)


def test_many_accounts_from_one_address_lock_the_address(alpha):
    client = host_client(alpha)
    limit = signin_throttle.ADDRESS_LIMITS["password"]
    for number in range(limit.failures):
        sign_in(client, f"nobody{number}@alpha.test", password="wrong-password")
    response = sign_in(client, "admin@alpha.test")  # an account nobody tried, from the same address
    assert TRY_AGAIN.search(response.content.decode()) and not signed_in(client)
    [event] = lockouts(alpha, "password")
    assert event.changes["who"] == "127.0.0.1"


def test_an_address_locked_on_one_organisations_host_signs_in_on_another_and_on_the_platform(alpha, beta, superuser):
    """Also allauth's own failed-login count is not per address (it would be platform-wide), only per account on
    a host: right after the wrong tries, the same address signs in elsewhere."""
    client = host_client(alpha)
    for number in range(signin_throttle.ADDRESS_LIMITS["password"].failures):
        sign_in(client, f"nobody{number}@x.test", password="wrong-password")
    assert TRY_AGAIN.search(sign_in(host_client(alpha), "admin@alpha.test").content.decode())
    beta_admin = host_client(beta)  # the same address (127.0.0.1) on beta's host
    assert sign_in(beta_admin, beta.people["admin"].user.email).status_code == 302 and signed_in(beta_admin)
    platform = host_client(None)
    assert sign_in(platform, superuser.email).status_code == 302 and signed_in(platform)
    assert len(lockouts(alpha, "password")) == 1 and lockouts(beta, "password") == []


def test_a_right_password_forgets_the_earlier_failures(alpha):
    client = host_client(alpha)
    for _ in range(signin_throttle.KEY_LIMITS["password"].failures - 1):
        sign_in(client, "gp@alpha.test", password="wrong-password")
    assert sign_in(client, "gp@alpha.test").status_code == 302
    other = host_client(alpha)
    response = sign_in(other, "gp@alpha.test", password="wrong-password")
    assert "not correct" in response.content.decode() and not lockouts(alpha, "password")


def test_lockouts_on_the_platform_host_are_only_logged(alpha, superuser, caplog):
    client = host_client(None)
    for _ in range(signin_throttle.KEY_LIMITS["password"].failures):
        sign_in(client, superuser.email, password="wrong-password")
    response = sign_in(client, superuser.email)
    assert TRY_AGAIN.search(response.content.decode()) and not signed_in(client)
    assert "Sign-in locked: path=password" in caplog.text
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="signin.locked").exists()


# --- the MFA code step ------------------------------------------------------------------------------

@pytest.fixture
def _start_of_a_period():
    now = time.time()
    with time_machine.travel(datetime.fromtimestamp(now - now % 30 + 0.5, tz=UTC), tick=True):
        yield


def test_wrong_two_factor_codes_lock_the_code_step(alpha, _start_of_a_period):
    gp = alpha.people["gp"].user
    secret = generate_totp_secret()
    TOTP.activate(gp, secret)
    client = host_client(alpha)
    response = sign_in(client, gp.email)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    right = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    wrong = "000000" if right != "000000" else "111111"
    limit = signin_throttle.KEY_LIMITS["mfa"]
    for _ in range(limit.failures - 1):
        response = client.post("/accounts/2fa/authenticate/", {"code": wrong})
        assert "Incorrect code" in response.content.decode()
    response = client.post("/accounts/2fa/authenticate/", {"code": wrong})
    assert TRY_AGAIN.search(response.content.decode())
    response = client.post("/accounts/2fa/authenticate/", {"code": right})
    assert response.status_code == 200 and TRY_AGAIN.search(response.content.decode()) and not signed_in(client)
    # A fresh password login does not start the count again: the lock is the account's.
    fresh = host_client(alpha)
    assert sign_in(fresh, gp.email)["Location"] == "/accounts/2fa/authenticate/"
    response = fresh.post("/accounts/2fa/authenticate/", {"code": right})
    assert TRY_AGAIN.search(response.content.decode()) and not signed_in(fresh)
    [event] = lockouts(alpha, "mfa")
    assert event.changes["who"] == gp.email


# --- the Wagtail admin login and Django's admin -------------------------------------------------------

def test_the_wagtail_admin_login_only_redirects_to_the_throttled_sign_in(alpha):
    client = host_client(alpha)
    response = client.post("/admin/login/", {"username": "admin@alpha.test", "login": "admin@alpha.test",
                                             "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not signed_in(client)
    for _ in range(signin_throttle.KEY_LIMITS["password"].failures):
        sign_in(client, "admin@alpha.test", password="wrong-password")
    response = client.post("/admin/login/?next=/admin/", {"login": "admin@alpha.test", "password": PASSWORD},
                           follow=True)
    assert not signed_in(client)
    response = client.post(response.redirect_chain[-1][0], {"login": "admin@alpha.test", "password": PASSWORD})
    assert TRY_AGAIN.search(response.content.decode()) and not signed_in(client)
    assert client.get("/admin/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/django-admin/", "/django-admin/login/", "/admin/django/",
                                 "/admin/django/login/", "/admin/auth/user/"])
def test_djangos_admin_is_not_mounted_on_any_host(alpha, url):
    for client in (host_client(alpha), host_client(None)):
        assert client.get(url).status_code in (302, 404)
        response = client.post(url, {"username": "admin@alpha.test", "password": PASSWORD})
        assert response.status_code in (302, 403, 404) and not signed_in(client)
    admin = host_client(alpha)
    assert sign_in(admin, "admin@alpha.test").status_code == 302
    assert admin.get(url).status_code == 404  # signed in: no such screen either


# --- the patient portal PIN ------------------------------------------------------------------------

def test_pin_tries_from_one_address_lock_it_and_the_lock_is_recorded(alpha, django_capture_on_commit_callbacks):
    patient = make_client(alpha)
    browser = host_client(alpha)
    request_pin(browser, django_capture_on_commit_callbacks, email=patient.email)
    pin = last_pin(patient.email)
    cache.clear()  # only the tries count here, not the request
    browser.post("/patient/sign-in/", {"email": patient.email})  # pending sign-in for this client
    for _ in range(portal_services.PIN_TRIES_PER_ADDRESS):
        browser.post("/patient/code/", {"pin": "999999" if pin != "999999" else "888888"})
    response = browser.post("/patient/code/", {"pin": pin})  # the right PIN, too late
    assert response.status_code == 429 and "try again after" in response.content.decode()
    assert "patient_portal" not in browser.session
    [event] = lockouts(alpha, "pin")
    assert event.changes["who"] == "127.0.0.1"


def test_the_daily_pause_of_a_clients_pin_sign_in_is_recorded_once(alpha, django_capture_on_commit_callbacks):
    patient = make_client(alpha)
    browser = host_client(alpha)
    wrong = 0
    while wrong < portal_services.PIN_WRONG_TRIES_PER_DAY + 2:
        cache.clear()
        mail.outbox.clear()
        request_pin(browser, django_capture_on_commit_callbacks, email=patient.email)
        if not mail.outbox:
            break  # paused: no more codes
        pin = last_pin(patient.email)
        for _ in range(4):
            browser.post("/patient/code/", {"pin": "000000" if pin != "000000" else "111111"})
            wrong += 1
    [event] = lockouts(alpha, "pin")
    assert event.changes["who"] == f"client {patient.pk} (from 127.0.0.1)"
    assert [lock["event"] for lock in signin_throttle.current_lockouts(alpha)] == [event]


# --- single sign-on ----------------------------------------------------------------------------------

def test_oidc_login_and_callback_requests_are_limited_per_address(alpha):
    client = host_client(alpha)
    limit = signin_throttle.ADDRESS_LIMITS["sso"]
    for number in range(limit.failures):
        url = "/accounts/oidc/any/login/callback/" if number % 2 else "/accounts/oidc/any/login/"
        assert client.get(url).status_code != 429
    response = client.get("/accounts/oidc/any/login/")
    assert response.status_code == 429 and TRY_AGAIN.search(response.content.decode())
    assert client.get("/accounts/oidc/any/login/callback/?code=x&state=y").status_code == 429
    assert client.get("/accounts/login/").status_code == 200  # other pages are not affected
    [event] = lockouts(alpha, "sso")
    assert event.changes["who"] == "127.0.0.1"
