"""/healthz and /readyz (config/health.py), through the real ASGI application, for any Host."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import HttpCommunicator
from django.db import OperationalError, connections

from config.asgi import application
from config.health import HealthProbes

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


async def probe(path, method="GET", host="10.0.0.7"):
    communicator = HttpCommunicator(application, method, path, headers=[(b"host", host.encode())])
    response = await communicator.get_response(timeout=20)
    body = json.loads(response["body"]) if response["body"] else None
    return response["status"], body


def get(path, method="GET", host="10.0.0.7"):
    return async_to_sync(probe)(path, method, host)


def test_healthz_answers_for_any_host_without_touching_anything(monkeypatch):
    def touched(*args, **kwargs):
        pytest.fail("healthz touched the database")

    monkeypatch.setattr(type(connections["default"]), "cursor", touched)
    assert get("/healthz") == (200, {"status": "ok"})
    assert get("/healthz", host="unknown.example") == (200, {"status": "ok"})


def test_readyz_is_ready_when_database_cache_layer_and_broker_answer():
    status, body = get("/readyz")
    assert (status, body) == (200, {"status": "ready", "checks": {
        "database": "ok", "cache": "ok", "channel_layer": "ok", "task_broker": "ok"}})
    assert get("/readyz", method="HEAD") == (200, None)


def test_readyz_fails_when_the_database_is_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(type(connections["default"]), "ensure_connection", refuse)
    status, body = get("/readyz")
    assert status == 503 and body["status"] == "unavailable"
    assert body["checks"]["database"] == "failed" and body["checks"]["channel_layer"] == "ok"
    assert "refused" not in json.dumps(body)  # which check, never the error's text


def test_readyz_fails_when_redis_is_down_for_the_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
    status, body = get("/readyz")
    assert status == 503 and body["checks"]["cache"] == "failed" and body["checks"]["database"] == "ok"


def test_readyz_fails_when_redis_is_down_for_the_channel_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [DEAD_REDIS]}}}
    channel_layers.backends.clear()
    status, body = get("/readyz")
    assert status == 503 and body["checks"]["channel_layer"] in ("failed", "timeout")


def test_other_paths_and_methods_go_on_to_the_application():
    reached = []

    async def inner(scope, receive, send):
        reached.append((scope["method"], scope["path"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def call(method, path):
        communicator = HttpCommunicator(HealthProbes(inner), method, path)
        return (await communicator.get_response(timeout=5))["status"]

    assert [async_to_sync(call)(m, p) for m, p in [("POST", "/readyz"), ("GET", "/readyz/"), ("GET", "/")]] == [204] * 3
    assert reached == [("POST", "/readyz"), ("GET", "/readyz/"), ("GET", "/")]
    assert async_to_sync(call)("GET", "/healthz") == 200 and len(reached) == 3
