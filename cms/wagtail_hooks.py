from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from wagtail import hooks
from wagtail.admin.views.pages.listing import ExplorableIndexView
from wagtail.admin.viewsets.pages import PageViewSet
from wagtail.admin.widgets.button import Button
from wagtail.models import Locale, Page

from .admin_views import MakeLiveView
from .models import MAX_FOLLOW_UP_PAGES, FollowUpPage, MainPage, OrganizationHomePage
from .rich_text import OrganizationPageLinkHandler


@hooks.register("register_rich_text_features", order=100)  # after Wagtail's own page link handler
def organization_page_links(features):
    features.register_link_type(OrganizationPageLinkHandler)


@hooks.register("register_admin_urls")
def web_page_admin_urls():
    return [path("web-pages/<int:page_id>/make-live/", MakeLiveView.as_view(), name="cms_make_live")]


# --- at most three follow-up pages per web page ---------------------------------------------------

def follow_up_limit_reached(request, main_page):
    messages.error(request, _(
        "A web page has at most %(max)d follow-up pages, and “%(title)s” has them already. "
        "Delete or change one of them, or make a new web page."
    ) % {"max": MAX_FOLLOW_UP_PAGES, "title": main_page.title})
    return redirect("wagtailadmin_explore", main_page.pk)


@hooks.register("before_create_page")
def refuse_fourth_follow_up_page(request, parent_page, page_class):
    # Runs for the "add" form and for its address typed directly, on GET and POST alike.
    if page_class is FollowUpPage and not FollowUpPage.has_room_under(parent_page):
        return follow_up_limit_reached(request, parent_page)
    return None


@hooks.register("before_copy_page")
def refuse_copy_beyond_the_limit(request, page):
    destination_id = request.POST.get("new_parent_page")
    if request.method != "POST" or page.specific_class is not FollowUpPage or not destination_id:
        return None
    destination = Page.objects.filter(pk=destination_id).first() if destination_id.isdigit() else None
    is_full_main_page = destination is not None and destination.specific_class is MainPage and not (
        FollowUpPage.has_room_under(destination))
    if is_full_main_page:
        return follow_up_limit_reached(request, destination)
    return None


# --- buttons: "New web page" and "Make this the live web page" -------------------------------------

def make_live_button(page, user, priority):
    if page.specific_class is not MainPage or not page.live:
        return None
    if not page.permissions_for_user(user).can_publish():
        return None
    home = OrganizationHomePage.objects.filter(translation_key=page.get_parent().translation_key,
                                               sites_rooted_here__isnull=False).first()
    published = home.published_set if home is not None else None
    if published is not None and published.translation_key == page.translation_key:
        return None
    return Button(_("Make this the live web page"), url=reverse("cms_make_live", args=[page.pk]),
                  icon_name="globe", priority=priority)


@hooks.register("register_page_header_buttons")
def web_page_header_buttons(page, user, view_name, next_url=None):
    button = make_live_button(page, user, priority=12)
    if button is not None:
        yield button
    if page.specific_class is OrganizationHomePage and page.permissions_for_user(user).can_add_subpage():
        yield Button(_("New web page"), url=reverse("wagtailadmin_pages:add", args=["cms", "mainpage", page.pk]),
                     icon_name="plus", priority=14)


@hooks.register("register_page_listing_more_buttons")
def web_page_listing_buttons(page, user, next_url=None):
    button = make_live_button(page, user, priority=5)
    if button is not None:
        yield button


# --- the page explorer starts at the organisation's site root ---------------------------------------

class OrganizationExplorerIndexView(ExplorableIndexView):
    """With translated pages the site root has siblings (its translations), so Wagtail's explorable root is
    Wagtail's own root node, shown with a warning about pages there; on an organisation's host that
    listing is sent to the organisation's site root in the active language."""

    def get(self, request, parent_page_id=None):
        organization = getattr(request, "organization", None)
        at_root = parent_page_id is None or int(parent_page_id) == Page.get_first_root_node().pk
        if organization is not None and at_root and not self.results_only:
            from .selectors import organization_site_roots

            site_root = organization_site_roots(organization).filter(locale=Locale.get_active()).first()
            return redirect("wagtailadmin_explore", (site_root or organization.root_page).pk)
        return super().get(request, parent_page_id)


class OrganizationPageViewSet(PageViewSet):
    index_view_class = OrganizationExplorerIndexView


@hooks.register("register_admin_viewset", order=100)  # after Wagtail's base page viewset, to replace it for Page
def register_page_viewset():
    return OrganizationPageViewSet()
