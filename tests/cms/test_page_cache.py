"""The ASGI page cache: published pages answered without entering Django, and forgotten at once on change."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from cms.models import MainPage
from cms.page_cache import MARK_HEADER, PageCache, _generation_key
from config.asgi import django_asgi_app
from tests.cms.site_helpers import add_page_set, main_page_of
from tests.conftest import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _asgi_in_the_test_transaction():
    """Requests run through Django's ASGI handler in this thread and transaction; its end-of-request
    connection cleanup would close the test's connection mid-transaction. No cached page survives a test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    _forget_test_hosts()
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    _forget_test_hosts()


def _forget_test_hosts():
    # Without their generations, earlier tests' copies for these hosts never match again. (Not cache.clear():
    # with REDIS_URL that would empty the Redis database the channel layer shares.)
    hosts = [f"{name}.{settings.BASE_DOMAIN}" for name in ("alpha", "beta", "alpha-new")]
    caches["default"].delete_many([_generation_key(host) for host in hosts])


class CountingApp:
    """Django's ASGI application, counting the requests that reach it."""

    def __init__(self):
        self.calls = 0

    async def __call__(self, scope, receive, send):
        self.calls += 1
        await django_asgi_app(scope, receive, send)


@pytest.fixture
def django_app():
    return CountingApp()


@pytest.fixture
def app(django_app):
    return PageCache(django_app)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {}
        for name, value in headers:
            self.headers.setdefault(name.decode().lower(), []).append(value.decode())
        self.body = body
        self.text = body.decode()

    def header(self, name):
        return ", ".join(self.headers.get(name.lower(), [])) or None


async def call(app, organization, path, *, method="GET", query=b"", cookies=None):
    """One request through the ASGI application `app`, in the running event loop."""
    headers = [(b"host", f"{organization.hostname}:8000".encode())]
    if cookies:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }
    messages = []
    sent_request = False

    async def receive():
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never leaves mid-request

    async def send(message):
        messages.append(message)

    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return Response(start["status"], start.get("headers", []), body)


def request(app, organization, path, **kwargs):
    """One request in an event loop of its own."""
    return async_to_sync(call)(app, organization, path, **kwargs)


def publish(django_capture_on_commit_callbacks, change):
    """Make a change as the admin does, in a transaction whose commit runs its on-commit work."""
    with django_capture_on_commit_callbacks(execute=True):
        change()


def test_second_request_is_answered_from_the_cache_without_django(alpha, app, django_app):
    first = request(app, alpha, "/en/")
    assert first.status == 200 and "Alpha Practice" in first.text
    assert django_app.calls == 1
    with CaptureQueriesContext(connection) as queries:
        second = request(app, alpha, "/en/")
    assert django_app.calls == 1
    assert len(queries) == 0
    assert second.status == 200 and second.body == first.body
    assert second.header("content-type").startswith("text/html")
    for response in (first, second):
        assert response.header(MARK_HEADER) is None  # the internal mark never leaves the server
        assert "nonce-" not in response.header("content-security-policy")
        assert "frame-ancestors 'none'" in response.header("content-security-policy")


def test_the_real_application_serves_cached_pages_without_queries(alpha):
    from config.asgi import application

    assert request(application, alpha, "/en/how-it-works/").status == 200
    with CaptureQueriesContext(connection) as queries:
        response = request(application, alpha, "/en/how-it-works/")
    assert response.status == 200 and "How it works" in response.text
    assert len(queries) == 0


def test_publishing_a_new_revision_shows_on_the_very_next_request(alpha, app, django_capture_on_commit_callbacks):
    assert "Alpha Practice" in request(app, alpha, "/en/").text
    main = main_page_of(alpha)

    def retitle():
        main.title = "Alpha Practice, now open on Saturdays"
        main.save_revision().publish()

    publish(django_capture_on_commit_callbacks, retitle)
    assert "now open on Saturdays" in request(app, alpha, "/en/").text


def test_unpublishing_is_a_404_at_once(alpha, app, django_capture_on_commit_callbacks):
    assert request(app, alpha, "/en/how-it-works/").status == 200
    follow_up = main_page_of(alpha).get_children().get(slug="how-it-works")
    publish(django_capture_on_commit_callbacks, lambda: follow_up.specific.unpublish())
    assert request(app, alpha, "/en/how-it-works/").status == 404
    assert request(app, alpha, "/en/how-it-works/").status == 404  # a 404 is never cached either


