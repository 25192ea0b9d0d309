"""The sign-in throttle itself (accounts/signin_throttle.py) and the org admin's "Sign-in lockouts" screen."""

import os
import subprocess
import sys
import time

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import RequestFactory

from accounts import signin_throttle
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from tests.conftest import PASSWORD, host_client, signed_in_client

pytestmark = pytest.mark.django_db

LOCKOUTS = "/admin/lockouts/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def lock(org, *, path="password", key=None, request=None):
    """Lock gp@alpha.test's password sign-in on `org`'s host (the adapter counts per host and email)."""
    limit = signin_throttle.KEY_LIMITS[path]
    label = key or "gp@alpha.test"
    key = key or f"{org.pk}:gp@alpha.test"
    results = [signin_throttle.failed(path=path, key=key, organization=org, request=request, label=label)
               for _ in range(limit.failures)]
    return results


def events(org, action="signin.locked"):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(organization=org, action=action))


def test_the_last_allowed_failure_locks_once_and_the_lock_ends_on_time(alpha):
    results = lock(alpha, path="mfa", key="user:42")
    assert results[:-1] == [None] * (len(results) - 1) and results[-1] is not None
    until = results[-1]
    assert signin_throttle.locked_until(path="mfa", key="user:42", organization=alpha) == until
    # More failures while locked neither extend the lock nor record it again.
    assert signin_throttle.failed(path="mfa", key="user:42", organization=alpha) is None
    [event] = events(alpha)
    assert event.changes == {"path": "mfa", "who": "user:42", "until": until.isoformat(timespec="seconds"),
                             "key": signin_throttle.key_digest("user:42")}
    assert "path: mfa" in event.changes_summary() and "who: user:42" in event.changes_summary()
    assert "key:" not in event.changes_summary()
    assert signin_throttle.locked_until(path="password", key="user:42", organization=alpha) is None  # per path
    with time_machine.travel(until.timestamp() + 1):
        assert signin_throttle.locked_until(path="mfa", key="user:42", organization=alpha) is None


def test_locked_until_counts_nothing_and_succeeded_forgets_the_failures(alpha):
    for _ in range(10):
        assert signin_throttle.locked_until(path="password", key="gp@alpha.test", organization=alpha) is None
    limit = signin_throttle.KEY_LIMITS["password"]
    for _ in range(limit.failures - 1):
        signin_throttle.failed(path="password", key="gp@alpha.test", organization=alpha)
    signin_throttle.succeeded(path="password", key="GP@alpha.test")  # keys ignore case and spaces
    for _ in range(limit.failures - 1):
        assert signin_throttle.failed(path="password", key=" gp@alpha.test", organization=alpha) is None
    assert signin_throttle.failed(path="password", key="gp@alpha.test", organization=alpha) is not None


def test_failures_with_a_request_also_count_per_address(alpha):
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.9")
    limit = signin_throttle.ADDRESS_LIMITS["password"]
    for number in range(limit.failures):
        signin_throttle.failed(path="password", key=f"nobody{number}@alpha.test", organization=alpha,
                               request=request)
    assert signin_throttle.locked_until(path="password", key="fresh@alpha.test", organization=alpha, request=request)
    assert signin_throttle.locked_until(path="password", key="fresh@alpha.test", organization=alpha) is None
    [event] = events(alpha)
    assert event.changes["who"] == "203.0.113.9" and event.ip_address == "203.0.113.9"
    assert event.changes["key"] == signin_throttle.address_digest("203.0.113.9", alpha)


def fail_from(address, org, path="password"):
    """Wrong passwords for as many different accounts as an address may try on `org`'s host (None: platform)."""
    request = RequestFactory().post("/", REMOTE_ADDR=address)
    host = org.pk if org is not None else "platform"
    return [signin_throttle.failed(path=path, key=f"{host}:nobody{number}@x.test", organization=org, request=request)
            for number in range(signin_throttle.ADDRESS_LIMITS[path].failures)]


