"""Admin screens of the web pages beyond Wagtail's own: making a page set the live one."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from orgs import policy

from . import services
from .models import MainPage


class MakeLiveView(WagtailAdminTemplateMixin, View):
    """GET asks for confirmation, POST makes the page set live. The page id was checked against the
    organisation's tree by AdminTenantGuardMiddleware; another organisation's id is a 404."""

    template_name = "cms/admin/make_live.html"
    page_title = gettext_lazy("Make this the live web page")
    header_icon = "globe"

    def dispatch(self, request, page_id):
        if request.organization is None or not policy.can_manage_organization(request.membership):
            raise Http404
        self.main_page = get_object_or_404(MainPage, pk=page_id)
        return super().dispatch(request, page_id)

    def get_page_subtitle(self):
        return self.main_page.get_admin_display_title()

    def get(self, request, page_id):
        return self.render_to_response(self.get_context_data(
            main_page=self.main_page, current=request.organization.root_page.specific.published_set,
            explorer_url=self.explorer_url(),
        ))

    def post(self, request, page_id):
        try:
            services.page_set_make_live(
                organization=request.organization, actor=request.user, main_page=self.main_page, request=request,
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("“%(title)s” is now the web page visitors see.") % {
                "title": self.main_page.title})
        return redirect(self.explorer_url())

    def explorer_url(self):
        from django.urls import reverse

        return reverse("wagtailadmin_explore", args=[self.main_page.get_parent().pk])
