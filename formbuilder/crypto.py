"""Sealing questionnaire answers and uploads: AES-256-GCM, every ciphertext tagged with its key id.

A sealed value is `b"oc1:" + key id + b":" + 12-byte nonce + ciphertext-with-tag`. The associated data
binds it to its row (organisation and response), so a ciphertext copied into another row, or into
another organisation, does not open. Keys come from `settings.QUESTIONNAIRE_KEYS`, newest first; only
the newest seals, every listed key opens (which is what lets rotation run while the site does).
"""

import base64
import binascii
import os
import re
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = b"oc1:"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class SealError(Exception):
    """A sealed value cannot be opened: an unknown key id, or it was altered or moved."""


@cache
def _keyring(raw):
    keys = {}
    order = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key_id, _, encoded = item.partition(":")
        if not KEY_ID.match(key_id):
            raise ImproperlyConfigured(f"QUESTIONNAIRE_KEYS: bad key id {key_id!r} (letters, digits, - and _).")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise ImproperlyConfigured(f"QUESTIONNAIRE_KEYS: key {key_id} is not base64.") from error
        if len(key) != 32:
            raise ImproperlyConfigured(f"QUESTIONNAIRE_KEYS: key {key_id} must be 32 bytes (AES-256).")
        if key_id in keys:
            raise ImproperlyConfigured(f"QUESTIONNAIRE_KEYS: key id {key_id} is listed twice.")
        keys[key_id] = AESGCM(key)
        order.append(key_id)
    if not order:
        raise ImproperlyConfigured("QUESTIONNAIRE_KEYS is empty: questionnaire answers cannot be stored.")
    return keys, tuple(order)


def keyring():
    """({key id: AESGCM}, key ids newest first)."""
    return _keyring(settings.QUESTIONNAIRE_KEYS)


def newest_key_id():
    return keyring()[1][0]


def new_key_text(key_id):
    """A fresh entry for QUESTIONNAIRE_KEYS."""
    if not KEY_ID.match(key_id):
        raise ValueError("A key id is 1-32 letters, digits, - or _.")
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def seal(data, *, context):
    """Encrypt `data` (bytes) under the newest key, bound to `context` (bytes naming its row)."""
    keys, order = keyring()
    key_id = order[0]
    nonce = os.urandom(12)
    return PREFIX + key_id.encode() + b":" + nonce + keys[key_id].encrypt(nonce, bytes(data), context)


def key_id_of(sealed):
    sealed = bytes(sealed)
    if not sealed.startswith(PREFIX):
        raise SealError("not a sealed value")
    key_id, sep, _ = sealed[len(PREFIX):].partition(b":")
    if not sep:
        raise SealError("not a sealed value")
    return key_id.decode("ascii", "replace")


def unseal(sealed, *, context):
    sealed = bytes(sealed)
    key_id = key_id_of(sealed)
    keys, _ = keyring()
    if key_id not in keys:
        raise SealError(f"key {key_id} is not in QUESTIONNAIRE_KEYS")
    body = sealed[len(PREFIX) + len(key_id) + 1:]
    nonce, ciphertext = body[:12], body[12:]
    try:
        return keys[key_id].decrypt(nonce, ciphertext, context)
    except InvalidTag as error:
        raise SealError("the sealed value was altered or belongs to another row") from error
