"""Widgets in the admin (F-WIDGET-1): organisation admins set them up in four steps (tabs) with a live
preview, and copy the code that puts them on any web site."""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views import snippets
from wagtail.snippets.views.chooser import SnippetChooserViewSet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

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


class WidgetCreateView(snippets.CreateView):
    def get_initial_form_instance(self):
        return self.model(organization=self.request.organization)


class WidgetPreviewOnCreateView(snippets.PreviewOnCreateView):
    def get_object(self):
        return self.model(organization=self.request.organization)


class WidgetChooserViewSet(OrgAdminUrls, SnippetChooserViewSet):
    def get_urlpatterns(self):
        # No "create" from the chooser: widgets are made in the wizard, where they get their organisation.
        return [pattern for pattern in super().get_urlpatterns() if pattern.name != "create"]


class WidgetViewSet(OrganizationViewSetMixin, OrgAdminUrls, SnippetViewSet):
    add_view_class = WidgetCreateView
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


register_snippet(WidgetsGroup)
