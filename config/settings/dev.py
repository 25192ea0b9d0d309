"""make run: the demo on http://demo.localhost:8000/."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DEBUG", default=True)
if not SECRET_KEY:  # noqa: F405
    # A stable per-checkout key, made on first run and kept out of git.
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = _key_file.read_text().strip()
if not QUESTIONNAIRE_KEYS:  # noqa: F405
    # The demo's questionnaire key, made on first run and kept out of git (`make run` says where).
    _questionnaire_key_file = VAR_DIR / "questionnaire_keys"
    if not _questionnaire_key_file.exists():
        import base64
        import secrets

        _questionnaire_key_file.write_text(f"dev1:{base64.b64encode(secrets.token_bytes(32)).decode()}")
        _questionnaire_key_file.chmod(0o600)
    QUESTIONNAIRE_KEYS = _questionnaire_key_file.read_text().strip()
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True  # serve static files straight from the apps, no collectstatic in development
# Template and theme edits show at once while developing; bench/pages.py (DEBUG=false) measures the page cache.
PAGE_CACHE_ENABLED = env.bool("PAGE_CACHE", default=not DEBUG)
# Security keys on http://<org>.localhost:8000 (browsers treat *.localhost as secure; fido2 wants https).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
# Single sign-on against the local OIDC provider (tests/oidc_provider.py) on 127.0.0.1.
SSO_ALLOW_PRIVATE_ISSUERS = True
