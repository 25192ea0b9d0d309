"""Published site pages served from the cache without entering Django.

Django decides what may be cached: `PageCacheMarkMiddleware` marks the response of a live site page served
to the public (`mark_page_cacheable`, an internal header). `PageCache`, an ASGI wrapper in front of Django
(config/asgi.py), stores marked responses (status 200, text/html, no Set-Cookie) and serves them to later
anonymous GET/HEAD requests of the same scheme, host and path, with no query string and none of the cookies
that change a page (session, messages, language). The internal header never leaves the server.

Invalidation is a generation per host: every entry records the generation it was rendered under, and
`site_cache_clear(organization)` replaces the generation, so all the organisation's entries stop matching
at once, in every process sharing the cache. The generation is read before Django renders, so a page
rendered while its site changed is stored under the old generation and never served.

Cached copies carry no CSP nonce: the same stored bytes go to every visitor, so a nonce would be public and
worthless. Site pages therefore have no inline scripts; their first (uncached) response drops the nonce too,
so a page that needed one fails at once, not only when cached.
"""

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
import time
from collections import OrderedDict

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.core.handlers.asgi import ASGIRequest
from django.db import transaction
from django.http.cookie import parse_cookie

logger = logging.getLogger(__name__)
MARK_HEADER = "X-OpenConsult-Page-Cache"
_MARK = MARK_HEADER.lower().encode()
MAX_BODY_BYTES = 2 * 1024 * 1024
NONCE = re.compile(rb"\s*'nonce-[^']*'")
KEY_PREFIX = "pagecache"
RECENT_ENTRIES = 256
CHANGES_CHANNEL = f"{KEY_PREFIX}:changes"


# --- the Django side: which responses may be cached -------------------------------------------

def mark_page_cacheable(response):
    """Let the ASGI page cache store `response` (it still checks status, cookies and content type)."""
    response[MARK_HEADER] = "1"
    return response


