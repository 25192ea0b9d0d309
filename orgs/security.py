"""Content-Security-Policy with a per-request nonce.

Our own pages allow scripts only from our origin or carrying the nonce; nothing may frame them.
The Wagtail admin gets the framing and plugin rules (its own scripts are not nonce-aware).
Widget pages (a later issue) relax frame-ancestors for themselves.
"""

import secrets


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        frame_ancestors = getattr(response, "csp_frame_ancestors", "'none'")
        if request.path.startswith(("/admin/", "/django-admin/")):
            policy = f"frame-ancestors {frame_ancestors}; object-src 'none'; base-uri 'self'"
        else:
            policy = (
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{request.csp_nonce}'; "
                "style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; "
                "connect-src 'self' ws: wss:; "
                f"frame-ancestors {frame_ancestors}; "
                "object-src 'none'; base-uri 'self'; form-action 'self'"
            )
        response["Content-Security-Policy"] = policy
        return response
