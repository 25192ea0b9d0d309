"""API keys in the organisation admin (F-ORG-4): list, create, rotate, revoke.

A new or rotated key is rendered straight into the POST's response, once: it is never stored, put in the
session or a message, and a reload shows no key. Another organisation's key id is a 404 (scoped manager).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from wagtail.admin import messages

from .. import api_keys, policy
from ..models import ApiKey


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("What the key is for, e.g. “Agenda sync with our EHR”."))


class ApiKeyAdminOnly:
    def dispatch(self, request, *args, **kwargs):
        if request.organization is None or not policy.can_manage_api_keys(request.membership):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def _page(request, template, title, **context):
    return render(request, f"orgs/api_keys/{template}", {"page_title": title, "header_icon": "key", **context})


class ApiKeyIndexView(ApiKeyAdminOnly, View):
    def get(self, request):
        # A rotated key is listed as replaced (by which key), not as revoked: the admin did not withdraw access.
        successors = ApiKey.objects.filter(rotated_from=OuterRef("pk")).values("prefix")[:1]
        keys = (ApiKey.objects.select_related("created_by").annotate(replaced_by=Subquery(successors))
                .order_by("revoked_at", "-created_at", "-id"))
        return _page(request, "index.html", _("API keys"), keys=keys)


class ApiKeyCreateView(ApiKeyAdminOnly, View):
    def get(self, request):
        return _page(request, "create.html", _("New API key"), form=ApiKeyForm())

    def post(self, request):
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                api_key, plain = api_keys.api_key_create(member=request.membership, name=form.cleaned_data["name"],
                                                         request=request)
            except ValidationError as error:
                form.add_error("name", error.message_dict.get("name", error.messages))
            else:
                return _shown_once(request, api_key, plain)
        return _page(request, "create.html", _("New API key"), form=form)


def _shown_once(request, api_key, plain):
    response = _page(request, "created.html", _("Your new API key"), api_key=api_key, plain_key=plain)
    response["Cache-Control"] = "no-store"  # the key must not stay in a cache or the back button
    return response


def _active_key_or_404(pk):
    # The scoped manager keeps it to the host's organisation; a revoked key has nothing left to rotate or revoke.
    return get_object_or_404(ApiKey, pk=pk, revoked_at__isnull=True)


class ApiKeyRotateView(ApiKeyAdminOnly, View):
    def get(self, request, pk):
        api_key = _active_key_or_404(pk)
        return _page(request, "confirm.html", _("Rotate API key"), api_key=api_key, action="rotate")

    def post(self, request, pk):
        api_key = _active_key_or_404(pk)
        new_key, plain = api_keys.api_key_rotate(member=request.membership, api_key=api_key, request=request)
        return _shown_once(request, new_key, plain)


class ApiKeyRevokeView(ApiKeyAdminOnly, View):
    def get(self, request, pk):
        api_key = _active_key_or_404(pk)
        return _page(request, "confirm.html", _("Revoke API key"), api_key=api_key, action="revoke")

    def post(self, request, pk):
        api_key = _active_key_or_404(pk)
        api_keys.api_key_revoke(member=request.membership, api_key=api_key, request=request)
        messages.success(request, _("The key “%(name)s” is revoked; calls with it are refused from now on.")
                         % {"name": api_key})
        return redirect("api_keys")


def admin_urls():
    return [
        path("api-keys/", ApiKeyIndexView.as_view(), name="api_keys"),
        path("api-keys/new/", ApiKeyCreateView.as_view(), name="api_key_create"),
        path("api-keys/<int:pk>/rotate/", ApiKeyRotateView.as_view(), name="api_key_rotate"),
        path("api-keys/<int:pk>/revoke/", ApiKeyRevokeView.as_view(), name="api_key_revoke"),
    ]
