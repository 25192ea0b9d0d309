"""Form protection for widget pages that work without cookies.

A widget lives in a frame on someone else's site, where browsers block third-party cookies: Django's
session and CSRF cookies cannot be relied on. Instead each form carries a signed, time-limited token
bound to the widget's key (so it cannot be replayed on another widget or after it expires), and each
visitor's address may submit only so many times in a while (a simple counter in the cache).
"""

from django.core import signing
from django.core.cache import cache

SALT = "openconsult.widgets.form"
MAX_AGE_SECONDS = 2 * 60 * 60  # long enough to fill in a form slowly, short enough to be no lasting pass
THROTTLE_LIMIT = 10  # submissions per address per window
THROTTLE_WINDOW_SECONDS = 10 * 60


def form_token(widget):
    return signing.TimestampSigner(salt=SALT).sign(widget.key)


def token_is_valid(widget, token):
    try:
        return signing.TimestampSigner(salt=SALT).unsign(token or "", max_age=MAX_AGE_SECONDS) == widget.key
    except signing.BadSignature:  # also SignatureExpired
        return False


def client_address(request):
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def throttled(request):
    """Count this submission; True when the address has used up its submissions for the window."""
    key = f"widgets:submit:{client_address(request)}"
    if cache.add(key, 1, THROTTLE_WINDOW_SECONDS):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, THROTTLE_WINDOW_SECONDS)
        return False
    return count > THROTTLE_LIMIT
