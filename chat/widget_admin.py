"""The chat widget in the organisation admin (Widgets → Chat widget): whether it is on, and the code that puts it
on any web site, as the walk-in and booking widgets show theirs (widgets/wagtail_hooks.py EmbedCodePanel)."""

from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from orgs.models import origin_lines
from orgs.views.admin import OrgAdminOnly

from . import widget_access


class ChatWidgetAdminView(OrgAdminOnly, WagtailAdminTemplateMixin, TemplateView):
    template_name = "chat/widget/admin_embed.html"
    page_title = gettext_lazy("Chat widget")
    header_icon = "comment"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = self.request.organization
        code = render_to_string("chat/widget/embed_iframe.html", {"organization": organization},
                                request=self.request).strip().split("\n")
        context.update({
            "organization": organization, "iframe": code[0], "script": code[1],
            "page_url": widget_access.chat_widget_url(organization, self.request),
            "allowed_origins": origin_lines(organization.widget_allowed_origins),
        })
        return context


def admin_urls():
    return [path("widgets/chat/", ChatWidgetAdminView.as_view(), name="chat_widget_admin")]
