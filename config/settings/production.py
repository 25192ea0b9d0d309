"""Production: PostgreSQL, Redis, TLS in front. Everything secret comes from the environment."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
QUESTIONNAIRE_KEYS = env("QUESTIONNAIRE_KEYS")  # no answers can be stored (or read) without them
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
PUBLIC_SCHEME = "https"
CSRF_TRUSTED_ORIGINS = [f"https://*.{BASE_DOMAIN}", f"https://{BASE_DOMAIN}"]  # noqa: F405
