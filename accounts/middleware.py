"""Two-factor gate: where the organisation requires it, the portal and admin wait until it is set up.

After OrganizationAccessMiddleware (it attaches `request.membership`). The rule is orgs.policy's
`must_set_up_two_factor`; this only decides what a refused request gets back:
- a page: a redirect to the two-factor page, with a message saying why;
- an htmx request: an HX-Redirect there (htmx would otherwise swap the page into a fragment);
- a JSON (fetch) request: 403 with the address in JSON.
Everything outside /portal/ and /admin/ (the MFA pages under /accounts/2fa/, sign-out, re-authentication,
the language switch, the public site) is untouched. The staff WebSockets ask the same policy function.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from orgs import policy

GATED_PREFIXES = ("/portal/", "/admin/")
# Adding an authenticator where the organisation does not offer two-factor authentication.
ADD_PATHS = ("/accounts/2fa/totp/activate/", "/accounts/2fa/webauthn/add/")


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        member = getattr(request, "membership", None)
        if member is not None and request.user.is_authenticated:
            if request.path.startswith(GATED_PREFIXES) and policy.must_set_up_two_factor(member):
                return self.refuse(request)
            if request.path.startswith(ADD_PATHS) and not policy.can_add_two_factor(member):
                raise Http404
            if request.path.startswith("/accounts/2fa/"):
                # The two-factor pages leave out links into the portal that would only come back here.
                request.must_set_up_two_factor = policy.must_set_up_two_factor(member)
        return self.get_response(request)

    def refuse(self, request):
        url = reverse("mfa_index")
        message = _("%(organization)s requires two-factor authentication. Set it up to continue.") % {
            "organization": request.organization.name}
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        accept = request.headers.get("Accept", "")
        if "application/json" in accept and "text/html" not in accept:
            return JsonResponse({"error": message, "redirect": url}, status=403)
        messages.warning(request, message)
        return redirect(url)
