"""Sign-in throttling for every way in: password, MFA code, portal PIN, API key and SSO.

One place decides how many wrong tries each path allows and how long a lock lasts. The counters live in the
Django cache (Redis when REDIS_URL is set, so all workers share them) through the fixed-window counter in
portal/throttle.py. A lock is its own cache entry, so it lasts its full time even when the counting window ends.
Each lockout is written once to the organisation's audit log ("signin.locked"); on the platform host it is only
logged. Org admins see the current ones and can lift them (orgs/views/lockouts.py).

    locked_until(path=, key=, organization=)            -> datetime | None   (no counting)
    failed(path=, key=, organization=, request=, label=) -> datetime | None   (counts one failure)
    succeeded(path=, key=)                                                      (clears the key's count)

`key` names who is trying (an account on a host, a client id); `label` is how the audit log shows them (defaults
to the key). With `request` (or `address`), failures are also counted per address.

Addresses are counted and locked per organisation (host), the platform host on its own: wrong tries on one
organisation's host never lock anyone out on another's, and an org admin's "Unlock" lifts only what protects
their own host. The address is REMOTE_ADDR, never X-Forwarded-For read here: behind the TLS proxy uvicorn sets
REMOTE_ADDR from X-Forwarded-For, for the proxy addresses given in --forwarded-allow-ips only (README,
Production). Without that, every visitor has the proxy's address and an address lock shuts everyone out.
"""

import datetime
import hashlib
import logging
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from portal import throttle

logger = logging.getLogger(__name__)

PATHS = ("password", "pin", "api_key", "sso", "mfa")


@dataclass(frozen=True)
class Limit:
    failures: int  # wrong tries allowed within `window` seconds; the next one locks
    window: int
    lock: int  # seconds the lock lasts


# Per key (the account, client or API key someone tries to get into).
KEY_LIMITS = {
    # 5 wrong passwords per account in 15 minutes lock that account for 15 minutes: a person who mistypes gets
    # several tries, a guesser about 10 an hour. allauth's own ACCOUNT_RATE_LIMITS still apply as well.
    "password": Limit(5, 15 * 60, 15 * 60),
    # A second factor has only 10^6 codes; 5 wrong codes per account in 15 minutes lock it for 15 minutes.
    # (allauth limits code tries per user too, 5 per 5 minutes, but records nothing and names no time.)
    "mfa": Limit(5, 15 * 60, 15 * 60),
    # Portal PINs: a client's sign-in pauses for a day after 10 wrong codes (portal/services.py, recorded
    # here through record_lockout); this per-client limit is for a caller counting failures per client.
    "pin": Limit(10, 15 * 60, 15 * 60),
    # API keys: no per-key limit. Their secrets are 256-bit, so counting per key prefix protects nothing, and a
    # prefix lock would let anyone who knows a key's (public) prefix keep that integration locked out. Wrong
    # keys count per address only (ADDRESS_LIMITS), and a right key is never refused because of its prefix.
    # SSO has no secret typed here: its requests per address (ADDRESS_LIMITS) are what counts; this is for a
    # caller that counts failed callbacks per account.
    "sso": Limit(10, 15 * 60, 15 * 60),
}

# Per address, whatever key is tried: stops one machine from walking through many accounts.
ADDRESS_LIMITS = {
    "password": Limit(20, 15 * 60, 15 * 60),  # 20 wrong passwords from one address per 15 minutes
    "mfa": Limit(20, 15 * 60, 15 * 60),
    "pin": Limit(20, 15 * 60, 15 * 60),  # PIN tries, right or wrong (portal's PIN_TRIES_PER_ADDRESS)
    "api_key": Limit(30, 5 * 60, 15 * 60),  # wrong API keys from one address on one organisation's host
    # OIDC login/callback requests (not only failures) per address: a sign-in takes two, and a practice behind
    # one address may have dozens of staff starting at 8:00; a loop or a bot makes far more than 100 in 5 minutes
    # (accounts/middleware_session.py SsoThrottleMiddleware counts them).
    "sso": Limit(100, 5 * 60, 5 * 60),
}


