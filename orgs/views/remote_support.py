"""Remote support screens (F-ORG-10); the rules and the session live in orgs/remote_support.py.

Platform host, Wagtail admin: `RemoteSupportStartView` (Organisations → Remote support).
Organisation host: /support/enter/<token>/ (the handoff), /support/end/ (POST, the banner's button) and
/support/ended/ (says why a session ended).
"""

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.generic import FormView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import policy, remote_support
from ..forms import add_service_errors
from ..models import Organization, public_url_for_host


def platform_admin_url():
    return f"{public_url_for_host(settings.BASE_DOMAIN)}/admin/"


class EmployeeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.user.get_full_name() or obj.user.email
        return f"{name} <{obj.user.email}> — {obj.get_role_display()}"


class RemoteSupportStartForm(forms.Form):
    employee = EmployeeChoiceField(label=gettext_lazy("Act as"), queryset=None,
                                   empty_label=gettext_lazy("Choose an employee"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=gettext_lazy("Recorded in the organisation's audit log."))
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"), max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employee"].queryset = remote_support.supportable_employees(organization)


class RemoteSupportStartView(WagtailAdminTemplateMixin, FormView):
    """Platform staff only, on the platform host; an organisation that does not allow support is a 404."""

    template_name = "orgs/remote_support/start.html"
    form_class = RemoteSupportStartForm
    page_title = gettext_lazy("Remote support")
    header_icon = "help"

    def dispatch(self, request, *args, pk, **kwargs):
        if request.organization is not None or not request.user.is_superuser:
            raise Http404
        self.organization = Organization.objects.filter(pk=pk).first()
        if not remote_support.may_support(self.organization):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.organization.name

    def get_breadcrumbs_items(self):
        from django.urls import reverse

        return [{"url": reverse("organisations:index"), "label": _("Organisations")},
                {"url": reverse("organisations:edit", args=[self.organization.pk]), "label": self.organization.name},
                {"url": "", "label": _("Remote support")}]

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "organization": self.organization}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "organization": self.organization,
                "has_totp": remote_support.staff_totp(self.request.user) is not None,
                "minutes": remote_support.duration_minutes()}

    def form_valid(self, form):
        try:
            url = remote_support.remote_support_start(
                staff=self.request.user, organization=self.organization, employee=form.cleaned_data["employee"],
                reason=form.cleaned_data["reason"], code=form.cleaned_data["code"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        return redirect(url)


@never_cache
def enter(request, token):
    if request.organization is None:
        raise Http404
    try:
        member = remote_support.remote_support_enter(request=request, token=token)
    except PermissionDenied:
        return render(request, "orgs/remote_support/ended.html",
                      {"refused": True, "platform_admin_url": platform_admin_url()}, status=403)
    return redirect("/admin/" if policy.can_use_admin(member) else "portal:home")


@never_cache
def end(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if request.organization is None or not request.session.get(remote_support.SESSION_KEY):
        raise Http404
    remote_support.remote_support_end(request=request, why=remote_support.END_REASONS["ended"]())
    return redirect("/support/ended/?why=ended")


@never_cache
def ended(request):
    if request.organization is None:
        raise Http404
    why = request.GET.get("why", "")
    reason = remote_support.END_REASONS[why]() if why in remote_support.END_REASONS else ""
    return render(request, "orgs/remote_support/ended.html",
                  {"reason": reason, "why": why, "platform_admin_url": platform_admin_url()})
