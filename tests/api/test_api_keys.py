"""API keys (F-ORG-4): shown once, stored hashed, rotated, revoked, audited, scoped to one organisation,
throttled; and their admin screens (org admins only, another organisation's key id is a 404)."""

import hashlib
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from accounts import signin_throttle
from config import api as api_module
from orgs import api_keys, policy
from orgs.models import ApiKey, AuditEvent
from orgs.scoping import scopes_disabled
from tests.api.conftest import api_client, make_key
from tests.conftest import host_client, signed_in_client

pytestmark = pytest.mark.django_db


def audit_actions(organization, prefix="apikey."):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(organization=organization, action__startswith=prefix)
                    .order_by("id").values_list("action", "actor__email", "target_label"))


def test_create_returns_the_key_once_and_stores_only_its_sha256(alpha):
    api_key, plain = make_key(alpha, name="EHR sync")
    assert re.fullmatch(r"oc_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}", plain)
    assert plain.split("_")[1] == api_key.prefix
    with scopes_disabled():
        stored = ApiKey.objects.get(pk=api_key.pk)
    assert stored.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    secret = plain.split("_", 2)[2]
    assert all(secret not in str(getattr(stored, f.attname)) for f in ApiKey._meta.concrete_fields)
    assert stored.created_by == alpha.people["admin"].user and stored.revoked_at is None
    assert audit_actions(alpha) == [("apikey.create", "admin@alpha.test", f"EHR sync ({api_key.prefix})")]


def test_a_key_works_and_last_use_is_written_at_most_once_a_minute(alpha, alpha_key, time_machine):
    api_key, plain = alpha_key
    time_machine.move_to("2031-03-10 09:00:00+00:00", tick=False)
    assert api_client(alpha, plain).get("/api/v1/departments").status_code == 200
    with scopes_disabled():
        first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert first is not None
    time_machine.move_to("2031-03-10 09:00:30+00:00", tick=False)
    api_client(alpha, plain).get("/api/v1/departments")
    with scopes_disabled():
        assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first
    time_machine.move_to("2031-03-10 09:01:30+00:00", tick=False)
    api_client(alpha, plain).get("/api/v1/departments")
    with scopes_disabled():
        assert ApiKey.objects.get(pk=api_key.pk).last_used_at > first


def test_rotate_gives_a_new_key_and_the_old_one_stops_at_once(alpha, alpha_key):
    old, old_plain = alpha_key
    with scopes_disabled():
        new, new_plain = api_keys.api_key_rotate(member=alpha.people["admin"], api_key=old)
    assert new.name == old.name and new.rotated_from_id == old.pk and new.prefix != old.prefix
    assert api_client(alpha, old_plain).get("/api/v1/clients").status_code == 401
    assert api_client(alpha, new_plain).get("/api/v1/clients").status_code == 200
    assert [a for a, *_ in audit_actions(alpha)] == ["apikey.create", "apikey.rotate"]


def test_revoked_key_is_refused_and_the_revoke_audited(alpha, alpha_key):
    api_key, plain = alpha_key
    assert api_client(alpha, plain).get("/api/v1/clients").status_code == 200
    with scopes_disabled():
        api_keys.api_key_revoke(member=alpha.people["admin"], api_key=api_key)
    response = api_client(alpha, plain).get("/api/v1/clients")
    assert response.status_code == 401 and "detail" in response.json()
    assert [a for a, *_ in audit_actions(alpha)] == ["apikey.create", "apikey.revoke"]


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer nonsense", "Basic abc", "Bearer oc_abcdefgh_"
                                    + "x" * 43])
def test_missing_or_malformed_keys_are_401(alpha, header):
    client = host_client(alpha)
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    assert client.get("/api/v1/clients", **extra).status_code == 401


def test_another_organisations_key_is_401_on_this_host_and_the_platform_host_has_no_api(alpha, beta, beta_key):
    assert api_client(alpha, beta_key[1]).get("/api/v1/clients").status_code == 401
    platform = host_client(None)
    assert platform.get("/api/v1/clients", HTTP_AUTHORIZATION=f"Bearer {beta_key[1]}").status_code == 401


def test_policy_lets_only_org_admins_manage_keys(alpha, alpha_key):
    people = alpha.people
    assert policy.can_manage_api_keys(people["admin"])
    assert not policy.can_manage_api_keys(people["deptadmin"])
    assert not policy.can_manage_api_keys(people["gp"])
    assert not policy.can_manage_api_keys(api_keys.api_member(alpha_key[0]))
    with scopes_disabled(), pytest.raises(PermissionDenied):
        api_keys.api_key_create(member=people["gp"], name="nope")


def wrong_key_statuses(organization, prefix, address, count):
    wrong = f"oc_{prefix}_{'x' * 43}"
    return [api_client(organization, wrong).get("/api/v1/clients", REMOTE_ADDR=address).status_code
            for _ in range(count)]


