"""A local stand-in for Stripe: the part of its API our provider code calls, and a hosted checkout page.

API (form-encoded requests as the stripe library sends them, JSON answers shaped like Stripe's):
  POST /v1/checkout/sessions               a session; its url is http://127.0.0.1:<port>/checkout/<id>
  GET  /v1/checkout/sessions/<id>
  POST /v1/checkout/sessions/<id>/expire
  POST /v1/refunds                         (payment_intent=…): succeeded at once
The hosted page /checkout/<id> shows the amount and three buttons:
  "Pay"           the session becomes complete/paid; a signed checkout.session.completed event is POSTed to
                  <success_url's origin>/pay/webhooks/stripe/ (after `webhook_delay` seconds, from a thread),
                  and the browser is sent (303) to success_url with {CHECKOUT_SESSION_ID} filled in;
  "Decline card"  the page says "Your card was declined" (the session stays open, as on Stripe's page);
  "Cancel"        the browser is sent to cancel_url.

Standard library only, so it runs without Django: in tests (`with StripeStandIn(webhook_secret=…) as stand_in:`,
then point settings.STRIPE_API_BASE at stand_in.url) and for a manual demo:

    python -m tests.payments.standin --port 8765 --webhook-secret whsec_… [--webhook-delay 3]
    STRIPE_API_BASE=http://127.0.0.1:8765 make run
"""

import argparse
import hashlib
import hmac
import html
import http.client
import json
import logging
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

SESSION_PATH = re.compile(r"^/v1/checkout/sessions/(?P<id>cs_test_\w+)(?P<expire>/expire)?$")
PAGE_PATH = re.compile(r"^/checkout/(?P<id>cs_test_\w+)(?:/(?P<action>pay|decline|cancel))?$")
WEBHOOK_PATH = "/pay/webhooks/stripe/"


def form_decode(body):
    """Stripe's form encoding (`a[b][0][c]=1`) as nested dicts and lists."""
    root = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_listify(node[key]) for key in sorted(node, key=int)]
    return {key: _listify(value) for key, value in node.items()}