def test_switching_the_published_set_shows_at_once(alpha, app, django_capture_on_commit_callbacks):
    assert "Alpha Practice" in request(app, alpha, "/en/").text
    with django_capture_on_commit_callbacks(execute=True):
        summer = add_page_set(alpha, "Summer campaign", "summer")
    assert "Summer campaign" not in request(app, alpha, "/en/").text

    def switch():
        home = alpha.root_page.specific
        home.published_set = summer
        home.save_revision().publish()

    publish(django_capture_on_commit_callbacks, switch)
    assert "Summer campaign" in request(app, alpha, "/en/").text


def test_deleting_a_page_clears_the_cache(alpha, app, django_capture_on_commit_callbacks):
    assert request(app, alpha, "/en/how-it-works/").status == 200
    follow_up = main_page_of(alpha).get_children().get(slug="how-it-works")
    publish(django_capture_on_commit_callbacks, follow_up.delete)
    assert request(app, alpha, "/en/how-it-works/").status == 404


def test_organisation_changes_clear_its_pages(alpha, app, django_app, django_capture_on_commit_callbacks):
    request(app, alpha, "/en/")
    request(app, alpha, "/en/")
    assert django_app.calls == 1

    def rename():
        alpha.name = "Alpha Health Centre"
        alpha.save()

    publish(django_capture_on_commit_callbacks, rename)
    request(app, alpha, "/en/")
    assert django_app.calls == 2


def test_a_page_rendered_while_the_site_changed_is_not_kept(alpha, django_capture_on_commit_callbacks):
    """The generation is read before Django renders: a change committed meanwhile makes the copy stale."""
    from cms.page_cache import site_cache_clear

    def clear():
        with django_capture_on_commit_callbacks(execute=True):
            site_cache_clear(alpha)

    class ChangedDuringRender(CountingApp):
        async def __call__(self, scope, receive, send):
            if self.calls == 0:
                await sync_to_async(clear)()  # another request's commit, while this one renders
            await super().__call__(scope, receive, send)

    django_app = ChangedDuringRender()
    app = PageCache(django_app)
    request(app, alpha, "/en/")
    request(app, alpha, "/en/")
    assert django_app.calls == 2  # the first copy was stored under the old generation, never served
    request(app, alpha, "/en/")
    assert django_app.calls == 2


