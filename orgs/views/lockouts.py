"""Sign-in lockouts (issue #7, F-AUTH-5): the org admin sees who is locked out right now and can lift a lock.

Current lockouts come from the audit log ("signin.locked" rows whose lock has not ended and was not lifted);
"Unlock" clears the counters in the cache and is audited ("signin.unlocked"). accounts/signin_throttle.py
decides everything; this is the screen.
"""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from accounts import signin_throttle

from .admin import OrgAdminOnly

PATH_LABELS = {
    "password": gettext_lazy("Password"),
    "mfa": gettext_lazy("Two-factor code"),
    "pin": gettext_lazy("Patient portal PIN"),
    "api_key": gettext_lazy("API key"),
    "sso": gettext_lazy("Single sign-on"),
}


class LockoutsView(OrgAdminOnly, WagtailAdminTemplateMixin, TemplateView):
    template_name = "orgs/admin/lockouts.html"
    page_title = gettext_lazy("Sign-in lockouts")
    header_icon = "lock"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["lockouts"] = [{**lock, "path_label": PATH_LABELS.get(lock["path"], lock["path"])}
                               for lock in signin_throttle.current_lockouts(self.request.organization)]
        context["audit_url"] = reverse("audit:index") + "?action=signin."
        return context

    def post(self, request):
        try:
            event_id = int(request.POST.get("event", ""))
        except ValueError:
            event_id = None
        lock = None
        if event_id is not None:
            lock = signin_throttle.unlock(organization=request.organization, actor=request.user, event_id=event_id,
                                          request=request)
        if lock is None:
            messages.error(request, _("That lockout has already ended."))
        else:
            messages.success(request, _("Sign-in unlocked for %(who)s.") % {"who": lock["who"]})
        return redirect("org_lockouts")