def address_locked(address, org, path="password"):
    return signin_throttle.locked_until(path=path, key=None, organization=org, address=address) is not None


def test_an_address_is_counted_and_locked_per_host_and_the_platform_host_on_its_own(alpha, beta):
    assert fail_from("203.0.113.9", alpha)[-1] is not None
    assert address_locked("203.0.113.9", alpha)
    assert not address_locked("203.0.113.9", beta) and not address_locked("203.0.113.9", None)
    # beta's count starts from nothing: its last allowed failure locks beta's host (and records it there).
    assert fail_from("203.0.113.9", beta)[-1] is not None
    assert [event.changes["who"] for event in events(beta)] == ["203.0.113.9"]
    assert fail_from("203.0.113.9", None)[-1] is not None  # the platform host: its own count too
    assert not address_locked("203.0.113.10", alpha)  # another address is not locked anywhere


@pytest.mark.parametrize("path", ["sso", "pin"])
def test_requests_counted_per_address_lock_only_that_host(alpha, beta, path):
    limit = signin_throttle.ADDRESS_LIMITS[path]
    results = [signin_throttle.hit(path=path, organization=alpha, address="203.0.113.9")
               for _ in range(limit.failures + 1)]
    assert results[:-1] == [None] * limit.failures and results[-1] is not None
    assert signin_throttle.hit(path=path, organization=beta, address="203.0.113.9") is None
    assert signin_throttle.hit(path=path, organization=None, address="203.0.113.9") is None


def test_api_keys_count_per_address_only(alpha):
    with pytest.raises(ValueError):
        signin_throttle.failed(path="api_key", key="oc_abc12345", organization=alpha)
    assert "api_key" not in signin_throttle.KEY_LIMITS


def test_an_unknown_path_is_refused(alpha):
    with pytest.raises(ValueError):
        signin_throttle.failed(path="telepathy", key="x", organization=alpha)


def test_the_message_says_when_to_try_again_in_the_readers_language(alpha):
    from django.utils import translation

    [*_, until] = lock(alpha)
    assert "Try again after" in signin_throttle.message(until)
    with translation.override("nl"):
        text = signin_throttle.message(until)
    assert text  # translated once the lead compiles the catalogues; never empty


# --- the org admin's screen ----------------------------------------------------------------------------

def test_the_org_admin_sees_current_lockouts_and_unlocks_one(alpha):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    assert "Nobody is locked out right now." in admin.get(LOCKOUTS).content.decode()
    lock(alpha)
    other = host_client(alpha)
    response = other.post("/accounts/login/", {"login": "gp@alpha.test", "password": PASSWORD})
    assert "Try again after" in response.content.decode()
    html = admin.get(LOCKOUTS).content.decode()
    assert "gp@alpha.test" in html and "Password" in html and "Unlock" in html
    [event] = events(alpha)
    response = admin.post(LOCKOUTS, {"event": event.pk})
    assert response.status_code == 302
    assert "Nobody is locked out right now." in admin.get(LOCKOUTS).content.decode()
    [unlocked] = events(alpha, "signin.unlocked")
    assert unlocked.actor == alpha.people["admin"].user and unlocked.changes["who"] == "gp@alpha.test"
    response = other.post("/accounts/login/", {"login": "gp@alpha.test", "password": PASSWORD})
    assert response.status_code == 302  # signed in again
    # Unlocking again (a second tab) says it has ended and writes nothing.
    admin.post(LOCKOUTS, {"event": event.pk})
    assert len(events(alpha, "signin.unlocked")) == 1


def test_ended_lockouts_are_not_listed(alpha):
    [*_, until] = lock(alpha)
    with time_machine.travel(until.timestamp() + 1):
        assert signin_throttle.current_lockouts(alpha) == []