class PageCacheMarkMiddleware:
    """Marks responses of live site pages served by Wagtail's public view (never previews, never drafts)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_template_response(self, request, response):
        from .models import FollowUpPage, MainPage

        page = (response.context_data or {}).get("page")
        match = getattr(request, "resolver_match", None)
        if (
            isinstance(request, ASGIRequest)  # only the ASGI wrapper removes the mark (not WSGI, not the test client)
            and isinstance(page, (MainPage, FollowUpPage))
            and page.live
            and not getattr(request, "is_preview", False)
            and match is not None and match.url_name == "wagtail_serve"
            and request.method in ("GET", "HEAD")
        ):
            mark_page_cacheable(response)
        return response


# --- keys and invalidation ----------------------------------------------------------------------

def _cache():
    return caches["default"]


def _generation_key(hostname):
    return f"{KEY_PREFIX}:generation:{hostname}"


def _entry_key(scheme, host, path):
    digest = hashlib.sha256(f"{scheme}\n{host}\n{path}".encode("utf-8", "surrogateescape")).hexdigest()
    return f"{KEY_PREFIX}:page:{digest}"


def _bump(hostname):
    cache = _cache()
    key = _generation_key(hostname)
    cache.set(key, secrets.token_hex(8), timeout=None)
    if isinstance(cache, RedisCache):
        # Workers keep the generations they have read (AsyncRedisCache); this tells them to read again.
        cache._cache.get_client(write=True).publish(cache.make_key(CHANGES_CHANNEL), key)


def site_cache_clear(organization):
    """Forget every cached page of the organisation's site, once the current transaction commits.

    After the commit, not before: a page rendered between the clear and the commit would show the old
    content under the new generation and stay cached.
    """
    if organization is None or not getattr(organization, "subdomain", None):
        return
    hostname = organization.hostname
    transaction.on_commit(lambda: _bump(hostname), robust=True)  # a cache failure must not fail the change


# --- the ASGI side ------------------------------------------------------------------------------

def _header(scope, name):
    for key, value in scope.get("headers", ()):
        if key == name:
            return value
    return None


def _cookie_header(scope):
    return b"; ".join(value for key, value in scope.get("headers", ()) if key == b"cookie")


class PageCache:
    """ASGI middleware: answers from the cache, or lets Django answer and keeps a marked response."""

    def __init__(self, app):
        self.app = app
        # Entries this process has used lately, so a hit costs one small read (the generation) and no
        # unpickling of the page; each is still checked against the shared generation on every request.
        self._recent = OrderedDict()
        self._backend = None
        self._async_redis = None

    async def _cache_call(self, method, *args):
        """Local-memory caches answer at once; a networked cache (Redis) is asked from a worker thread, never
        on the event loop (a slow cache must not stall the WebSockets) nor in the one thread Django's views
        share (thread_sensitive), where requests queue."""
        if self._backend is None:
            self._backend = _cache()  # looked up once: `caches[...]` goes through a context-local per call
        cache = self._backend
        if method == "generation" and not isinstance(cache, RedisCache):
            method = "get"
        if isinstance(cache, LocMemCache):
            return getattr(cache, method)(*args)
        try:
            if isinstance(cache, RedisCache):
                return await self._redis(cache).call(method, *args)
            return await sync_to_async(getattr(cache, method), thread_sensitive=False)(*args)
        except Exception:  # noqa: BLE001 - the cache is an optimisation: without it, Django answers
            logger.warning("page cache unavailable (%s)", method, exc_info=True)
            return None

    def _redis(self, cache):
        loop = asyncio.get_running_loop()
        if self._async_redis is None or self._async_redis.loop is not loop:
            self._async_redis = AsyncRedisCache(cache, loop)
        return self._async_redis

    def _remember(self, entry_key, entry):
        self._recent[entry_key] = (entry, time.monotonic() + settings.PAGE_CACHE_TIMEOUT)
        self._recent.move_to_end(entry_key)
        if len(self._recent) > RECENT_ENTRIES:
            self._recent.popitem(last=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        key = self._key(scope) if settings.PAGE_CACHE_ENABLED else None
        if key is None:
            return await self.app(scope, receive, send_without_mark(send))
        entry_key, generation_key = key
        generation = await self._cache_call("generation", generation_key)
        if generation is not None:
            entry, deadline = self._recent.get(entry_key, (None, 0))
            if entry is None or entry["generation"] != generation or deadline < time.monotonic():
                entry = await self._cache_call("get", entry_key)
                if entry is not None and entry["generation"] == generation:
                    self._remember(entry_key, entry)
            if entry is not None and entry["generation"] == generation:
                return await self._replay(entry, scope, send)
        if scope["method"] != "GET":
            return await self.app(scope, receive, send_without_mark(send))
        if generation is None:
            generation = secrets.token_hex(8)
            if not await self._cache_call("add", generation_key, generation, None):
                generation = await self._cache_call("get", generation_key)
            if generation is None:  # the cache is not answering
                return await self.app(scope, receive, send_without_mark(send))
        return await self.app(scope, receive, self._recording(send, entry_key, generation))

    def _key(self, scope):
        """(entry key, generation key) when this request may be answered from the cache, else None."""
        if scope["method"] not in ("GET", "HEAD") or scope.get("query_string"):
            return None
        path = scope["path"]
        if path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
            return None
        host = _header(scope, b"host")
        if not host or _header(scope, b"authorization") is not None:
            return None
        cookie = _cookie_header(scope)
        if cookie and _has_personal_cookie(cookie):
            return None
        host = host.decode("latin-1").lower()
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        forwarded = (_header(scope, b"x-forwarded-proto") or b"").decode("latin-1")
        scheme = f"{scope.get('scheme', 'http')}+{forwarded}"
        return _entry_key(scheme, host, path), _generation_key(hostname.rstrip("."))

    async def _replay(self, entry, scope, send):
        await send({"type": "http.response.start", "status": entry["status"], "headers": entry["headers"]})
        body = b"" if scope["method"] == "HEAD" else entry["body"]
        await send({"type": "http.response.body", "body": body})

    def _recording(self, send, entry_key, generation):
        state = {"record": False, "status": None, "headers": None, "body": []}
        size = 0

        async def recording_send(message):
            nonlocal size
            if message["type"] == "http.response.start":
                headers, marked = _unmarked(message.get("headers", []))
                if marked:
                    headers = _without_nonce(headers)
                    state["record"] = message["status"] == 200 and _storable(headers)
                state["status"], state["headers"] = message["status"], headers
                message = {**message, "headers": headers}
            await send(message)  # the visitor first, then the cache
            if message["type"] == "http.response.body" and state["record"]:
                body = message.get("body", b"")
                size += len(body)
                if size > MAX_BODY_BYTES:
                    state["record"], state["body"] = False, []
                    return
                state["body"].append(body)
                if not message.get("more_body", False):
                    entry = {"generation": generation, "status": state["status"], "headers": state["headers"],
                             "body": b"".join(state["body"])}
                    await self._cache_call("set", entry_key, entry, settings.PAGE_CACHE_TIMEOUT)
                    self._remember(entry_key, entry)

        return recording_send


LISTEN_POLL_SECONDS = 1.0


class AsyncRedisCache:
    """Django's RedisCache (same server, keys and serialisation, so `site_cache_clear` and this agree), asked
    with redis-py's asyncio client on the event loop, without a thread hop.

    Generations are kept in the worker while it listens to the changes channel (`_bump` publishes every
    change after writing it), so a hit costs no round trip at all. Whenever the subscription is not
    confirmed (starting, Redis restarting) nothing is kept and every request reads the generation, and a
    read that overlapped a change (the `changes` counter moved) is not kept either.
    """

    def __init__(self, cache, loop):
        from redis.asyncio import Redis

        self.cache = cache
        self.loop = loop  # an asyncio client belongs to the loop it was made in
        client = cache._cache  # Django's RedisCacheClient: its first server takes the writes
        self.serializer = client._serializer
        options = {name: value for name, value in client._pool_options.items() if name != "parser_class"}
        self.redis = Redis.from_url(client._servers[0], **options)
        self.generations = {}
        self.changes = 0
        self.listening = False
        self.listener = loop.create_task(self._listen())

    async def _listen(self):
        channel = self.cache.make_key(CHANGES_CHANNEL)
        task = asyncio.current_task()
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(channel)
                # Short waits instead of `pubsub.listen()`: redis-py's blocking read can swallow the task's
                # cancellation and wait on, which kept an event loop from ever closing (server shutdown).
                while not task.cancelling():
                    message = await pubsub.get_message(timeout=LISTEN_POLL_SECONDS)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._forget()
                        self.listening = True
                    elif message["type"] == "message":
                        self.generations.pop(message["data"].decode(), None)
                        self.changes += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis went away: read generations each time until it is back
                logger.warning("page cache: no change notifications from Redis", exc_info=True)
            finally:
                self.listening = False
                self._forget()
                # Bounded: when the loop shuts down this runs inside a cancellation, and an unanswered close
                # would keep the loop from ever finishing.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), timeout=1)
            if task.cancelling():
                raise asyncio.CancelledError
            await asyncio.sleep(1)

    def _forget(self):
        self.generations.clear()
        self.changes += 1

    async def call(self, method, key, *args):
        if method == "generation":
            if self.listening and key in self.generations:
                return self.generations[key]
            changes = self.changes
            value = await self.call("get", key)
            if value is not None and self.listening and changes == self.changes:
                self.generations[key] = value
            return value
        name = self.cache.make_and_validate_key(key)
        if method == "get":
            raw = await self.redis.get(name)
            return None if raw is None else self.serializer.loads(raw)
        value, timeout = args
        expiry = None if timeout is None else max(1, int(timeout))
        return bool(await self.redis.set(name, self.serializer.dumps(value), ex=expiry, nx=method == "add"))


def send_without_mark(send):
    """Pass a response on with the internal header (and the nonce it implies) removed."""

    async def unmarked_send(message):
        if message["type"] == "http.response.start":
            headers, marked = _unmarked(message.get("headers", []))
            message = {**message, "headers": _without_nonce(headers) if marked else headers}
        await send(message)

    return unmarked_send


def _unmarked(headers):
    kept = [(name, value) for name, value in headers if name.lower() != _MARK]
    return kept, len(kept) != len(headers)


def _without_nonce(headers):
    return [
        (name, NONCE.sub(b"", value) if name.lower() == b"content-security-policy" else value)
        for name, value in headers
    ]


def _storable(headers):
    content_type = b""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"set-cookie":
            return False
        if lowered == b"content-type":
            content_type = value.lower()
        if lowered == b"cache-control" and (b"private" in value.lower() or b"no-store" in value.lower()):
            return False
    return content_type.startswith(b"text/html")


def _personal_cookie_names():
    return {settings.SESSION_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME, "messages"}


def _has_personal_cookie(header):
    """A cookie that could change the page (a session, flash messages, a language choice): Django answers."""
    # Django's own parser, so the cache reads a cookie header exactly as the request will.
    return bool(_personal_cookie_names() & set(parse_cookie(header.decode("latin-1"))))


# --- what clears an organisation's cached pages -------------------------------------------------

# Models whose rows show on an organisation's pages (besides pages): the organisation itself (name, logo,
# contact in the footer), its media and its widgets.
SITE_MODELS = {"orgs.organization", "cms.orgimage", "cms.orgdocument", "widgets.walkinwidget",
               "widgets.bookingwidget"}


def _shows_on_site(instance):
    from wagtail.models import Page

    return isinstance(instance, Page) or instance._meta.label_lower in SITE_MODELS


def _hostnames_showing(instance):
    """The hosts whose pages show `instance`. Asked after the commit, so a change costs its transaction no query."""
    from wagtail.models import Page

    from orgs.models import Organization

    from .models import organization_of_page

    if isinstance(instance, Page):
        organization = organization_of_page(instance)
    elif isinstance(instance, Organization):
        # A new subdomain leaves the old host's pages behind: they must go too.
        return [instance.hostname, *getattr(instance, "_page_cache_previous_hostnames", [])]
    else:
        organization_id = getattr(instance, "organization_id", None)
        organization = Organization.objects.filter(pk=organization_id).first() if organization_id else None
    return [organization.hostname] if organization is not None else []


def _clear_after_commit(instance):
    if _shows_on_site(instance):
        transaction.on_commit(lambda: [_bump(hostname) for hostname in _hostnames_showing(instance)], robust=True)


def _changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _clear_after_commit(instance)


def _page_event(sender, instance, **kwargs):
    _clear_after_commit(instance)


def _remember_loaded_subdomain(sender, instance, **kwargs):
    # As loaded (no query): a save with another subdomain must also clear the old host's pages.
    instance._page_cache_loaded_subdomain = instance.__dict__.get("subdomain")


def _note_previous_hostname(sender, instance, raw=False, **kwargs):
    previous = getattr(instance, "_page_cache_loaded_subdomain", None)
    if not raw and previous and previous != instance.subdomain:
        instance._page_cache_previous_hostnames = [f"{previous}.{settings.BASE_DOMAIN}"]


def connect_signals():
    """Called from CmsConfig.ready(): every process that changes a site (web, tasks, commands) clears it."""
    from django.db.models.signals import post_delete, post_init, post_save, pre_save
    from wagtail.signals import page_published, page_unpublished

    from orgs.models import Organization

    post_init.connect(_remember_loaded_subdomain, sender=Organization, dispatch_uid="page_cache_subdomain")
    pre_save.connect(_note_previous_hostname, sender=Organization, dispatch_uid="page_cache_hostname")
    post_save.connect(_changed, dispatch_uid="page_cache_saved")
    post_delete.connect(_changed, dispatch_uid="page_cache_deleted")
    page_published.connect(_page_event, dispatch_uid="page_cache_published")
    page_unpublished.connect(_page_event, dispatch_uid="page_cache_unpublished")
