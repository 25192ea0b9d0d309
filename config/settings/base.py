"""Settings shared by every environment; everything deployment-specific comes from the environment."""

from pathlib import Path
from urllib.parse import urlsplit

import environ
import ninja
from django.utils.translation import gettext_lazy as _

from config.db_pool import with_pool

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")

# Organisations live on <subdomain>.<BASE_DOMAIN>; BASE_DOMAIN itself is the platform's own host.
BASE_DOMAIN = env("BASE_DOMAIN", default="localhost")
# How the public reaches us: used for links in emails and for the Wagtail Site records.
PUBLIC_SCHEME = env("PUBLIC_SCHEME", default="http")
PUBLIC_PORT = env.int("PUBLIC_PORT", default=8000)
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}"] + env.list("EXTRA_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "daphne",
    # ours first, so our templates override the libraries'
    "orgs",
    "accounts",
    "cms",
    "consult",
    "portal",
    "formbuilder",
    "widgets",
    "payments",
    "chat",
    "usage",
    "ops",  # backup/restore commands, JSON logs
    # Wagtail
    "django_countries",
    "wagtail_localize",
    "wagtail_localize.locales",  # Wagtail's locale admin, with wagtail-localize's tree synchronisation
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    # accounts
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",  # single sign-on per organisation (accounts/sso.py)
    "allauth.mfa",
    "allauth.usersessions",  # lists a user's sessions; ends the others on password change and TFA activation
    # realtime and later work
    "channels",
    "django_q",
    "django_htmx",
    # Django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth.usersessions' session list
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "orgs.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "orgs.middleware.OrganizationHostMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware_session.IdleSessionMiddleware",  # signs staff out after the organisation's idle minutes
    "accounts.middleware_session.SsoThrottleMiddleware",  # OIDC login/callback requests per address
    "orgs.middleware.OrganizationAccessMiddleware",
    "orgs.remote_support.RemoteSupportMiddleware",  # staff acting as an employee: limits, 403s, audit marks
    "accounts.middleware.TwoFactorRequiredMiddleware",  # an organisation requiring TFA: set it up first
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "orgs.middleware.AdminTenantGuardMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "cms.page_cache.PageCacheMarkMiddleware",  # marks published site pages the ASGI page cache may keep
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Themes (themes/<name>/templates/) are addressed as "<name>/templates/<file>".
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "themes"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orgs.context_processors.organization",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# Database: SQLite file by default; DATABASE_URL for PostgreSQL.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep connections between requests and socket messages: opening one per database call was the largest
# single cost of a burst of patients joining (bench/waiting_room.py).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL: a bounded connection pool per process when DB_POOL_MAX > 0 (production's default; config/db_pool.py).
DATABASES["default"] = with_pool(DATABASES["default"], max_size=env.int("DB_POOL_MAX", default=0),
                                 timeout=env.float("DB_POOL_TIMEOUT", default=10))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, task worker) share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # The embedded task broker gets its own file so queue polling never locks the main database.
    DATABASES["q2"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "q2.sqlite3",
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
    }
