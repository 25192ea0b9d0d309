"""Widgets in the admin (F-WIDGET-1): organisation admins set them up in four steps (tabs) with a live
preview, and copy the code that puts them on any web site."""

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views import snippets
from wagtail.snippets.views.chooser import SnippetChooserViewSet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from orgs.services import audit_record
from orgs.views.admin import OrganizationViewSetMixin, require_org_admin

from .admin_forms import WidgetAdminForm
from .models import BookingWidget, WalkInWidget


class EmbedCodePanel(HelpPanel):
    """After saving: the iframe and script to paste into any web site, each with a Copy button."""

    class BoundPanel(HelpPanel.BoundPanel):
        def render_html(self, parent_context=None):
            widget = self.instance
            if widget is None or widget.pk is None:
                return render_to_string("widgets/admin/embed_code_unsaved.html")
            iframe = render_to_string("widgets/includes/embed_iframe.html", {"widget": widget,
                                                                            "request": self.request})
            return render_to_string("widgets/admin/embed_code.html", {
                "widget": widget, "iframe": iframe.split("\n")[0], "script": iframe.split("\n")[1],
                "page_url": widget.get_embed_url(self.request),
            })


def wizard(model):
    booking = model is BookingWidget
    return TabbedInterface([
        ObjectList([
            EmbedCodePanel(heading=gettext_lazy("Put it on your web site")),
            FieldPanel("name"),
            FieldPanel("departments"),
            *([FieldPanel("days_ahead")] if booking else []),
            FieldPanel("rate"),  # hidden by the form while the organisation has payments off
        ], heading=gettext_lazy("1. Name and departments")),
        ObjectList([
            FieldPanel("title"),
            FieldPanel("text"),
            *([] if booking else [FieldPanel("absent_text")]),
            MultiFieldPanel([
                FieldPanel("title_colour"), FieldPanel("text_colour"), FieldPanel("background_colour"),
                FieldPanel("button_colour"), FieldPanel("button_text_colour"),
            ], heading=gettext_lazy("Colours"), help_text=gettext_lazy(
                "Keep enough contrast between text and background, and between the button and its text."
            )),
        ], heading=gettext_lazy("2. Texts and colours")),
        ObjectList([
            HelpPanel(content=gettext_lazy(
                "The name is always asked. For bookings the date of birth and email address are always asked too: "
                "the client is recognised by them and receives the link by email."
            ) if booking else gettext_lazy("The name is always asked.")),
            FieldPanel("ask_date_of_birth"), FieldPanel("ask_email"), FieldPanel("ask_phone"),
            FieldPanel("ask_client_number"),
            MultiFieldPanel([FieldPanel("ask_accept_terms"), FieldPanel("terms_text"), FieldPanel("terms_url")],
                            heading=gettext_lazy("Terms")),
        ], heading=gettext_lazy("3. Visitor details")),
        ObjectList([
            FieldPanel("logo"), FieldPanel("background_image"), FieldPanel("custom_css"),
        ], heading=gettext_lazy("4. Images and style")),
    ], base_form_class=WidgetAdminForm)


# --- views: organisation admins only; the scoped managers make another organisation's id a 404 ---------

def _org_admin_only(view):
    def wrapped(request, *args, **kwargs):
        require_org_admin(request)  # before the view: preview views load their object in setup()
        return view(request, *args, **kwargs)

    return wrapped


class OrgAdminUrls:
    def get_urlpatterns(self):
        patterns = super().get_urlpatterns()
        for pattern in patterns:
            pattern.callback = _org_admin_only(pattern.callback)
        return patterns


class AuditedSave:
    """Widgets are part of the organisation's set-up: each change goes into its audit log too."""

    audit_verb = None

    def save_instance(self):
        from orgs.services import changed_fields

        with transaction.atomic():
            instance = super().save_instance()
            audit_record(organization=self.request.organization, actor=self.request.user,
                         action=f"{self.model._meta.model_name}.{self.audit_verb}", target=instance,
                         changes=changed_fields(self.form) if self.audit_verb == "update" else None,
                         request=self.request)
        return instance


class WidgetCreateView(AuditedSave, snippets.CreateView):
    audit_verb = "create"

    def get_initial_form_instance(self):
        return self.model(organization=self.request.organization)


class WidgetEditView(AuditedSave, snippets.EditView):
    audit_verb = "update"


class WidgetDeleteView(snippets.DeleteView):
    def delete_action(self):
        with transaction.atomic():
            audit_record(organization=self.request.organization, actor=self.request.user,
                         action=f"{self.model._meta.model_name}.delete", target=self.object, request=self.request)
            super().delete_action()


class WidgetPreviewOnCreateView(snippets.PreviewOnCreateView):
    def get_object(self):
        return self.model(organization=self.request.organization)


class WidgetChooserViewSet(OrgAdminUrls, SnippetChooserViewSet):
    def get_urlpatterns(self):
        # No "create" from the chooser: widgets are made in the wizard, where they get their organisation.
        return [pattern for pattern in super().get_urlpatterns() if pattern.name != "create"]


class WidgetViewSet(OrganizationViewSetMixin, OrgAdminUrls, SnippetViewSet):
    add_view_class = WidgetCreateView
    edit_view_class = WidgetEditView
    delete_view_class = WidgetDeleteView
    preview_on_add_view_class = WidgetPreviewOnCreateView
    chooser_viewset_class = WidgetChooserViewSet
    copy_view_enabled = False
    inspect_view_enabled = False
    list_display = ["name", "title", "updated_at"]
    ordering = ["name"]


class WalkInWidgetViewSet(WidgetViewSet):
    model = WalkInWidget
    icon = "user"
    menu_label = gettext_lazy("Walk-in widgets")
    edit_handler = wizard(WalkInWidget)


class BookingWidgetViewSet(WidgetViewSet):
    model = BookingWidget
    icon = "date"
    menu_label = gettext_lazy("Booking widgets")
    edit_handler = wizard(BookingWidget)


class WidgetsGroup(SnippetViewSetGroup):
    menu_label = gettext_lazy("Widgets")
    menu_icon = "code"
    menu_order = 240
    items = (WalkInWidgetViewSet, BookingWidgetViewSet)
    submenu_hook = "register_widgets_menu_item"  # the chat widget's page joins the group (below)


register_snippet(WidgetsGroup)


# --- the public chat widget (F-CHAT-6): one per organisation, switched on in the settings; its page shows the
# embed code (chat/widget_admin.py) ---------------------------------------------------------------------

@hooks.register("register_admin_urls")
def register_chat_widget_urls():
    from chat.widget_admin import admin_urls

    return admin_urls()


@hooks.register("register_widgets_menu_item")
def register_chat_widget_item():
    from orgs.views.admin import OrganizationMenuItem

    return OrganizationMenuItem(gettext_lazy("Chat widget"), reverse("chat_widget_admin"), name="chat-widget",
                                icon_name="comment", order=30)
