"""A small, real OpenID Connect provider for tests and local trials (F-AUTH-4).

A threaded HTTP server on 127.0.0.1 with discovery, JWKS (an RSA key made per run), /authorize (approves
at once, as the configured user), /token (checks the client secret, code, redirect URI and PKCE verifier; returns an
RS256-signed ID token made with PyJWT) and /userinfo. Nothing is mocked: allauth talks HTTP to it.

In tests:
    with OidcTestProvider(client_id="c", client_secret="s", redirect_uris=[...]) as idp:
        idp.user = {"sub": "123", "email": "a@example.com", "email_verified": True}

For `make run`:  python -m tests.oidc_provider --port 9000 --redirect-uri http://<org>.localhost:8000/accounts/oidc/<id>/login/callback/
then add a provider with issuer http://127.0.0.1:9000, client id "openconsult", client secret "secret".
"""

import argparse
import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class OidcTestProvider:
    def __init__(self, *, client_id="openconsult", client_secret="secret", redirect_uris=None, port=0,
                 user=None, wrong_key=False):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris or [])  # empty: any redirect URI is accepted (standalone use)
        self.user = user or {"sub": "1001", "email": "sso.user@example.com", "email_verified": True,
                             "name": "Sam Single"}
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        # wrong_key: ID tokens are signed with a key other than the published one (a forged token).
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if wrong_key else self.key
        # Claims the userinfo endpoint answers differently from the ID token (e.g. another "sub"), for tests.
        self.userinfo_overrides = {}
        # Discovery entries replaced, for tests (e.g. a JWKS address on another host).
        self.discovery_overrides = {}
        self.codes = {}
        self.access_tokens = {}
        self.requests = []  # (method, path) of every request, for tests
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = None

    @property
    def issuer(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- protocol ---

    def discovery(self):
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": ["openid", "email", "profile"],
            **self.discovery_overrides,
        }

    def jwks(self):
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def authorize(self, query):
        if query.get("client_id") != self.client_id:
            return 400, {"error": "unauthorized_client"}, None
        redirect_uri = query.get("redirect_uri", "")
        if self.redirect_uris and redirect_uri not in self.redirect_uris:
            return 400, {"error": "invalid_request", "error_description": "redirect_uri mismatch"}, None
        if query.get("response_type") != "code":
            return 400, {"error": "unsupported_response_type"}, None
        code = secrets.token_urlsafe(16)
        if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            return 400, {"error": "invalid_request", "error_description": "only S256 PKCE"}, None
        self.codes[code] = {"redirect_uri": redirect_uri, "nonce": query.get("nonce"), "user": dict(self.user),
                            "code_challenge": query.get("code_challenge")}
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return 302, None, f"{redirect_uri}{separator}{urlencode(params)}"

    def token(self, form, authorization):
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _sep, client_secret = decoded.partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return 400, {"error": "invalid_grant"}
        if grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
        if grant["code_challenge"]:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verifier mismatch"}
        now = int(time.time())
        claims = {**grant["user"], "iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                  "jti": secrets.token_hex(8)}
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        id_token = jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": self.kid})
        access_token = secrets.token_urlsafe(24)
        self.access_tokens[access_token] = {**grant["user"], **self.userinfo_overrides}
        return 200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}

    def userinfo(self, authorization):
        user = self.access_tokens.get(authorization.removeprefix("Bearer ").strip())
        if user is None:
            return 401, {"error": "invalid_token"}
        return 200, user

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body=None, location=None):
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                payload = json.dumps(body).encode() if body is not None else b""
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                provider.requests.append(("GET", parts.path))
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/.well-known/openid-configuration":
                    return self._send(200, provider.discovery())
                if parts.path == "/jwks":
                    return self._send(200, provider.jwks())
                if parts.path == "/authorize":
                    status, body, location = provider.authorize(query)
                    return self._send(status, body, location)
                if parts.path == "/userinfo":
                    return self._send(*provider.userinfo(self.headers.get("Authorization", "")))
                return self._send(404, {"error": "not_found"})

            def do_POST(self):  # noqa: N802
                parts = urlsplit(self.path)
                provider.requests.append(("POST", parts.path))
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if parts.path == "/token":
                    return self._send(*provider.token(form, self.headers.get("Authorization", "")))
                return self._send(404, {"error": "not_found"})

        return Handler


def main():
    parser = argparse.ArgumentParser(description="A local OpenID Connect provider for trying single sign-on.")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--client-id", default="openconsult")
    parser.add_argument("--client-secret", default="secret")
    parser.add_argument("--redirect-uri", action="append", default=[], help="allowed redirect URI (repeatable)")
    parser.add_argument("--sub", default="1001")
    parser.add_argument("--email", default="sso.user@example.com")
    parser.add_argument("--name", default="Sam Single")
    parser.add_argument("--hd", default="")
    args = parser.parse_args()
    user = {"sub": args.sub, "email": args.email, "email_verified": True, "name": args.name}
    if args.hd:
        user["hd"] = args.hd
    provider = OidcTestProvider(client_id=args.client_id, client_secret=args.client_secret,
                                redirect_uris=args.redirect_uri, port=args.port, user=user)
    print(f"OpenID Connect test provider: issuer {provider.issuer}, client id {args.client_id!r}, "
          f"client secret {args.client_secret!r}, signs in as {args.email} (sub {args.sub}).")
    try:
        provider.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