DATABASE_ROUTERS = ["config.db_routers.TaskQueueRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.auth_backends.OrganizationAuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Set-password links for new employees (and password resets) stop working after this many seconds.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
WAGTAILADMIN_LOGIN_URL = "/accounts/login/"

# allauth: email + password, no public sign-up (employees are invited by their organisation).
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
# Single sign-on: providers come from each organisation's settings (the adapter's list_apps), never from
# settings; accounts match on (issuer, subject), never on an email address.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_OPENID_CONNECT_URL_PREFIX = "oidc"
SOCIALACCOUNT_FORMS = {"disconnect": "accounts.sso.DisconnectForm"}
# Linking an SSO identity to a signed-in account (My profile) asks for the password (or 2FA) again first: a
# borrowed or hijacked session must not add a lasting way in.
SOCIALACCOUNT_REAUTHENTICATION_REQUIRED = True
# Issuers (and the endpoints their discovery names) on loopback, private, link-local or reserved addresses
# are refused (accounts/sso.py check_server_url): an admin's issuer must not reach our own network.
# Development and tests allow them (the local OIDC provider on 127.0.0.1).
SSO_ALLOW_PRIVATE_ISSUERS = False
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = {
    # Failed logins per account on a host (allauth's key is host:email). Not per IP: allauth's IP count is
    # platform-wide, so wrong tries on one organisation's host would refuse everyone at that address on every
    # other host. accounts/signin_throttle.py counts and locks failures per address on each host instead.
    "login_failed": "5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[OpenConsult] "
# Wrong MFA codes lock the code step, audited and with a time to try again (accounts/signin_throttle.py).
MFA_FORMS = {"authenticate": "accounts.signin_forms.ThrottledAuthenticateForm"}
# Two-factor authentication (F-AUTH-3): allauth's MFA, one login pipeline for password and SSO logins.
# TOTP secrets are encrypted with a key derived from SECRET_KEY (accounts/mfa_adapter.py); the issuer the
# authenticator app shows is the organisation's name (the adapter), this is the platform host's.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_ADAPTER = "accounts.mfa_adapter.MFAAdapter"
MFA_TOTP_ISSUER = "OpenConsult"
MFA_PASSKEY_LOGIN_ENABLED = False  # security keys are a second factor, not a password replacement
USERSESSIONS_TRACK_ACTIVITY = False

# Sessions: host-only cookies (no SESSION_COOKIE_DOMAIN), so a login on one organisation's subdomain
# is never sent to another's; they end when the browser closes and after the idle time below.
# Idle sign-out is the organisation's setting (Organization.session_idle_minutes, at most a week), enforced by
# accounts.middleware_session; the stored session outlives the longest choice by an hour so the next page can
# say why. Platform staff on the platform host: PLATFORM_SESSION_IDLE_MINUTES.
SESSION_COOKIE_AGE = (7 * 24 + 1) * 3600
PLATFORM_SESSION_IDLE_MINUTES = env.int("PLATFORM_SESSION_IDLE_MINUTES", default=12 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Cross-Origin-Opener-Policy comes from orgs/security.py: same-origin on our pages, none on widgets framed elsewhere.
SECURE_CROSS_ORIGIN_OPENER_POLICY = None
# Remote support by platform staff (F-ORG-10, orgs/remote_support.py): one session lasts at most this long.
REMOTE_SUPPORT_MINUTES = env.int("REMOTE_SUPPORT_MINUTES", default=60)

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("nl", _("Dutch")),
    ("en", _("English")),
    ("de", _("German")),
    ("es", _("Spanish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Web pages are translated per language (wagtail-localize); public addresses are /<lang>/… (cms.models).
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Browser libraries come from npm (package.json) and are served from our own origin, never a CDN.
VENDOR_STATIC = [
    ("vendor/webrtc-adapter", BASE_DIR / "node_modules" / "webrtc-adapter" / "out"),
    ("vendor/selfie_segmentation", BASE_DIR / "node_modules" / "@mediapipe" / "selfie_segmentation"),
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    # Swagger UI for /api/docs: the copy django-ninja ships (pinned with it), served from our origin, no CDN.
    ("vendor/swagger-ui", Path(ninja.__file__).parent / "static" / "ninja"),
]
STATICFILES_DIRS = [BASE_DIR / "static"] + VENDOR_STATIC + [
    (f"themes/{static_dir.parent.name}", static_dir) for static_dir in sorted((BASE_DIR / "themes").glob("*/static"))
]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Files shared in consults: outside MEDIA_ROOT, served only by views that check who asks.
    "private": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": env.path("PRIVATE_ROOT", default=VAR_DIR / "private"), "base_url": None}},
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Email: written as files to var/mail by default (readable in the demo); EMAIL_URL for real SMTP.
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
    if EMAIL_URL.startswith("filemail://"):
        # django-environ drops the leading "/" of filemail:///var/spool/mail (a folder relative to wherever the
        # process started); the URL's path is the folder as written.
        EMAIL_FILE_PATH = urlsplit(EMAIL_URL).path
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="OpenConsult <no-reply@openconsult.localhost>")

# Realtime: in-memory channel layer unless REDIS_URL is set.
REDIS_URL = env("REDIS_URL", default="")
# Sizes from bench/waiting_room.py (a burst of 1000 patients on one worker). capacity: messages a socket may
# have queued; a practitioner's socket gets one "changed" per patient joining, and at the default of 100 most
# of a burst was dropped, so the list missed who arrived.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {
            # max_connections: redis-py's pool (default 100) refuses the next command in flight, and 1000 sockets
            # leaving at once need ~900 (2 group_discards each). (A socket_timeout of 15 s, tried against idle
            # sockets dropping in the benchmark, left cancelled receives hanging after a socket closed.)
            "hosts": [{"address": REDIS_URL, "max_connections": 2000}],
            "capacity": 2000,
        }}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 2000}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Published site pages answered from the cache by the ASGI layer (cms/page_cache.py); PAGE_CACHE=false turns it
# off (bench/pages.py compares both). Changes clear an organisation's pages at once; the timeout is a safety net.
PAGE_CACHE_ENABLED = env.bool("PAGE_CACHE", default=True)
PAGE_CACHE_TIMEOUT = 600

# Later work: django-q2. ORM broker on its own SQLite file by default, Redis when REDIS_URL is set.
Q_CLUSTER = {
    "name": "openconsult",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 120,
    "retry": 300,
    "max_attempts": 3,
    "catch_up": False,
    "label": _("Background tasks"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "q2" if "q2" in DATABASES else "default"

# WebRTC ICE servers (STUN/TURN) as JSON; issue #4 reads them.
ICE_SERVERS = env.json("ICE_SERVERS", default=[{"urls": ["stun:stun.l.google.com:19302"]}])
# Short-lived TURN credentials per page (coturn `use-auth-secret`): see consult/ice.py.
TURN_SHARED_SECRET = env.str("TURN_SHARED_SECRET", default="")
TURN_URLS = env.list("TURN_URLS", default=[])  # e.g. turn:turn.example.org:3478,turns:turn.example.org:443
TURN_CREDENTIAL_SECONDS = env.int("TURN_CREDENTIAL_SECONDS", default=12 * 3600)
# A file shared in a consult may be this large; shared files are deleted when the consult ends.
ROOM_FILE_MAX_BYTES = env.int("ROOM_FILE_MAX_BYTES", default=25 * 1024 * 1024)

# Wagtail
WAGTAIL_SITE_NAME = "OpenConsult"
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", default=f"{PUBLIC_SCHEME}://{BASE_DOMAIN}:{PUBLIC_PORT}")
WAGTAILIMAGES_IMAGE_MODEL = "cms.OrgImage"
WAGTAILDOCS_DOCUMENT_MODEL = "cms.OrgDocument"
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAILADMIN_COMMENTS_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False
# Email is the login and passwords go through allauth (throttled, audited): not through Wagtail's account page.
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAILUSERS_PASSWORD_ENABLED = False

# Platform staff are Django superusers; the platform's own contact for the support pages.
PLATFORM_NAME = "OpenConsult"
PLATFORM_SUPPORT_EMAIL = env("PLATFORM_SUPPORT_EMAIL", default="support@openconsult.localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},  # one INFO line per layout step of every PDF
        "fontTools": {"level": "WARNING"},
    },
}
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False

# Wagtail 8 runs its index updates as django-tasks; they index every organisation's content.
TASKS = {"default": {"BACKEND": "orgs.task_backends.UnscopedImmediateBackend"}}
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no calls to a third party from the admin

# Questionnaire answers and uploads are sealed with AES-256-GCM (F-FORM-5). Keys, newest first, as
# "<key id>:<32 bytes, base64>" separated by commas; `manage.py rotate_questionnaire_keys` moves every
# stored answer to the first key, after which older keys can be dropped. `manage.py
# rotate_questionnaire_keys --new-key` prints a fresh key to put in front.
QUESTIONNAIRE_KEYS = env("QUESTIONNAIRE_KEYS", default="")
# Uploaded images in questionnaires: what the patient may send.
QUESTIONNAIRE_UPLOAD_MAX_BYTES = env.int("QUESTIONNAIRE_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)

# --- payments (F-PAY) -------------------------------------------------------------------------------
# Each organisation's keys live in its payment settings (sealed). These say where the providers' APIs are:
# tests and a local demo point them at a stand-in (tests/payments/standin.py), production leaves them.
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
PAYPAL_API_BASE_SANDBOX = env("PAYPAL_API_BASE_SANDBOX", default="https://api-m.sandbox.paypal.com")
PAYPAL_API_BASE_LIVE = env("PAYPAL_API_BASE_LIVE", default="https://api-m.paypal.com")
# The EU's VAT number check (payments/vies.py): reverse charge only for a number VIES confirms.
VIES_API_URL = env("VIES_API_URL", default="https://ec.europa.eu/taxation_customs/vies/rest-api")
# A webhook whose signed timestamp is older than this is refused (a replayed or very late delivery).
PAYMENTS_WEBHOOK_TOLERANCE_SECONDS = env.int("PAYMENTS_WEBHOOK_TOLERANCE_SECONDS", default=300)
# How long a client has at the provider's page before the attempt expires. Stripe accepts 30 minutes to 24 hours
# from the session's creation: the Stripe provider keeps it within 31..1435 (a minute's margin each side).
PAYMENTS_CHECKOUT_MINUTES = env.int("PAYMENTS_CHECKOUT_MINUTES", default=35)
