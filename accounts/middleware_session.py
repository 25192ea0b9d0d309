"""Session middleware of the sign-in security work (issue #7): inactivity expiry and the SSO request limit.

IdleSessionMiddleware: staff signed in on an organisation's host are signed out after the organisation's
`session_idle_minutes` without a request (platform staff on the platform host after PLATFORM_SESSION_IDLE_MINUTES).
The last request's time is kept in the session itself, so a cookie that outlives its age (a copied cookie, a
clock-skewed browser) does not extend it. The cookie itself stays a browser-session cookie (closing the browser of a
shared practice computer still signs out); the stored session lives SESSION_COOKIE_AGE, the longest idle time an
organisation may choose plus an hour, so the next page can say why they must sign in again.

SsoThrottleMiddleware: OpenID Connect login and callback requests (/accounts/oidc/...) per address, through
accounts/signin_throttle.py ("sso"): a loop or a bot hitting the provider redirects is refused for a while.
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import ngettext

from . import signin_throttle

LAST_SEEN = "_last_seen"


class IdleSessionMiddleware:
    """Must come after SessionMiddleware, AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organization = getattr(request, "organization", None)
        user = getattr(request, "user", None)
        if organization is not None:
            minutes = organization.session_idle_minutes
        else:
            minutes = settings.PLATFORM_SESSION_IDLE_MINUTES
        if not minutes or user is None or not user.is_authenticated:
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