def test_wrong_keys_lock_the_address_with_429_and_retry_after(alpha, beta, alpha_key, beta_key):
    limit = signin_throttle.ADDRESS_LIMITS["api_key"].failures
    statuses = wrong_key_statuses(alpha, "guessing", "203.0.113.9", limit + 2)
    first_lock = statuses.index(429)
    assert limit - 1 <= first_lock <= limit and set(statuses[:first_lock]) == {401}
    assert set(statuses[first_lock:]) == {429}
    # That address waits until the lock ends, on this organisation's host only.
    response = api_client(alpha, alpha_key[1]).get("/api/v1/clients", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert api_client(beta, beta_key[1]).get("/api/v1/clients", REMOTE_ADDR="203.0.113.9").status_code == 200
    assert api_client(alpha, alpha_key[1]).get("/api/v1/clients", REMOTE_ADDR="198.51.100.7").status_code == 200
    with scopes_disabled():
        [event] = AuditEvent.objects.filter(organization=alpha, action="signin.locked")
        assert event.changes["who"] == "203.0.113.9" and event.changes["path"] == "api_key"
        assert not AuditEvent.objects.filter(organization=beta, action="signin.locked").exists()


def test_wrong_keys_with_a_keys_prefix_never_lock_that_key(alpha, alpha_key):
    """The prefix is not secret (it is in every request and in the admin); the 256-bit secret cannot be guessed:
    someone sending wrong secrets with an integration's prefix, from many addresses, cannot lock it out."""
    api_key, plain = alpha_key
    limit = signin_throttle.ADDRESS_LIMITS["api_key"].failures
    for number in range(3):
        assert 429 in wrong_key_statuses(alpha, api_key.prefix, f"203.0.113.{number + 1}", limit + 1)
    response = api_client(alpha, plain).get("/api/v1/clients", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200


def test_a_good_key_has_its_own_rate_limit(alpha, alpha_key, monkeypatch):
    monkeypatch.setattr(api_module, "CALLS_PER_MINUTE", 3)
    client = api_client(alpha, alpha_key[1])
    statuses = [client.get("/api/v1/departments").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert 0 < int(client.get("/api/v1/departments")["Retry-After"]) <= 60
    cache.clear()


# --- admin screens ---------------------------------------------------------------------------------

def test_admin_creates_a_key_shown_once_then_lists_it_without_the_secret(alpha):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    page = admin.get("/admin/api-keys/")
    assert page.status_code == 200 and b"/api/docs" in page.content
    response = admin.post("/admin/api-keys/new/", {"name": "Agenda sync"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    plain = re.search(rb'value="(oc_[^"]+)"', response.content).group(1).decode()
    assert b"shown only this once" in response.content and b"Copy key" in response.content
    with scopes_disabled():
        api_key = ApiKey.objects.get(organization=alpha)
    assert api_key.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    listing = admin.get("/admin/api-keys/")
    assert api_key.prefix.encode() in listing.content and plain.encode() not in listing.content
    assert plain.split("_", 2)[2].encode() not in listing.content
    assert api_client(alpha, plain).get("/api/v1/clients").status_code == 200


def test_admin_refuses_an_empty_name_and_writes_nothing(alpha):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    response = admin.post("/admin/api-keys/new/", {"name": "  "})
    assert response.status_code == 200 and b"oc_" not in response.content
    with scopes_disabled():
        assert not ApiKey.objects.exists()


def test_admin_rotates_and_revokes_after_confirmation(alpha, alpha_key):
    api_key, plain = alpha_key
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    assert b"Yes, rotate" in admin.get(f"/admin/api-keys/{api_key.pk}/rotate/").content
    response = admin.post(f"/admin/api-keys/{api_key.pk}/rotate/")
    new_plain = re.search(rb'value="(oc_[^"]+)"', response.content).group(1).decode()
    assert new_plain != plain
    with scopes_disabled():
        new = ApiKey.objects.get(rotated_from=api_key)
    listing = admin.get("/admin/api-keys/").content.decode()
    assert f"Replaced by {new.prefix} on" in listing  # rotated, not withdrawn
    assert b"Yes, revoke" in admin.get(f"/admin/api-keys/{new.pk}/revoke/").content
    assert admin.post(f"/admin/api-keys/{new.pk}/revoke/").status_code == 302
    assert api_client(alpha, new_plain).get("/api/v1/clients").status_code == 401
    assert [a for a, *_ in audit_actions(alpha)] == ["apikey.create", "apikey.rotate", "apikey.revoke"]
    # A revoked key has nothing left to rotate or revoke.
    assert admin.post(f"/admin/api-keys/{new.pk}/revoke/").status_code == 404


@pytest.mark.parametrize("who", ["deptadmin", "gp"])
def test_admin_screens_are_for_org_admins_only(alpha, alpha_key, who):
    other = signed_in_client(alpha.people[who].user, alpha)
    for url in ("/admin/api-keys/", "/admin/api-keys/new/", f"/admin/api-keys/{alpha_key[0].pk}/rotate/"):
        assert other.get(url).status_code == 404
    assert other.post(f"/admin/api-keys/{alpha_key[0].pk}/revoke/").status_code == 404
    with scopes_disabled():
        assert ApiKey.objects.get(pk=alpha_key[0].pk).revoked_at is None


def test_another_organisations_key_id_is_404_in_the_admin(alpha, beta, beta_key):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    assert admin.get(f"/admin/api-keys/{beta_key[0].pk}/rotate/").status_code == 404
    assert admin.post(f"/admin/api-keys/{beta_key[0].pk}/revoke/").status_code == 404
    assert admin.post(f"/admin/api-keys/{beta_key[0].pk}/rotate/").status_code == 404
    assert beta_key[0].prefix.encode() not in admin.get("/admin/api-keys/").content
    with scopes_disabled():
        assert ApiKey.objects.get(pk=beta_key[0].pk).revoked_at is None


def test_docs_and_schema_are_served_from_our_origin(alpha):
    client = host_client(alpha)
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["version"] == "1" and "/api/v1/appointments" in schema["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", docs["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce}"'.encode() in docs.content and b"/api/openapi.json" in docs.content
    assert b"cdn" not in docs.content.lower() and b"https://" not in docs.content
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