def _digest(key):
    return hashlib.sha256(str(key).strip().lower().encode()).hexdigest()[:32]


def _names(path, digest):
    if path not in PATHS:
        raise ValueError(f"Unknown sign-in path {path!r}")
    base = f"signin:{path}:{digest}"
    return base, f"{base}:locked"


def _address_digest(organization, address):
    """Per address *and host*: one organisation's lockouts (and unlocks) never reach another's host."""
    host = getattr(organization, "pk", None)
    return _digest(f"ip:{host if host is not None else 'platform'}:{address}")


def _address(request, address=""):
    if address:
        return address
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def _lock_end(lock_name):
    until = cache.get(lock_name)
    if until is None or until <= time.time():
        return None
    return datetime.datetime.fromtimestamp(until, tz=datetime.UTC)


def locked_until(*, path, key, organization, request=None, address=""):
    """When `key` (or, with `request` or `address`, the address on `organization`'s host) is locked on `path`:
    until when. Counts nothing. `organization` is None on the platform host."""
    ends = []
    digests = [_digest(key)] if key not in (None, "") else []
    address = _address(request, address)
    if address:
        digests.append(_address_digest(organization, address))
    for digest in digests:
        end = _lock_end(_names(path, digest)[1])
        if end is not None:
            ends.append(end)
    return max(ends) if ends else None


def _count(path, digest, limit, *, allowed):
    """Count one; past `allowed` in the window, set the lock. Returns the lock end if this count locked."""
    counter, lock_name = _names(path, digest)
    if _lock_end(lock_name) is not None:
        return None  # already locked: recorded when it began
    if throttle.hit(counter, limit=allowed, window_seconds=limit.window) is None:
        return None
    until = time.time() + limit.lock
    if not cache.add(lock_name, until, limit.lock):  # another worker locked it at the same moment
        return None
    cache.delete_many([counter, f"{counter}:start"])
    return datetime.datetime.fromtimestamp(until, tz=datetime.UTC)


def failed(*, path, key, organization, request=None, label="", address=""):
    """Count one failed sign-in on `path` for `key` (and the request's address, on `organization`'s host).

    The limit's last allowed failure locks. Returns when the lock ends if this failure locked `key` or the
    address, after recording the lockout once.
    """
    _names(path, "")  # an unknown path is a programming error
    locked = None
    if key not in (None, ""):
        if path not in KEY_LIMITS:
            raise ValueError(f"Sign-in path {path!r} counts per address only")
        digest = _digest(key)
        limit = KEY_LIMITS[path]
        until = _count(path, digest, limit, allowed=limit.failures - 1)
        if until is not None:
            _record(path=path, digest=digest, who=label or str(key), until=until, organization=organization,
                    request=request)
            locked = until
    address = _address(request, address)
    if address:
        digest = _address_digest(organization, address)
        limit = ADDRESS_LIMITS[path]
        until = _count(path, digest, limit, allowed=limit.failures - 1)
        if until is not None:
            _record(path=path, digest=digest, who=address, until=until, organization=organization, request=request)
            locked = max(locked, until) if locked else until
    return locked


def hit(*, path, organization, request=None, address=""):
    """Count one request on `path` per address (every try, not only failures: for endpoints limited by volume,
    like SSO, and portal PIN tries). The first request past the limit locks.

    Returns the lock end when the address is, or has just become, locked (refuse the request then).
    """
    _names(path, "")
    address = _address(request, address)
    if not address:
        return None
    digest = _address_digest(organization, address)
    limit = ADDRESS_LIMITS[path]
    until = _count(path, digest, limit, allowed=limit.failures)
    if until is not None:
        _record(path=path, digest=digest, who=address, until=until, organization=organization, request=request)
        return until
    return _lock_end(_names(path, digest)[1])


