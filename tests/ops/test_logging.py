"""JSON logs (ops/logging.py): each line parses, carries time, level, logger, message, exception and the request's
context, and no personal data or link credentials."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from ops.logging import JsonFormatter
from tests.conftest import host_client, signed_in_client

MIDDLEWARE_WITH_CONTEXT = list(settings.MIDDLEWARE)
MIDDLEWARE_WITH_CONTEXT.insert(MIDDLEWARE_WITH_CONTEXT.index("orgs.middleware.OrganizationHostMiddleware") + 1,
                               "ops.logging.RequestContextMiddleware")


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def json_lines():
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_a_record_is_one_json_object_with_time_level_logger_message_and_exception(json_lines):
    try:
        raise ValueError("the detail")
    except ValueError:
        logging.getLogger("consult.jobs").exception("Reminder %s failed", 42)
    assert len(json_lines) == 1 and "\n" not in json_lines[0].strip().replace("\\n", "")
    entry = json.loads(json_lines[0])
    assert entry["level"] == "ERROR" and entry["logger"] == "consult.jobs"
    assert entry["message"] == "Reminder 42 failed"
    assert entry["time"].endswith("Z") and "T" in entry["time"]  # ISO 8601, UTC
    assert "Traceback" in entry["exception"] and "ValueError: the detail" in entry["exception"]
    assert not {"method", "path", "request_id"} & set(entry)  # outside a request: no request context


@override_settings(MIDDLEWARE=MIDDLEWARE_WITH_CONTEXT)
def test_request_lines_carry_method_path_status_organisation_and_request_id(alpha, json_lines):
    admin = alpha.people["admin"].user
    client = signed_in_client(admin, alpha)
    response = client.get("/portal/?q=someone%40example.org", HTTP_X_REQUEST_ID="proxy-req-12345678")
    assert response["X-Request-ID"] == "proxy-req-12345678"
    access = [json.loads(line) for line in json_lines if json.loads(line)["logger"] == "ops.request"]
    assert len(access) == 1
    entry = access[0]
    assert entry["method"] == "GET" and entry["path"] == "/portal/" and entry["status"] == response.status_code
    assert entry["organization"] == "alpha" and entry["request_id"] == "proxy-req-12345678"
    assert isinstance(entry["duration_ms"], float)
    everything = "\n".join(json_lines)
    assert "example.org" not in everything and "q=" not in everything  # no query strings
    assert admin.email not in everything and "127.0.0.1" not in everything


@override_settings(MIDDLEWARE=MIDDLEWARE_WITH_CONTEXT)
def test_a_link_token_in_the_path_is_not_logged(alpha, json_lines):
    token = "SECRETtoken1234567890abcdef"
    response = host_client(alpha).get(f"/c/{token}/", HTTP_X_REQUEST_ID="bad id with spaces")
    access = [json.loads(line) for line in json_lines if json.loads(line)["logger"] == "ops.request"]
    assert access[0]["path"] == "/c/<token>/"
    assert token not in "\n".join(json_lines)
    assert len(response["X-Request-ID"]) == 32  # an unusable incoming id is replaced by our own


@override_settings(MIDDLEWARE=MIDDLEWARE_WITH_CONTEXT)
def test_lines_logged_inside_a_view_get_the_context(alpha, json_lines):
    client = signed_in_client(alpha.people["gp"].user, alpha)
    client.raise_request_exception = False
    with override_settings(ROOT_URLCONF="tests.ops.urls_failing"):
        response = client.get("/fails/?email=x@y.z")
    assert response.status_code == 500
    entries = [json.loads(line) for line in json_lines]
    in_view = next(e for e in entries if e["message"] == "something in the view")
    assert in_view["path"] == "/fails/" and in_view["organization"] == "alpha" and in_view["method"] == "GET"
    error = next(e for e in entries if e["logger"] == "django.request")
    assert error["status"] == 500 and "RuntimeError: boom" in error["exception"]
    assert error["request_id"] == in_view["request_id"]
    assert "x@y.z" not in "\n".join(json_lines)


def test_production_settings_log_json_by_default_and_text_on_request(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": "x" * 50,
           "QUESTIONNAIRE_KEYS": "k1:" + "A" * 44, "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3"),
           "EMAIL_URL": "smtp://localhost:25", "REDIS_URL": "redis://127.0.0.1:6379/6"}
    env.pop("LOG_FORMAT", None)
    check = ("import django, logging; django.setup(); from django.conf import settings; "
             "logging.getLogger('ops.check').warning('hello'); "
             "print('ops.logging.RequestContextMiddleware' in settings.MIDDLEWARE, settings.PUBLIC_PORT, "
             "settings.WAGTAILADMIN_BASE_URL)")
    result = subprocess.run([sys.executable, "-c", check], env=env, cwd=settings.BASE_DIR, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    # Links in emails are https://<org>.<domain>/…, not the demo's port 8000.
    assert result.stdout.strip() == "True 443 https://localhost"
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hello" and entry["level"] == "WARNING" and entry["logger"] == "ops.check"
    env["LOG_FORMAT"] = "text"
    result = subprocess.run([sys.executable, "-c", check], env=env, cwd=settings.BASE_DIR, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and result.stderr.strip().splitlines()[-1] == "hello"
