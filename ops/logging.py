"""Structured logs for production: one JSON object per line, with the request a line was logged in.

`JsonFormatter` writes time (ISO 8601, UTC), level, logger, message, the exception's traceback, and — inside a
request — method, path, status, organisation (subdomain) and request id. `RequestContextMiddleware` provides
that context to every line logged while Django handles the request and logs one line per request when it is
answered (uvicorn's own access log runs with --no-access-log: it has the visitor's address and query string).

No personal data: no query strings (search terms, emails in links), no addresses, no user ids or emails; the
captured parts of the path that are credentials (appointment link tokens, portal keys, payment references) are
replaced by their name, so a log reader cannot open someone's consult.
"""

import contextvars
import datetime
import json
import logging
import re
import time
import uuid

_request_context = contextvars.ContextVar("openconsult_request_context", default=None)

# URL keyword arguments that carry a credential or a guessable-only-by-its-owner reference, in any app's urls.py.
SECRET_URL_KWARGS = frozenset({"token", "credential", "key", "reference", "secret", "code", "uidb36", "uidb64",
                               "upload_uuid"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

access_logger = logging.getLogger("ops.request")


class JsonFormatter(logging.Formatter):
    """logging.Formatter writing one JSON object per record (stdlib json; for journald, Loki, CloudWatch …)."""

    def format(self, record):
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": _message_of(record),
        }
        entry.update(_context_of(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _message_of(record):
    message = record.getMessage()
    request = getattr(record, "request", None)
    if request is not None and hasattr(request, "path"):
        # django.request's "Not Found: /c/<token>/": the path as safe_path gives it.
        message = message.replace(request.path, safe_path(request))
    return message


def _context_of(record):
    context = dict(_request_context.get() or {})
    # django.request and django.server pass the request and status with their records.
    request = getattr(record, "request", None)
    if request is not None and hasattr(request, "method"):
        context.setdefault("method", request.method)
        context.setdefault("path", safe_path(request))
        organization = getattr(request, "organization", None)
        if organization is not None:
            context.setdefault("organization", organization.subdomain)
    status = getattr(record, "status_code", None)
    if isinstance(status, int):
        context["status"] = status
    if isinstance(getattr(record, "duration_ms", None), (int, float)):
        context["duration_ms"] = record.duration_ms
    return {key: value for key, value in context.items() if value is not None}


def safe_path(request):
    """The path without its query string, with the credential parts of the URL replaced by <name>."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    if match is None:
        return path
    for name, value in match.kwargs.items():
        if name in SECRET_URL_KWARGS and value is not None and str(value):
            path = path.replace(str(value), f"<{name}>")
    return path


def request_id_of(request):
    """The proxy's X-Request-ID when it looks like one (nginx: $request_id), so proxy and app lines match;
    a fresh one otherwise."""
    given = request.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


class RequestContextMiddleware:
    """Puts method, path, organisation and request id on every log line of the request, answers with the
    X-Request-ID header, and logs one line per request (status and duration). After OrganizationHostMiddleware,
    which knows the organisation."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        request.request_id = request_id_of(request)
        organization = getattr(request, "organization", None)
        token = _request_context.set({
            "request_id": request.request_id,
            "method": request.method,
            # Until the URL is resolved the path may still hold a credential: left out of the lines before that.
            "path": None,
            "organization": organization.subdomain if organization is not None else None,
        })
        try:
            response = self.get_response(request)
            _update(path=safe_path(request) if getattr(request, "resolver_match", None) else None)
            response.headers.setdefault("X-Request-ID", request.request_id)
            level = logging.ERROR if response.status_code >= 500 else logging.INFO
            access_logger.log(level, "%s %s %s", request.method, _current("path") or "-", response.status_code,
                              extra={"status_code": response.status_code,
                                     "duration_ms": round((time.monotonic() - started) * 1000, 1)})
            return response
        finally:
            _request_context.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        _update(path=safe_path(request))


def _update(**values):
    context = _request_context.get()
    if context is not None:
        context.update(values)


def _current(name):
    return (_request_context.get() or {}).get(name)