def stripe_signature(payload, secret, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class StripeStandIn:
    def __init__(self, *, port=0, webhook_secret="", webhook_delay=0.0, send_webhooks=True):
        self.webhook_secret = webhook_secret
        self.webhook_delay = webhook_delay
        self.send_webhooks = send_webhooks
        self.sessions = {}
        self.refunds = []
        self.calls = []  # (method, path, decoded params): what our code asked, for tests
        self.webhooks_sent = []  # (url, event type, HTTP status or the error)
        self._idempotent = {}
        self._failures = []
        self._lock = threading.Lock()
        self._threads = []
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="stripe-stand-in", daemon=True)

    # --- running --------------------------------------------------------------------------------------

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.wait_webhooks()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait_webhooks(self, timeout=15):
        """Wait until every webhook started so far was delivered (or failed)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0, deadline - time.monotonic()))

    def fail_next(self, status=500, error_type="api_error", message="Something went wrong on the stand-in."):
        """The next API call answers with this Stripe error instead."""
        self._failures.append((status, {"error": {"type": error_type, "message": message}}))

    # --- the API -------------------------------------------------------------------------------------

    def api(self, method, path, params, headers):
        self.calls.append((method, path, params))
        if not (headers.get("Authorization") or "").startswith("Bearer sk_"):
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}
        if self._failures:
            return self._failures.pop(0)
        key = headers.get("Idempotency-Key")
        if method == "POST" and key and key in self._idempotent:
            return self._idempotent[key]
        answer = self._api(method, path, params)
        if method == "POST" and key and answer[0] == 200:
            self._idempotent[key] = answer
        return answer

    def _api(self, method, path, params):
        if method == "POST" and path == "/v1/checkout/sessions":
            refusal = self._expires_at_refusal(params.get("expires_at"))
            if refusal:
                return 400, {"error": {"type": "invalid_request_error", "param": "expires_at", "message": refusal}}
            return 200, self._session_create(params)
        if method == "POST" and path == "/v1/refunds":
            return self._refund_create(params)
        match = SESSION_PATH.match(path)
        session = self.sessions.get(match["id"]) if match else None
        if session is None:
            return 404, {"error": {"type": "invalid_request_error", "message": f"No such checkout.session: {path}",
                                   "code": "resource_missing"}}
        if method == "GET" and not match["expire"]:
            return 200, session
        if method == "POST" and match["expire"]:
            if session["status"] != "open":
                return 400, {"error": {"type": "invalid_request_error",
                                       "message": f"Only Checkout Sessions with a status in [\"open\"] can be "
                                                  f"expired. This session has a status of {session['status']}."}}
            session["status"] = "expired"
            self._send_event(session, "checkout.session.expired")
            return 200, session
        return 405, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL."}}

    @staticmethod
    def _expires_at_refusal(value):
        """Stripe's rule: expires_at 30 minutes to 24 hours after the session is created ("" when it keeps it)."""
        if value in (None, ""):
            return ""
        now = int(time.time())
        try:
            expires_at = int(value)
        except ValueError:
            return "Invalid integer: expires_at"
        if expires_at < now + 30 * 60:
            return "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
        if expires_at > now + 24 * 3600:
            return "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."
        return ""

    def _session_create(self, params):
        session_id = f"cs_test_{secrets.token_hex(16)}"
        items = params.get("line_items") or []
        total = sum(int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in items)
        currency = (items[0]["price_data"]["currency"] if items else "eur").lower()
        now = int(time.time())
        session = {
            "id": session_id, "object": "checkout.session", "livemode": False, "mode": params.get("mode", "payment"),
            "amount_subtotal": total, "amount_total": total, "currency": currency,
            "client_reference_id": params.get("client_reference_id"), "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata") or {}, "payment_intent": None, "payment_status": "unpaid",
            "status": "open", "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
            "created": now, "expires_at": int(params.get("expires_at") or now + 24 * 3600),
            "locale": params.get("locale"), "url": f"{self.url}/checkout/{session_id}",
            # Not part of Stripe's answer: what the hosted page shows.
            "_line_items": items,
        }
        self.sessions[session_id] = session
        return self._public(session)

    def _refund_create(self, params):
        intent = params.get("payment_intent")
        session = next((s for s in self.sessions.values() if intent and s["payment_intent"] == intent), None)
        if session is None:
            return 404, {"error": {"type": "invalid_request_error", "message": f"No such payment_intent: '{intent}'",
                                   "code": "resource_missing"}}
        refund = {"id": f"re_{secrets.token_hex(12)}", "object": "refund", "amount": session["amount_total"],
                  "currency": session["currency"], "payment_intent": intent, "status": "succeeded",
                  "metadata": params.get("metadata") or {}, "created": int(time.time())}
        self.refunds.append(refund)
        return 200, refund

    @staticmethod
    def _public(session):
        return {key: value for key, value in session.items() if not key.startswith("_")}

    # --- the hosted page ------------------------------------------------------------------------------

    def page(self, session_id, action):
        """(status, headers, html body) for the hosted checkout page and its buttons."""
        session = self.sessions.get(session_id)
        if session is None:
            return 404, {}, _page("Not found", "<p>This checkout does not exist.</p>")
        if session["status"] != "open" and action != "cancel":
            return 410, {}, _page("Checkout closed", "<p>This checkout is no longer open.</p>")
        if action == "cancel":
            return 303, {"Location": session["cancel_url"]}, ""
        if action == "pay":
            with self._lock:
                session.update(status="complete", payment_status="paid",
                               payment_intent=f"pi_test_{secrets.token_hex(12)}")
            self._send_event(session, "checkout.session.completed")
            return 303, {"Location": session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)}, ""
        declined = action == "decline"
        return 200, {}, self._checkout_html(session, declined)

    def _checkout_html(self, session, declined):
        rows = "".join(
            f"<tr><th scope='row'>{html.escape(item['price_data'].get('product_data', {}).get('name', ''))}</th>"
            f"<td>{html.escape(_money(int(item['price_data']['unit_amount']) * int(item.get('quantity', 1)), session['currency']))}</td></tr>"  # noqa: E501
            for item in session["_line_items"])
        action = f"/checkout/{session['id']}"
        alert = "<p role='alert' class='declined'>Your card was declined.</p>" if declined else ""
        body = (
            f"<h1>Pay {html.escape(_money(session['amount_total'], session['currency']))}</h1>{alert}"
            f"<table>{rows}</table>"
            f"<p>Test card 4242 4242 4242 4242 (stand-in: nothing is charged).</p>"
            f"<form method='post' action='{action}/pay'><button type='submit'>Pay</button></form>"
            f"<form method='post' action='{action}/decline'><button type='submit'>Decline card</button></form>"
            f"<form method='post' action='{action}/cancel'><button type='submit'>Cancel</button></form>"
        )
        return _page("Stripe stand-in checkout", body)

    # --- webhooks -------------------------------------------------------------------------------------

    def _send_event(self, session, event_type):
        if not (self.send_webhooks and self.webhook_secret and session.get("success_url")):
            return
        event = {"id": f"evt_{secrets.token_hex(12)}", "object": "event", "api_version": "2025-03-31.basil",
                 "created": int(time.time()), "livemode": False, "type": event_type,
                 "data": {"object": self._public(session)}}
        origin = urlsplit(session["success_url"])
        # Never from the thread of the API call: the application that asked may be the one that must answer it.
        thread = threading.Thread(target=self._deliver, args=(origin, event), name="stand-in-webhook", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _deliver(self, origin, event):
        if self.webhook_delay:
            time.sleep(self.webhook_delay)
        payload = json.dumps(event)
        # *.localhost is this machine (as browsers resolve it); the Host header still names the organisation.
        address = "127.0.0.1" if (origin.hostname or "").endswith("localhost") else origin.hostname
        port = origin.port or (443 if origin.scheme == "https" else 80)
        connection_class = http.client.HTTPSConnection if origin.scheme == "https" else http.client.HTTPConnection
        url = f"{origin.scheme}://{origin.netloc}{WEBHOOK_PATH}"
        try:
            connection = connection_class(address, port, timeout=15)
            connection.request("POST", WEBHOOK_PATH, body=payload.encode(), headers={
                "Host": origin.netloc, "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": stripe_signature(payload, self.webhook_secret), "User-Agent": "Stripe/1.0"})
            status = connection.getresponse().status
            connection.close()
        except OSError as error:
            status = repr(error)
        log.info("webhook %s → %s: %s", event["type"], url, status)
        self.webhooks_sent.append((url, event["type"], status))


def _money(minor, currency):
    return f"{currency.upper()} {minor // 100}.{minor % 100:02d}"


def _page(title, body):
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>body{{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}"
            f"button{{font:inherit;width:100%;padding:.7rem;margin:.3rem 0}}.declined{{color:#b42318}}"
            f"th{{text-align:left;font-weight:400}}td{{text-align:right}}table{{width:100%}}</style></head>"
            f"<body><main>{body}</main></body></html>")


def _handler_for(stand_in):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            log.debug("stand-in: " + format, *args)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length).decode() if length else ""

        def _answer(self, status, body, content_type, headers=None):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method):
            path, _, query = self.path.partition("?")
            body = self._body() if method == "POST" else query
            if path.startswith("/v1/"):
                status, answer = stand_in.api(method, path, form_decode(body), self.headers)
                headers = {"Request-Id": f"req_{secrets.token_hex(8)}"}
                return self._answer(status, json.dumps(answer), "application/json", headers)
            match = PAGE_PATH.match(path)
            if match and (method == "GET") == (match["action"] is None):
                status, headers, page = stand_in.page(match["id"], match["action"])
                return self._answer(status, page, "text/html; charset=utf-8", headers)
            return self._answer(404, _page("Not found", "<p>Not found.</p>"), "text/html; charset=utf-8")

        def do_GET(self):
            self._route("GET")

        def do_POST(self):
            self._route("POST")

        def do_DELETE(self):
            self._route("DELETE")

    return Handler


def main():
    parser = argparse.ArgumentParser(description="A local stand-in for Stripe's API and hosted checkout page.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--webhook-secret", required=True,
                        help="the organisation's Stripe webhook signing secret (whsec_…), as saved in its settings")
    parser.add_argument("--webhook-delay", type=float, default=0.0,
                        help="seconds before the webhook is sent (to see the 'confirming' page)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stand_in = StripeStandIn(port=args.port, webhook_secret=args.webhook_secret, webhook_delay=args.webhook_delay)
    print(f"Stripe stand-in on {stand_in.url}: run the site with STRIPE_API_BASE={stand_in.url}")  # noqa: T201
    try:
        stand_in.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
