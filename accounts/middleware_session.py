"""Session middleware of the sign-in security work (issue #7): inactivity expiry and the SSO request limit.

IdleSessionMiddleware: staff signed in on an organisation's host are signed out after the organisation's
`session_idle_minutes` without a request. The last request's time is kept in the session itself, so a cookie
that outlives its age (a copied cookie, a clock-skewed browser) does not extend it; the cookie's and the stored
session's expiry follow too (set_expiry on every request; SESSION_SAVE_EVERY_REQUEST re-sends the cookie).
The next page says why they must sign in again.

SsoThrottleMiddleware: OpenID Connect login and callback requests (/accounts/oidc/...) per address, through
accounts/signin_throttle.py ("sso"): a loop or a bot hitting the provider redirects is refused for a while.
"""

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import ngettext

from . import signin_throttle

LAST_SEEN = "_last_seen"
# The stored session (and its cookie) outlive the idle time by this much, so someone who comes back a little
# later is told why they must sign in again; this middleware, not the cookie, ends the session on time.
NOTICE_GRACE_SECONDS = 60 * 60


class IdleSessionMiddleware:
    """Must come after SessionMiddleware, AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organization = getattr(request, "organization", None)
        user = getattr(request, "user", None)
        minutes = getattr(organization, "session_idle_minutes", None)
        if organization is None or not minutes or user is None or not user.is_authenticated:
            return self.get_response(request)
        now = time.time()
        last_seen = request.session.get(LAST_SEEN)
        if isinstance(last_seen, (int, float)) and now - last_seen > minutes * 60:
            logout(request)  # a new, empty session
            messages.info(request, ngettext(
                "You were signed out after %(minutes)s minute of inactivity. Please sign in again.",
                "You were signed out after %(minutes)s minutes of inactivity. Please sign in again.",
                minutes,
            ) % {"minutes": minutes})
            login = reverse("account_login")
            if request.headers.get("HX-Request"):  # a fragment: htmx sends the whole page to the sign-in
                response = HttpResponse(status=204)
                response["HX-Redirect"] = login
                return response
            if request.method == "GET":
                login += "?" + urlencode({"next": request.get_full_path()})
            return redirect(login)
        request.session[LAST_SEEN] = now
        request.session.set_expiry(minutes * 60 + NOTICE_GRACE_SECONDS)
        return self.get_response(request)


SSO_PREFIX = "/accounts/oidc/"


class SsoThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(SSO_PREFIX):
            until = signin_throttle.hit(path="sso", request=request,
                                        organization=getattr(request, "organization", None))
            if until is not None:
                return render(request, "accounts/signin_locked.html",
                              {"message": signin_throttle.message(until)}, status=429)
        return self.get_response(request)
