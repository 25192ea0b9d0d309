"""API keys (F-ORG-4): create, rotate, revoke, and authenticate a presented key.

A key reads ``oc_<prefix>_<secret>``: the prefix (8 characters, public, shown in lists) finds the row, the
whole key's SHA-256 is compared in constant time. Keys belong to one organisation: a key is looked up only
among the keys of the host's organisation, so another organisation's key is simply unknown here (401).
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import policy
from .models import ApiKey, ApiKeyMembership, Role
from .scoping import organization_scope
from .services import audit_record

PREFIX_LENGTH = 8
SECRET_BYTES = 32  # 256 bits
KEY_PATTERN = re.compile(r"^oc_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{20,100})$")
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most once a minute per key


def key_hash(plain_key):
    # SHA-256, not a slow password hash: the secret is 256 random bits, so there is nothing to brute-force
    # (see ApiKey's docstring); a fast hash keeps each API call cheap.
    return hashlib.sha256(plain_key.encode()).hexdigest()


def _new_prefix():
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    while True:
        prefix = "".join(secrets.choice(alphabet) for _i in range(PREFIX_LENGTH))
        if not ApiKey.objects.with_scopes_disabled().filter(prefix=prefix).exists():
            return prefix


def _issue(*, organization, name, actor, rotated_from=None):
    prefix = _new_prefix()
    plain = f"oc_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    with organization_scope(organization):
        api_key = ApiKey(organization=organization, name=name, prefix=prefix, key_hash=key_hash(plain),
                         created_by=actor, rotated_from=rotated_from)
        api_key.full_clean()
        api_key.save()
    return api_key, plain


def _check(member):
    if not policy.can_manage_api_keys(member):
        raise PermissionDenied


@transaction.atomic
def api_key_create(*, member, name, request=None):
    """A new key for the member's organisation. Returns (ApiKey, plain key): the plain key exists only here."""
    _check(member)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name, e.g. what it is for.")})
    api_key, plain = _issue(organization=member.organization, name=name, actor=member.user)
    audit_record(organization=member.organization, actor=member.user, action="apikey.create", target=api_key,
                 request=request)
    return api_key, plain


@transaction.atomic
def api_key_rotate(*, member, api_key, request=None):
    """Replace a key: a new secret under the same name; the old key stops working at once.

    No grace period: whoever rotates has the new key on screen and puts it in the integration right away,
    and a rotation is often done because the old key leaked, when any overlap would keep the leak open.
    """
    _check(member)
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk, organization=member.organization)
    if api_key.revoked_at is not None:
        raise ValidationError(_("This key is revoked; create a new one instead."))
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    new_key, plain = _issue(organization=member.organization, name=api_key.name, actor=member.user,
                            rotated_from=api_key)
    audit_record(organization=member.organization, actor=member.user, action="apikey.rotate", target=new_key,
                 changes={"prefix": [api_key.prefix, new_key.prefix]}, request=request)
    return new_key, plain


@transaction.atomic
def api_key_revoke(*, member, api_key, request=None):
    _check(member)
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk, organization=member.organization)
    if api_key.revoked_at is not None:
        return api_key
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    audit_record(organization=member.organization, actor=member.user, action="apikey.revoke", target=api_key,
                 request=request)
    return api_key


def parse(plain_key):
    """(prefix, key) of a well-formed key, or None."""
    match = KEY_PATTERN.match(plain_key or "")
    return (match.group(1), plain_key) if match else None


def authenticate(organization, plain_key):
    """The organisation's active ApiKey this plain key is, or None (unknown, wrong secret, revoked)."""
    parsed = parse(plain_key)
    if organization is None or parsed is None:
        return None
    prefix, plain = parsed
    api_key = ApiKey.objects.with_scopes_disabled().filter(organization=organization, prefix=prefix).first()
    # Compare even when nothing was found, so a wrong prefix and a wrong secret take the same time.
    stored = api_key.key_hash if api_key is not None else "0" * 64
    if not hmac.compare_digest(stored, key_hash(plain)) or api_key is None or api_key.revoked_at is not None:
        return None
    return api_key


def mark_used(api_key, now=None):
    now = now or timezone.now()
    if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_EVERY:
        ApiKey.objects.with_scopes_disabled().filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


def api_member(api_key):
    """The unsaved org-admin-like member an API call acts as (see ApiKeyMembership)."""
    member = ApiKeyMembership(organization=api_key.organization, role=Role.ORG_ADMIN, is_active=True)
    member.api_key = api_key
    member.is_api_key = True
    return member


def acting_label(api_key):
    return _("API key %(name)s (%(prefix)s)") % {"name": api_key.name, "prefix": api_key.prefix}