def test_lockouts_are_the_organisations_own(alpha, beta):
    lock(alpha)
    [event] = events(alpha)
    beta_admin = signed_in_client(beta.people["admin"].user, beta)
    assert "gp@alpha.test" not in beta_admin.get(LOCKOUTS).content.decode()
    beta_admin.post(LOCKOUTS, {"event": event.pk})  # another organisation's lock: nothing happens
    assert signin_throttle.locked_until(path="password", key=f"{alpha.pk}:gp@alpha.test", organization=alpha)
    assert events(beta, "signin.unlocked") == [] and events(alpha, "signin.unlocked") == []


def test_an_org_admin_unlocks_an_address_only_on_their_own_host(alpha, beta):
    fail_from("203.0.113.9", alpha)
    fail_from("203.0.113.9", beta)
    [event] = events(alpha)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    assert "203.0.113.9" in admin.get(LOCKOUTS).content.decode()
    assert admin.post(LOCKOUTS, {"event": event.pk}).status_code == 302
    assert not address_locked("203.0.113.9", alpha)
    assert address_locked("203.0.113.9", beta)  # the same address stays locked on beta's host
    assert len(signin_throttle.current_lockouts(beta)) == 1


@pytest.mark.parametrize("person", ["gp", "deptadmin"])
def test_only_org_admins_see_the_lockouts(alpha, person):
    client = signed_in_client(alpha.people[person].user, alpha)
    assert client.get(LOCKOUTS).status_code in (302, 403, 404)
    lock(alpha)
    [event] = events(alpha)
    client.post(LOCKOUTS, {"event": event.pk})
    assert signin_throttle.locked_until(path="password", key=f"{alpha.pk}:gp@alpha.test", organization=alpha)


def test_the_menu_and_the_audit_log_show_lockouts(alpha):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    lock(alpha)
    assert LOCKOUTS in admin.get("/admin/").content.decode()  # the settings menu item
    html = admin.get("/admin/audit/?action=signin.").content.decode()
    assert "Sign-in locked after failed attempts" in html and "gp@alpha.test" in html


def test_unlocking_a_paused_portal_client_lets_them_ask_for_a_pin_again(alpha, django_capture_on_commit_callbacks):
    from django.core import mail

    from portal import services as portal_services
    from tests.portal.patient_helpers import make_client, request_pin

    patient = make_client(alpha)
    browser = host_client(alpha)
    wrong = 0
    while portal_services.sign_in_paused_until(patient) is None:
        cache.clear()
        mail.outbox.clear()
        request_pin(browser, django_capture_on_commit_callbacks, email=patient.email)
        for _ in range(4):
            browser.post("/patient/code/", {"pin": "000000"})
            wrong += 1
        assert wrong < 30
    [lockout] = signin_throttle.current_lockouts(alpha)
    assert lockout["path"] == "pin"
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    time.sleep(0.01)
    admin.post(LOCKOUTS, {"event": lockout["event"].pk})
    assert portal_services.sign_in_paused_until(patient) is None
    cache.clear()
    mail.outbox.clear()
    request_pin(browser, django_capture_on_commit_callbacks, email=patient.email)
    assert [m.to for m in mail.outbox] == [[patient.email]]


# --- production needs one shared cache --------------------------------------------------------------

def test_production_refuses_to_start_without_redis(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": "x" * 50,
           "QUESTIONNAIRE_KEYS": "k1:" + "A" * 44, "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3"),
           "EMAIL_URL": "smtp://localhost:25"}
    env.pop("REDIS_URL", None)
    check = "import django; from django.conf import settings; django.setup(); print(settings.CACHES['default'])"
    result = subprocess.run([sys.executable, "-c", check], env=env, cwd=settings.BASE_DIR, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and "REDIS_URL" in result.stderr
    env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    result = subprocess.run([sys.executable, "-c", check], env=env, cwd=settings.BASE_DIR, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "RedisCache" in result.stdout and "redis://127.0.0.1:6379/0" in result.stdout
