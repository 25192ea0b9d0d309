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
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True  # serve static files straight from the apps, no collectstatic in development
# Template and theme edits show at once while developing; bench/pages.py (DEBUG=false) measures the page cache.
PAGE_CACHE_ENABLED = env.bool("PAGE_CACHE", default=not DEBUG)
