from wagtail import hooks

from .rich_text import OrganizationPageLinkHandler


@hooks.register("register_rich_text_features", order=100)  # after Wagtail's own page link handler
def organization_page_links(features):
    features.register_link_type(OrganizationPageLinkHandler)
