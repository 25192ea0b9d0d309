"""Production: PostgreSQL, Redis, TLS in front. Everything secret comes from the environment."""

from .base import *  # noqa: F403
from .base import env, with_pool

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
QUESTIONNAIRE_KEYS = env("QUESTIONNAIRE_KEYS")  # no answers can be stored (or read) without them
# Redis is required (no default: ImproperlyConfigured without it). TOTP replay protection, the sign-in throttle's
# counters and locks, and the remote-support handoff need one cache shared by every worker; with base.py's
# per-process fallback each worker would count and remember on its own (a used code accepted again by another
# worker, a lock only one worker knows). base.py has already pointed the cache and Channels at it.
REDIS_URL = env("REDIS_URL")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# `__Host-` cookies: the browser accepts them only when Secure, for path / and without a Domain, so no other
# subdomain (another organisation's host) can set or shadow them. Nothing reads them by name but Django
# (JavaScript takes the CSRF token from the form's csrfmiddlewaretoken; cms/page_cache.py asks the setting).
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SESSION_COOKIE_PATH = "/"
CSRF_COOKIE_PATH = "/"
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
# HSTS for a year on every organisation's subdomain (they are all ours); preload is the operator's choice.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
PUBLIC_SCHEME = "https"
# Links in emails and the admin's own address: base.py's defaults are the demo's (http, port 8000).
PUBLIC_PORT = env.int("PUBLIC_PORT", default=443)
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", default=f"https://{BASE_DOMAIN}"  # noqa: F405
                            + ("" if PUBLIC_PORT == 443 else f":{PUBLIC_PORT}"))
CSRF_TRUSTED_ORIGINS = [f"https://*.{BASE_DOMAIN}", f"https://{BASE_DOMAIN}"]  # noqa: F405
# A bounded PostgreSQL pool in every process (config/db_pool.py): 4 web workers × 16 stay under PostgreSQL's default
# max_connections of 100, with room for the task cluster, backups and a psql. DB_POOL_MAX=0 turns it off.
DATABASES["default"] = with_pool(DATABASES["default"], max_size=env.int("DB_POOL_MAX", default=16),  # noqa: F405
                                 timeout=env.float("DB_POOL_TIMEOUT", default=10))

# Logs: one JSON object per line (ops/logging.py) for the log collector; LOG_FORMAT=text for the plain lines.
# Every line logged while Django handles a request carries its method, path (no query string, credentials in
# the path replaced), organisation and request id; one line per request replaces uvicorn's access log (run it
# with --no-access-log: that log has visitors' addresses and query strings).
LOG_FORMAT = env("LOG_FORMAT", default="json")
if LOG_FORMAT == "json":
    LOGGING["formatters"] = {"json": {"()": "ops.logging.JsonFormatter"}}  # noqa: F405
    LOGGING["handlers"]["console"]["formatter"] = "json"  # noqa: F405
    # uvicorn's own lines (startup, errors, WebSocket failures) in the same format, in each worker process.
    LOGGING["loggers"]["uvicorn"] = {"handlers": ["console"], "level": "INFO", "propagate": False}  # noqa: F405
MIDDLEWARE.insert(MIDDLEWARE.index("orgs.middleware.OrganizationHostMiddleware") + 1,  # noqa: F405
                  "ops.logging.RequestContextMiddleware")