def succeeded(*, path, key):
    """A right secret for `key` on `path`: forget its failures (a lock, if any, stays until it ends)."""
    counter, _lock = _names(path, _digest(key))
    cache.delete_many([counter, f"{counter}:start"])


def clear(*, path, digest):
    """Lift a lock and forget the failures (for the org admin's "Unlock")."""
    counter, lock_name = _names(path, digest)
    cache.delete_many([counter, f"{counter}:start", lock_name])


def record_lockout(*, path, key, who, until, organization, request=None):
    """Record a lock that another rule decided (the portal's daily pause of a client's PIN sign-in)."""
    _record(path=path, digest=_digest(key), who=who, until=until, organization=organization, request=request)


def unlocked_at(*, path, key, organization):
    """When an org admin last lifted the lock of `key` on `path` (rules kept in the database start again then)."""
    from orgs.models import AuditEvent

    event = (AuditEvent.objects.with_scopes_disabled()
             .filter(organization=organization, action="signin.unlocked", changes__path=path,
                     changes__key=_digest(key)).order_by("-created_at").first())
    return event.created_at if event is not None else None


def current_lockouts(organization):
    """The organisation's lockouts that have not ended and were not lifted, newest first.

    Each: {"event", "path", "who", "since", "until", "key"}; one per (path, key), the latest lock wins.
    """
    from orgs.models import AuditEvent

    now = timezone.now()
    events = (AuditEvent.objects.with_scopes_disabled()
              .filter(organization=organization, action__in=["signin.locked", "signin.unlocked"],
                      created_at__gte=now - datetime.timedelta(days=2))
              .order_by("created_at", "id"))
    latest = {}
    for event in events:
        changes = event.changes or {}
        ident = (changes.get("path"), changes.get("key"))
        if event.action == "signin.unlocked":
            latest.pop(ident, None)
            continue
        try:
            until = datetime.datetime.fromisoformat(changes.get("until", ""))
        except (TypeError, ValueError):
            continue
        latest[ident] = {"event": event, "path": changes.get("path"), "who": changes.get("who", ""),
                         "since": event.created_at, "until": until, "key": changes.get("key")}
    return sorted((lock for lock in latest.values() if lock["until"] > now), key=lambda lock: lock["since"],
                  reverse=True)


def unlock(*, organization, actor, event_id, request=None):
    """An org admin lifts one of the organisation's current lockouts (by its audit row). Returns it, or None."""
    from orgs.services import audit_record

    for lock in current_lockouts(organization):
        if lock["event"].pk == event_id:
            clear(path=lock["path"], digest=lock["key"])
            audit_record(organization=organization, actor=actor, action="signin.unlocked", request=request,
                         changes={"path": lock["path"], "who": lock["who"], "key": lock["key"]})
            return lock
    return None


def key_digest(key):
    return _digest(key)


def address_digest(address, organization):
    return _address_digest(organization, address)


def _record(*, path, digest, who, until, organization, request):
    logger.warning("Sign-in locked: path=%s who=%s until=%s organization=%s", path, who, until.isoformat(),
                   getattr(organization, "pk", None))
    if organization is None:
        return  # platform host: no organisation audit log to write to
    from orgs.services import audit_record

    audit_record(organization=organization, actor=None, action="signin.locked", request=request,
                 changes={"path": path, "who": str(who)[:200], "until": until.isoformat(timespec="seconds"),
                          "key": digest})


def message(until):
    """"Too many failed attempts. Try again after 14:05." in the reader's language and time zone."""
    from django.utils.formats import time_format
    from django.utils.translation import gettext as _

    local = timezone.localtime(until)
    if local.date() == timezone.localdate():
        when = time_format(local, "H:i")
    else:
        from django.utils.formats import date_format

        when = date_format(local, "j F H:i")
    return _("Too many failed login attempts. Try again after %(time)s.") % {"time": when}
