"""Keys for secrets we seal at rest with nothing but SECRET_KEY: the MFA secrets (accounts/mfa_adapter.py) and
single sign-on client secrets (accounts/sso.py).

One HKDF-SHA256 derivation per purpose, so a key serves one kind of secret only and needs no setting of its own.
The current SECRET_KEY comes first, then each of SECRET_KEY_FALLBACKS: seal with the first, open with any, so
rotating SECRET_KEY (the old one kept as a fallback for a while) locks no secret away.
(Questionnaire answers have keys of their own with a rotation command: formbuilder/crypto.py.)
"""

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def derived_keys(purpose):
    """32-byte keys for `purpose` (bytes), newest first."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())
            for secret in secrets if secret]
