"""A small fixed-window counter in the Django cache (Redis when REDIS_URL is set), for the patient portal's
rate limits: PIN requests per client and per address, PIN tries per address.

Like widgets/tokens.py `throttled`, but each window remembers when it started, so a refused visitor can be
told when to try again.
"""

import time

from django.core.cache import cache


def hit(key, *, limit, window_seconds):
    """Count one attempt under `key`. Returns None when allowed, else the epoch second the window ends."""
    now = time.time()
    started_key = f"{key}:start"
    if cache.add(key, 1, window_seconds):
        cache.set(started_key, now, window_seconds)
        return None
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window_seconds)
        cache.set(started_key, now, window_seconds)
        return None
    if count <= limit:
        return None
    started = cache.get(started_key) or now
    return started + window_seconds


def blocked_until(key, *, limit, window_seconds):
    """The epoch second the window ends when `key` has used up its attempts (without counting), else None."""
    count = cache.get(key) or 0
    if count < limit:
        return None
    return (cache.get(f"{key}:start") or time.time()) + window_seconds
