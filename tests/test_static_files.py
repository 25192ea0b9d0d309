"""Static files answered by the ASGI layer (config/static_files.py), with and without collectstatic."""

import asyncio
import gzip
import json

import pytest
from asgiref.sync import async_to_sync

from config.static_files import StaticFiles


class NotFound:
    """Stands for Django: what the static handler does not serve ends here."""

    def __init__(self):
        self.paths = []

    async def __call__(self, scope, receive, send):
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"django"})


def get(app, path, *, method="GET", headers=()):
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "scheme": "http",
             "headers": [(name.encode(), value.encode()) for name, value in headers]}
    messages = []

    async def call():
        async def receive():
            await asyncio.Event().wait()

        async def send(message):
            messages.append(message)

        await app(scope, receive, send)

    async_to_sync(call)()
    start = messages[0]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, b"".join(
        m.get("body", b"") for m in messages[1:])


@pytest.fixture
def collected(tmp_path):
    """A STATIC_ROOT as collectstatic with WhiteNoise's manifest storage leaves it."""
    (tmp_path / "css").mkdir()
    css = b"body { color: #111; }\n" * 50
    (tmp_path / "css" / "app.css").write_bytes(css)
    (tmp_path / "css" / "app.0123456789ab.css").write_bytes(css)
    (tmp_path / "css" / "app.0123456789ab.css.gz").write_bytes(gzip.compress(css))
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "big.js").write_bytes(b"x" * (1024 * 1024 + 7))
    (tmp_path / "staticfiles.json").write_text(json.dumps(
        {"paths": {"css/app.css": "css/app.0123456789ab.css", "js/big.js": "js/big.js"}, "version": "1.1"}))
    (tmp_path.parent / "secret.txt").write_text("secret")
    return tmp_path


def test_collected_files_with_hashed_names_are_immutable(collected):
    app = StaticFiles(NotFound(), url="/static/", root=collected, use_finders=False)
    status, headers, body = get(app, "/static/css/app.0123456789ab.css")
    assert status == 200
    assert headers["content-type"] == "text/css; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-length"] == str(len(body)) and body.startswith(b"body {")
    assert headers["x-content-type-options"] == "nosniff"
    status, headers, _body = get(app, "/static/css/app.css")
    assert status == 200 and headers["cache-control"] == "public, max-age=60"


def test_precompressed_copy_for_clients_that_accept_it(collected):
    app = StaticFiles(NotFound(), url="/static/", root=collected, use_finders=False)
    status, headers, body = get(app, "/static/css/app.0123456789ab.css", headers=[("accept-encoding", "gzip, br")])
    assert status == 200 and headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body).startswith(b"body {")


def test_conditional_requests_and_head(collected):
    app = StaticFiles(NotFound(), url="/static/", root=collected, use_finders=False)
    _status, headers, _body = get(app, "/static/css/app.css")
    status, _headers, body = get(app, "/static/css/app.css", headers=[("if-none-match", headers["etag"])])
    assert status == 304 and body == b""
    status, _headers, body = get(app, "/static/css/app.css",
                                 headers=[("if-modified-since", headers["last-modified"])])
    assert status == 304 and body == b""
    status, head_headers, body = get(app, "/static/css/app.css", method="HEAD")
    assert status == 200 and body == b"" and head_headers["content-length"] == headers["content-length"]
    status, _headers, _body = get(app, "/static/css/app.css", method="POST")
    assert status == 405


def test_large_files_are_streamed_whole(collected):
    app = StaticFiles(NotFound(), url="/static/", root=collected, use_finders=False)
    status, headers, body = get(app, "/static/js/big.js")
    assert status == 200 and len(body) == 1024 * 1024 + 7
    assert headers["content-type"] == "text/javascript; charset=utf-8"


@pytest.mark.parametrize("path", [
    "/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/css/../../secret.txt", "/static//etc/passwd",
    "/static/css/%2e%2e%2f%2e%2e%2fsecret.txt", "/static/css\\..\\..\\secret.txt", "/static/.hidden",
    "/static/", "/static/css/missing.css", "/static/css",
])
def test_nothing_outside_the_static_files_and_misses_go_to_django(collected, path):
    django = NotFound()
    app = StaticFiles(django, url="/static/", root=collected, use_finders=False)
    status, _headers, body = get(app, path)
    assert status == 404 and body == b"django"
    assert django.paths == [path]


def test_finders_serve_unbuilt_files_in_development_and_tests():
    django = NotFound()
    app = StaticFiles(django, use_finders=True)
    status, headers, body = get(app, "/static/css/app.css")
    assert status == 200 and headers["content-type"] == "text/css; charset=utf-8" and body
    assert get(app, "/static/../config/settings/base.py")[0] == 404
    assert get(app, "/static/css/../../config/settings/base.py")[0] == 404


def test_other_paths_go_to_django():
    django = NotFound()
    app = StaticFiles(django, use_finders=True)
    assert get(app, "/en/")[2] == b"django"
    assert get(app, "/staticx/css/app.css")[2] == b"django"
