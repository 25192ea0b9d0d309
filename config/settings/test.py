"""make test (SQLite, in-memory layer) and .ci/run's second pass (DATABASE_URL + REDIS_URL)."""

import os
import re

from .base import *  # noqa: F403
from .base import DATABASES

SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"
DEBUG = False
# Two fixed test keys, newest first; tests that rotate put a third in front.
QUESTIONNAIRE_KEYS = (
    "test2:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=,test1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Tests keep task data in the main test database and run tasks inline.
DATABASES.pop("q2", None)
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
if "orm" in Q_CLUSTER:
    Q_CLUSTER["orm"] = "default"
# One test database per test process, so that runs started side by side do not destroy each other's.
_run = os.getpid()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: browser tests serve from a thread that needs to see committed rows.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{_run}.sqlite3")}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_run}"}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True  # the in-process ASGI server of the browser tests serves static files unbuilt
ICE_SERVERS = []  # tests stay on this machine: host candidates only
# Private files (consult shares) of a test run go to a directory of its own, removed by tests/conftest.py.
STORAGES["private"] = {"BACKEND": "django.core.files.storage.FileSystemStorage",  # noqa: F405
                       "OPTIONS": {"location": str(VAR_DIR / f"test-private-{_run}"), "base_url": None}}  # noqa: F405
# Tests close connections after use: a connection kept by the browser tests' server thread would stop the
# test database from being dropped at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Security keys on the browser tests' http://<org>.localhost:<port>.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
# Single sign-on against the local OIDC provider (tests/oidc_provider.py) on 127.0.0.1.
SSO_ALLOW_PRIVATE_ISSUERS = True
# Test processes (pytest-xdist workers, side-by-side runs) share one Redis server. Their databases hand out the
# same ids ("room-1") and people ("admin@alpha.test"), and tests empty the cache (FLUSHDB): each xdist worker
# gets a Redis database of its own (10, 11, …), and every process its own key and channel prefixes.
if REDIS_URL:  # noqa: F405
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if _worker.startswith("gw"):
        REDIS_URL = re.sub(r"/\d*$", "", REDIS_URL.rstrip("/")) + f"/{10 + int(_worker[2:]) % 6}"  # noqa: F405
        CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"] = REDIS_URL  # noqa: F405
        CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
        Q_CLUSTER["redis"] = REDIS_URL
    CACHES["default"]["KEY_PREFIX"] = f"test{_run}"  # noqa: F405
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"asgi{_run}"  # noqa: F405
