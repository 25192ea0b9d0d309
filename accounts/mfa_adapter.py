"""allauth MFA adapter: TOTP secrets encrypted at rest, the organisation's name in authenticator apps.

Encryption: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with keys derived from SECRET_KEY and its
fallbacks for this purpose only (accounts/secret_keys.py); MultiFernet opens with any of them, so rotating
SECRET_KEY keeps existing authenticators working.
"""

import base64

from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from .secret_keys import derived_keys

PURPOSE = b"openconsult.mfa.secrets.v1"
PREFIX = "fernet:"


def _fernet():
    return MultiFernet([Fernet(base64.urlsafe_b64encode(key)) for key in derived_keys(PURPOSE)])


def _organization():
    request = getattr(context, "request", None)
    return getattr(request, "organization", None) if request is not None else None


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text):
        return PREFIX + _fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text):
        if not encrypted_text.startswith(PREFIX):
            raise ValueError("An MFA secret is stored unencrypted.")
        try:
            return _fernet().decrypt(encrypted_text[len(PREFIX):].encode()).decode()
        except InvalidToken as error:
            raise ValueError("An MFA secret cannot be decrypted with SECRET_KEY (or its fallbacks).") from error

    def get_totp_issuer(self):
        """The authenticator app lists the account under the organisation's name ("Demo Practice")."""
        organization = _organization()
        return organization.name if organization is not None else settings.PLATFORM_NAME

    def _get_site_name(self):
        # Named in the security key's prompt (WebAuthn relying party) and in emails.
        organization = _organization()
        return organization.name if organization is not None else settings.PLATFORM_NAME
