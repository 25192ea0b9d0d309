"""Rich-text page links resolve only to pages of the organisation being served.

A page link stores a page id; an editor could type another organisation's id. Rendered inside an
organisation's scope, such a link becomes a plain <a> with no address.
"""

from wagtail.rich_text.pages import PageLinkHandler

from orgs.scoping import current_organization_id


class OrganizationPageLinkHandler(PageLinkHandler):
    @classmethod
    def get_many(cls, attrs_list):
        pages = super().get_many(attrs_list)
        organization_id = current_organization_id()
        if organization_id is None:
            return pages
        from orgs.models import Organization

        from .selectors import organization_pages

        organization = Organization.objects.select_related("root_page").get(pk=organization_id)
        named = [p.pk for p in pages if p]
        own = set(organization_pages(organization).filter(pk__in=named).values_list("pk", flat=True))
        return [page if page is not None and page.pk in own else None for page in pages]
