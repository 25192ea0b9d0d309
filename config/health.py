"""Health probes for load balancers and orchestrators, answered in front of Django (config/asgi.py).

- `/healthz`: the process is up and serving (no dependencies are touched).
- `/readyz`: the process can do its work: the database, the cache, the channel layer and the django-q2 broker
  each answer within a few seconds. 503 when one does not, naming which (never the error's text).

Both answer for any Host: probes come by IP or by an internal name that is no organisation's subdomain,
which Django would refuse (ALLOWED_HOSTS) or route to a 404.
"""

import asyncio
import json
import logging
import secrets

from asgiref.sync import sync_to_async

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3


def _database():
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # a probe every few seconds must not keep a connection per thread


def _cache():
    from django.core.cache import cache

    key, value = f"readyz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, 10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was stored")
    cache.delete(key)


def _task_broker():
    from django_q.brokers import get_broker

    broker = get_broker()
    if not broker.ping():
        raise RuntimeError("the broker did not answer")
    broker.queue_size()  # the ORM broker's ping answers True without asking its database


async def _channel_layer():
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = await layer.new_channel("readyz.")
    await layer.send(channel, {"type": "readyz.ping"})
    if (await layer.receive(channel)).get("type") != "readyz.ping":
        raise RuntimeError("the channel layer returned another message")


CHECKS = {
    "database": sync_to_async(_database, thread_sensitive=False),
    "cache": sync_to_async(_cache, thread_sensitive=False),
    "channel_layer": _channel_layer,
    "task_broker": sync_to_async(_task_broker, thread_sensitive=False),
}


async def readiness():
    """({check: "ok" | "failed" | "timeout"}, all ok)."""

    async def run(name, check):
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
            return name, "ok"
        except TimeoutError:
            logger.error("Readiness check %s timed out", name)
            return name, "timeout"
        except Exception:  # noqa: BLE001 - any failure means not ready; the log has the details
            logger.exception("Readiness check %s failed", name)
            return name, "failed"

    results = dict(await asyncio.gather(*(run(name, check) for name, check in CHECKS.items())))
    return results, all(value == "ok" for value in results.values())


class HealthProbes:
    """ASGI wrapper: /healthz and /readyz (GET or HEAD) answered here; everything else goes on to `app`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path") if scope["type"] == "http" else None
        if path not in ("/healthz", "/readyz") or scope.get("method") not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        if path == "/healthz":
            status, body = 200, {"status": "ok"}
        else:
            checks, ready = await readiness()
            status, body = (200 if ready else 503), {"status": "ready" if ready else "unavailable", "checks": checks}
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"cache-control", b"no-store"),
            (b"content-length", str(len(payload)).encode()),
        ]})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else payload})