def test_the_clear_waits_for_the_commit(alpha, app, django_app, django_capture_on_commit_callbacks):
    request(app, alpha, "/en/")
    main = MainPage.objects.get(pk=main_page_of(alpha).pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        main.title = "Alpha Practice renamed"
        main.save_revision().publish()
        request(app, alpha, "/en/")
        assert django_app.calls == 1  # not committed yet: the cached copy is still the truth outside
    assert callbacks
    assert "Alpha Practice renamed" in request(app, alpha, "/en/").text


def test_signed_in_users_bypass_the_cache(alpha, app, django_app):
    request(app, alpha, "/en/")
    request(app, alpha, "/en/")
    assert django_app.calls == 1
    session = signed_in_client(alpha.people["admin"].user, alpha).cookies["sessionid"].value
    for _ in range(2):
        response = request(app, alpha, "/en/", cookies={"sessionid": session})
        assert response.status == 200
    assert django_app.calls == 3
    # and what a signed-in visitor got was not stored for anyone: the anonymous copy is unchanged
    request(app, alpha, "/en/")
    assert django_app.calls == 3


def test_language_and_message_cookies_bypass_but_harmless_cookies_do_not(alpha, app, django_app):
    request(app, alpha, "/en/")
    request(app, alpha, "/en/", cookies={"django_language": "nl"})
    request(app, alpha, "/en/", cookies={"messages": "x"})
    assert django_app.calls == 3
    request(app, alpha, "/en/", cookies={"csrftoken": "x"})
    assert django_app.calls == 3


def test_each_host_has_its_own_pages(alpha, beta, app):
    assert "Alpha Practice" in request(app, alpha, "/en/").text
    beta_page = request(app, beta, "/en/")
    assert "Beta Clinic" in beta_page.text and "Alpha Practice" not in beta_page.text
    assert "Alpha Practice" in request(app, alpha, "/en/").text


def test_head_is_answered_from_the_cache(alpha, app, django_app):
    get = request(app, alpha, "/en/")
    head = request(app, alpha, "/en/", method="HEAD")
    assert django_app.calls == 1
    assert head.status == 200 and head.body == b""
    assert head.header("content-type") == get.header("content-type")


def test_head_before_any_get_goes_to_django_and_is_not_stored(alpha, app, django_app):
    assert request(app, alpha, "/en/", method="HEAD").status == 200
    request(app, alpha, "/en/")
    assert django_app.calls == 2


def test_a_query_string_bypasses_the_cache(alpha, app, django_app):
    request(app, alpha, "/en/")
    request(app, alpha, "/en/", query=b"utm_source=x")
    request(app, alpha, "/en/", query=b"utm_source=x")
    assert django_app.calls == 3


def test_other_pages_are_not_cached(alpha, app, django_app):
    for path in ("/", "/accounts/login/", "/en/no-such-page/"):
        request(app, alpha, path)
        request(app, alpha, path)
    assert django_app.calls == 6


def test_turned_off_by_setting(alpha, app, django_app, settings):
    settings.PAGE_CACHE_ENABLED = False
    request(app, alpha, "/en/")
    response = request(app, alpha, "/en/")
    assert django_app.calls == 2
    assert response.header(MARK_HEADER) is None


def test_a_deactivated_organisation_or_a_new_subdomain_leaves_no_cached_page(alpha, app,
                                                                              django_capture_on_commit_callbacks):
    assert request(app, alpha, "/en/").status == 200
    old = type(alpha).objects.get(pk=alpha.pk)

    def move():
        alpha.subdomain = "alpha-new"
        alpha.save()

    publish(django_capture_on_commit_callbacks, move)
    assert request(app, old, "/en/").status == 404  # the old host is nobody's any more
    assert request(app, alpha, "/en/").status == 200

    def deactivate():
        alpha.is_active = False
        alpha.save()

    publish(django_capture_on_commit_callbacks, deactivate)
    assert request(app, alpha, "/en/").status == 404


def test_media_changes_clear_the_organisations_pages(alpha, beta, app, django_app,
                                                     django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cms.models import OrgDocument
    from orgs.scoping import scopes_disabled

    request(app, alpha, "/en/")
    request(app, beta, "/en/")
    assert django_app.calls == 2
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        OrgDocument.objects.create(title="Leaflet", file=SimpleUploadedFile("leaflet.pdf", b"%PDF"),
                                   collection=alpha.collection)
    request(app, alpha, "/en/")
    request(app, beta, "/en/")
    assert django_app.calls == 3  # alpha's pages rendered again, beta's still cached


def test_a_cache_that_does_not_answer_leaves_pages_to_django(alpha, django_app, monkeypatch):
    """With a networked cache (Redis) down, every request is answered by Django instead of failing."""
    from cms import page_cache

    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache down")

            return fail

    monkeypatch.setattr(page_cache, "_cache", lambda: Down())
    app = PageCache(django_app)
    for _ in range(2):
        response = request(app, alpha, "/en/")
        assert response.status == 200 and response.header(MARK_HEADER) is None
    assert django_app.calls == 2


def test_only_the_asgi_wrapper_sees_the_mark(alpha):
    """Under WSGI (or the test client) nothing would remove the internal header, so it is never set."""
    from tests.conftest import host_client

    response = host_client(alpha).get("/en/")
    assert response.status_code == 200 and MARK_HEADER not in response


def test_a_long_running_worker_sees_changes(alpha, django_app, django_capture_on_commit_callbacks):
    """Requests in one event loop, as in a server: with Redis the worker keeps generations it has read and is
    told of changes over pub/sub; with the local-memory cache it reads them each time. Either way a change
    shows on the next request."""
    from cms.page_cache import site_cache_clear

    app = PageCache(django_app)

    def clear():
        with django_capture_on_commit_callbacks(execute=True):
            site_cache_clear(alpha)

    async def scenario():
        assert (await call(app, alpha, "/en/")).status == 200
        redis = app._async_redis
        for _ in range(100):  # with Redis: until the worker listens to the changes channel
            if redis is None or redis.listening:
                break
            await asyncio.sleep(0.02)
        for _ in range(2):
            assert (await call(app, alpha, "/en/")).status == 200
        assert django_app.calls == 1
        if redis is not None:
            assert _generation_key(alpha.hostname) in redis.generations  # hits asked Redis nothing
        await sync_to_async(clear)()
        await asyncio.sleep(0.05)  # with Redis: the change notification's trip (well under a millisecond here)
        assert "Alpha Practice" in (await call(app, alpha, "/en/")).text
        assert django_app.calls == 2
        await call(app, alpha, "/en/")
        assert django_app.calls == 2
        if redis is not None:
            redis.listener.cancel()

    async_to_sync(scenario)()
