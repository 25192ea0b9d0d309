"""Security headers: Content-Security-Policy with a per-request nonce, Permissions-Policy, Cross-Origin-Opener-Policy.

Why our own middleware and not django-csp: each response shapes its policy (widgets' frame-ancestors per
organisation, the waiting room's frame-src/media-src origins, the room's wasm, camera only on room pages) and
the Wagtail admin needs its own policy; that is a few attributes here rather than decorators and overrides there.

Our own pages allow scripts only from our origin or carrying the nonce; nothing may frame them.
The Wagtail admin gets the framing and plugin rules (its own scripts are not nonce-aware).
Widget pages (widgets/framing.py) relax frame-ancestors for themselves.
Camera, microphone and screen sharing are off everywhere except the pages that set `response.media_devices`
(the consultation room, the waiting room's device check, the camera check). nosniff, Referrer-Policy and HSTS
come from Django's SecurityMiddleware (config/settings/base.py, production.py).
"""

import re
import secrets

WASM = "'wasm-unsafe-eval'"

# An origin a view may add to frame-src / media-src (scheme://host[:port]); nothing that could end the directive.
ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


# Powerful features nobody's page needs; the room pages get the camera, microphone and screen sharing for themselves.
_NEVER = "geolocation=(), payment=(), usb=(), serial=(), hid=(), midi=()"
NO_PERMISSIONS = f"camera=(), microphone=(), display-capture=(), {_NEVER}"
ROOM_PERMISSIONS = f"camera=(self), microphone=(self), display-capture=(self), {_NEVER}"


def _extra_origins(response, attribute):
    return "".join(f" {origin}" for origin in getattr(response, attribute, ()) if ORIGIN.match(origin))


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        # Wagtail's live preview frames its preview views in the admin and marks them SAMEORIGIN; CSP wins
        # over X-Frame-Options in browsers, so the policy must say the same.
        same_origin_frame = response.get("X-Frame-Options") == "SAMEORIGIN"
        if "Content-Security-Policy" in response:
            # Set by an inner pass: a preview rendered through the whole stack (make_preview_request).
            if same_origin_frame:
                response["Content-Security-Policy"] = response["Content-Security-Policy"].replace(
                    "frame-ancestors 'none'", "frame-ancestors 'self'"
                )
            self.other_headers(response)
            return response
        frame_ancestors = getattr(response, "csp_frame_ancestors", "'none'")
        if frame_ancestors == "'none'" and same_origin_frame:
            frame_ancestors = "'self'"
        wasm = f" {WASM}" if getattr(response, "csp_wasm", False) else ""
        if request.path.startswith(("/admin/", "/django-admin/")):
            policy = f"frame-ancestors {frame_ancestors}; object-src 'none'; base-uri 'self'"
        else:
            policy = (
                "default-src 'self'; "
                # The consultation room compiles WebAssembly (background blur); that allows no JavaScript eval.
                f"script-src 'self' 'nonce-{request.csp_nonce}'{wasm}; "
                "style-src 'self' 'unsafe-inline'; "
                # The waiting room frames and plays the organisation's own explainer video and "more
                # information" page: its view names those origins (response.csp_frame_src / csp_media_src).
                f"img-src 'self' data: blob:; media-src 'self' blob:{_extra_origins(response, 'csp_media_src')}; "
                f"frame-src 'self'{_extra_origins(response, 'csp_frame_src')}; font-src 'self'; "
                "connect-src 'self' ws: wss:; "
                f"frame-ancestors {frame_ancestors}; "
                "object-src 'none'; base-uri 'self'; "
                # The pay page's form ends on the payment provider's page (response.csp_form_action).
                f"form-action 'self'{_extra_origins(response, 'csp_form_action')}"
            )
        response["Content-Security-Policy"] = policy
        self.other_headers(response)
        return response

    @staticmethod
    def other_headers(response):
        framed_elsewhere = getattr(response, "csp_frame_ancestors", "'none'") != "'none'"
        if getattr(response, "media_devices", False) and not framed_elsewhere:
            response.setdefault("Permissions-Policy", ROOM_PERMISSIONS)
        else:
            response.setdefault("Permissions-Policy", NO_PERMISSIONS)
        if not framed_elsewhere:
            # Our pages keep their window to themselves; a widget inside another site's page leaves that to it.
            response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
