"""Static files answered by the ASGI layer itself, before Django.

WhiteNoise under ASGI hands Django a synchronous file iterator that is consumed through sync_to_async, one
thread hop per chunk: a static file cost more than a page. This handler answers /static/ natively:

- production (collectstatic + the manifest storage): files under STATIC_ROOT; hashed names (the values of
  staticfiles.json) are `immutable` for a year, other names revalidate after a minute;
- development and tests (WHITENOISE_USE_FINDERS): the files the staticfiles finders find, unbuilt;
- Content-Type, ETag, Last-Modified, 304 on If-None-Match / If-Modified-Since, HEAD, the precompressed
  .br/.gz copies WhiteNoise's storage writes (Vary: Accept-Encoding), no path traversal;
- anything it does not find goes on to Django (404 page, or WhiteNoise's middleware for odd cases).

Small files are kept in memory (keyed by path, size and modification time); large ones are read in chunks
from a worker thread so the event loop never waits for the disk.
"""

import asyncio
import json
import mimetypes
import os
import posixpath
from collections import OrderedDict
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings

IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"public, max-age=60"
MEMORY_FILE_BYTES = 256 * 1024
MEMORY_TOTAL_BYTES = 32 * 1024 * 1024
CHUNK_BYTES = 256 * 1024
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/xml")
ENCODINGS = ((b"br", ".br"), (b"gzip", ".gz"))


class StaticFiles:
    def __init__(self, app, *, url=None, root=None, use_finders=None):
        self.app = app
        self.url = url or settings.STATIC_URL
        self.use_finders = getattr(settings, "WHITENOISE_USE_FINDERS", False) if use_finders is None else use_finders
        self.root = Path(root or settings.STATIC_ROOT).resolve() if (root or settings.STATIC_ROOT) else None
        self.immutable = self._hashed_names()
        self._memory = OrderedDict()
        self._memory_bytes = 0
        self._found = {}

    def _hashed_names(self):
        if self.root is None:
            return frozenset()
        try:
            manifest = json.loads((self.root / "staticfiles.json").read_text())
        except (OSError, ValueError):
            return frozenset()
        return frozenset(name for original, name in manifest.get("paths", {}).items() if name != original)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(self.url):
            return await self.app(scope, receive, send)
        name = self._name(scope["path"][len(self.url):])
        path = self._find(name) if name else None
        if path is None:
            return await self.app(scope, receive, send)
        if scope["method"] not in ("GET", "HEAD"):
            return await _send(send, 405, [(b"allow", b"GET, HEAD")], b"")
        await self._serve(scope, send, name, path)

    @staticmethod
    def _name(relative):
        """The file name asked for, or None when it tries to leave the static directory."""
        name = unquote(relative)
        if not name or "\\" in name or "\x00" in name or name.startswith("/"):
            return None
        normal = posixpath.normpath(name)
        if normal != name or normal.startswith("..") or "/../" in f"/{normal}/" or normal.startswith("."):
            return None
        return name

    def _find(self, name):
        if name in self._found:
            path = self._found[name]
            if path.is_file():
                return path
        path = self._lookup(name)
        if path is not None and len(self._found) < 10_000:  # misses are not remembered: files may appear
            self._found[name] = path
        return path

    def _lookup(self, name):
        if self.use_finders:
            from django.contrib.staticfiles import finders
            from django.core.exceptions import SuspiciousFileOperation

            try:
                found = finders.find(name)
            except SuspiciousFileOperation:
                return None
            return Path(found) if found and os.path.isfile(found) else None
        if self.root is None:
            return None
        path = (self.root / name).resolve()
        if self.root not in path.parents or not path.is_file():
            return None
        return path

    async def _serve(self, scope, send, name, path):
        encoding, served = self._encoded(scope, path)
        stat = served.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}{encoding.decode()}"'.encode()
        last_modified = formatdate(stat.st_mtime, usegmt=True).encode()
        headers = [
            (b"content-type", _content_type(path.name)),
            (b"etag", etag),
            (b"last-modified", last_modified),
            (b"cache-control", IMMUTABLE if name in self.immutable else REVALIDATE),
            (b"vary", b"Accept-Encoding"),
            (b"access-control-allow-origin", b"*"),
            (b"x-content-type-options", b"nosniff"),
        ]
        if encoding:
            headers.append((b"content-encoding", encoding))
        if _not_modified(scope, etag, stat.st_mtime):
            return await _send(send, 304, headers, b"")
        headers.append((b"content-length", str(stat.st_size).encode()))
        if scope["method"] == "HEAD":
            return await _send(send, 200, headers, b"")
        if stat.st_size <= MEMORY_FILE_BYTES:
            return await _send(send, 200, headers, self._small_file(served, stat))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        loop = asyncio.get_running_loop()
        with open(served, "rb") as file:
            while True:
                chunk = await loop.run_in_executor(None, file.read, CHUNK_BYTES)
                more = len(chunk) == CHUNK_BYTES
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
                if not more:
                    break

    @staticmethod
    def _encoded(scope, path):
        accepted = b""
        for key, value in scope.get("headers", ()):
            if key == b"accept-encoding":
                accepted += value.lower() + b","
        for encoding, suffix in ENCODINGS:
            if encoding in accepted:
                compressed = path.with_name(path.name + suffix)
                if compressed.is_file():
                    return encoding, compressed
        return b"", path

    def _small_file(self, path, stat):
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        body = self._memory.get(key)
        if body is not None:
            self._memory.move_to_end(key)
            return body
        body = path.read_bytes()
        self._memory[key] = body
        self._memory_bytes += len(body)
        while self._memory_bytes > MEMORY_TOTAL_BYTES:
            _old, dropped = self._memory.popitem(last=False)
            self._memory_bytes -= len(dropped)
        return body


def _content_type(filename):
    kind, _encoding = mimetypes.guess_type(filename)
    if filename.endswith((".js", ".mjs")):
        kind = "text/javascript"
    elif filename.endswith(".wasm"):
        kind = "application/wasm"
    elif filename.endswith(".map"):
        kind = "application/json"
    kind = kind or "application/octet-stream"
    if kind.startswith(TEXT_TYPES):
        kind += "; charset=utf-8"
    return kind.encode()


def _not_modified(scope, etag, mtime):
    none_match = if_modified = None
    for key, value in scope.get("headers", ()):
        if key == b"if-none-match":
            none_match = value
        elif key == b"if-modified-since":
            if_modified = value
    if none_match is not None:
        tags = [tag.strip().removeprefix(b"W/") for tag in none_match.split(b",")]
        return etag in tags or b"*" in tags
    if if_modified is not None:
        try:
            return int(mtime) <= parsedate_to_datetime(if_modified.decode("latin-1")).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
    return False


async def _send(send, status, headers, body):
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
