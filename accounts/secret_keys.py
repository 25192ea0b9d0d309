"""Keys for secrets we seal at rest with nothing but SECRET_KEY: the MFA secrets (accounts/mfa_adapter.py) and
single sign-on client secrets (accounts/sso.py), payment provider credentials (payments/credentials.py).

One HKDF-SHA256 derivation per purpose, so a key serves one kind of secret only and needs no setting of its own.
The current SECRET_KEY comes first, then each of SECRET_KEY_FALLBACKS: seal with the first, open with any, so
rotating SECRET_KEY (the old one kept as a fallback for a while) locks no secret away.
(Questionnaire answers have keys of their own with a rotation command: formbuilder/crypto.py.)
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def derived_keys(purpose):
    """32-byte keys for `purpose` (bytes), newest first."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())
            for secret in secrets if secret]


def seal(purpose, context, plaintext):
    """`plaintext` sealed with AES-256-GCM under the newest key for `purpose`, bound to `context` (bytes): a sealed
    value copied to another row (another context) does not open."""
    nonce = os.urandom(12)
    return nonce + AESGCM(derived_keys(purpose)[0]).encrypt(nonce, plaintext.encode(), context)


def unseal(purpose, context, sealed):
    """The plaintext of `seal`, or "" when empty, tampered with or sealed under a SECRET_KEY that is gone."""
    sealed = bytes(sealed or b"")
    if not sealed:
        return ""
    for key in derived_keys(purpose):
        try:
            return AESGCM(key).decrypt(sealed[:12], sealed[12:], context).decode()
        except InvalidTag:
            continue
    return ""
