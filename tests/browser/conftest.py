"""Real Chromium against the real ASGI application, served by uvicorn from a background thread.

Why not Django's `live_server`: it is WSGI and cannot carry the WebSockets (Channels) the rooms need.

Data must be committed for the server thread to see it, so browser tests run as
`django_db(transaction=True, serialized_rollback=True)`. The serialized rollback matters: Wagtail's
root page, root collection and default Locale come from migrations, and a plain transactional flush
would delete them for every later test. Tests in this directory get the `browser` marker and that
database marker automatically (a module may still set its own `django_db` marker).

Pages are opened as http://<subdomain>.localhost:<port>/: Chromium resolves every *.localhost name
to 127.0.0.1 by itself, so no DNS or /etc/hosts entry is needed.
"""

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, make_org

BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # Host candidates with real loopback addresses instead of random mDNS names: the browsers of a test
    # then connect without depending on multicast name resolution, which is flaky on a busy machine.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
# Fail fast: every page here is local and small.
DEFAULT_TIMEOUT_MS = 10_000


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Every test under tests/browser/ is a `browser` test on committed (transactional) data."""
    for item in items:
        if BROWSER_DIR not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        # WhiteNoise hands Django's ASGI handler a synchronous file iterator for every static file.
        item.add_marker(pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"))
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


# --- the server ---------------------------------------------------------------------------------


def _asgi_application():
    # The test settings let WhiteNoise serve static files from the finders (no collectstatic).
    from config.asgi import application

    return application


def _awaiting(task):
    """Where a running task waits: the chain of coroutines it is inside, innermost last."""
    chain, coroutine = [], task.get_coro()
    while coroutine is not None:
        frame = getattr(coroutine, "cr_frame", None) or getattr(coroutine, "gi_frame", None)
        if frame is not None:
            chain.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
        coroutine = getattr(coroutine, "cr_await", None) or getattr(coroutine, "gi_yieldfrom", None)
    return " > ".join(chain[-6:])


class LiveASGIServer:
    def __init__(self, application, port=0):
        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Port 0: a free port, held from now on (no race with other processes). A given port: a restart.
        self.socket.bind(("127.0.0.1", port))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(application, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, name="uvicorn-browser-tests", daemon=True
        )

    def start(self, timeout=10):
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn stopped before it started; see the log above")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start within {timeout}s")
            time.sleep(0.02)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2):
            pass

    def wait_idle(self, timeout=10):
        """Wait until no connection is open and no request or socket handler still runs: then nothing the
        browsers started can touch the database after the test (pytest-django refuses it, and on
        PostgreSQL a write still running would block emptying the tables)."""
        state = self.server.server_state
        deadline = time.monotonic() + timeout
        while state.connections or state.tasks:
            if time.monotonic() > deadline:
                stacks = [_awaiting(task) for task in list(state.tasks)]
                raise AssertionError(f"the server is still busy: {len(state.connections)} connections open, "
                                     f"tasks at {stacks}")
            time.sleep(0.05)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()

    def url(self, subdomain=None, path="/"):
        host = f"{subdomain}.localhost" if subdomain else "localhost"
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="session")
def asgi_server(django_db_setup):
    """One uvicorn server for the session, serving config.asgi.application on 127.0.0.1:<free port>."""
    server = LiveASGIServer(_asgi_application())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def url_for(asgi_server):
    """url_for("alpha", "/portal/") → "http://alpha.localhost:<port>/portal/"."""
    return asgi_server.url


# --- organisations ------------------------------------------------------------------------------


def make_browser_org(subdomain, name):
    """`make_org` (tests/conftest.py), after checking the serialized rollback restored Wagtail's tree."""
    from wagtail.models import Page

    assert Page.get_first_root_node() is not None, "Wagtail's root page is missing: no serialized rollback?"
    return make_org(subdomain, name)


@pytest.fixture
def alpha(transactional_db):
    return make_browser_org("alpha", "Alpha Practice")


@pytest.fixture
def beta(transactional_db):
    return make_browser_org("beta", "Beta Clinic")


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def playwright(django_db_setup):
    """Playwright's sync API, for this package only.

    While it runs, the main thread has a running asyncio event loop, and two things change for Django:

    - it refuses every ORM call the test makes ("You cannot call this from an async context") unless
      DJANGO_ALLOW_ASYNC_UNSAFE is set;
    - `django.db.connections` (an asgiref Local with thread_critical=True) keeps its connections in
      a context variable instead of the thread-local, so the test gets new connection objects. Those
      lack `_test_serialized_contents`, which setup_databases stored on the thread-local ones, and
      TransactionTestCase then silently skips the serialized rollback (Wagtail's root page is gone
      from the second test on). The contents are copied over, and the new connections are closed
      before the loop stops (an open PostgreSQL connection would block dropping the test database).

    Package scope stops it after the last browser test (pytest-django keeps transactional tests
    together at the end), so `async_to_sync`/`asyncio.run` in other tests still work, and the
    variable is restored with it.
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    serialized = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            for alias, contents in serialized.items():
                connections[alias]._test_serialized_contents = contents
            try:
                yield p
            finally:
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(autouse=True)
def _settle_browsers(transactional_db, browser, asgi_server):
    """After each test (passed or failed) every browser is closed and the server has finished what they
    asked (LiveASGIServer.wait_idle) before the database is emptied. Depending on transactional_db makes
    this run before its teardown."""
    yield
    for context in browser.contexts:
        context.close()
    asgi_server.wait_idle()


@pytest.fixture
def context(browser):
    """A fresh browser profile per test: no cookies, no storage."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


def login(page, url, email, password=PASSWORD):
    """Sign in through the real form at `url` (an organisation's /accounts/login/) and wait to land."""
    page.goto(url)
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").click()
    return page
