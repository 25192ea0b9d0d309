"""The organisation's web site (page sets) and its media library.

Tree: Root → OrganizationHomePage (the Wagtail Site's root, one per organisation) → MainPage (one per
page set) → FollowUpPage (up to three). The home page serves only the *published* page set; the other
sets exist for editing and preview and are never reachable by the public.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.documents.models import AbstractDocument, DocumentQuerySet
from wagtail.fields import RichTextField
from wagtail.images.models import AbstractImage, AbstractRendition, Image, ImageQuerySet
from wagtail.models import Page
from wagtail.search import index
from wagtail.url_routing import RouteResult

from orgs.scoping import OrgScopedManager

MAX_FOLLOW_UP_PAGES = 3
RICH_TEXT_FEATURES = ["h2", "h3", "bold", "italic", "ol", "ul", "link", "document-link", "image"]


# --- media library, one per organisation --------------------------------------------------------

def organization_of_collection(collection):
    """Media belong to the organisation whose collection (or an ancestor of it) holds them."""
    from orgs.models import Organization

    if collection is None:
        return None
    ancestors = collection.get_ancestors(inclusive=True)
    return Organization.objects.filter(collection__in=ancestors).first()


class OrganizationMedia(models.Model):
    """Media carry their organisation (from their collection), so their manager can scope them."""

    organization = models.ForeignKey(
        "orgs.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+", editable=False
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.organization = organization_of_collection(self.collection)
        super().save(*args, **kwargs)


class OrgImage(OrganizationMedia, AbstractImage):  # noqa: DJ008 - __str__ from AbstractImage
    # Wagtail's "description" is the image's alternative text. Tags are left out: taggit's tags are
    # shared by the whole installation, so one organisation's tag names would show in another's.
    admin_form_fields = tuple(f for f in Image.admin_form_fields if f != "tags")
    search_fields = [*AbstractImage.search_fields, index.FilterField("organization")]
    objects = OrgScopedManager(manager_class=models.Manager.from_queryset(ImageQuerySet))

    class Meta(AbstractImage.Meta):
        verbose_name = _("image")
        verbose_name_plural = _("images")


class OrgRendition(AbstractRendition):
    image = models.ForeignKey(OrgImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)


class OrgDocument(OrganizationMedia, AbstractDocument):  # noqa: DJ008 - __str__ from AbstractDocument
    admin_form_fields = ("title", "file", "collection")
    search_fields = [*AbstractDocument.search_fields, index.FilterField("organization")]
    objects = OrgScopedManager(manager_class=models.Manager.from_queryset(DocumentQuerySet))

    class Meta(AbstractDocument.Meta):
        verbose_name = _("document")
        verbose_name_plural = _("documents")


# --- pages --------------------------------------------------------------------------------------

class OrganizationHomePage(Page):
    """The root of an organisation's site: serves the published page set, nothing else."""

    published_set = models.ForeignKey(
        "cms.MainPage", verbose_name=_("published web page"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The web page visitors see at your address. Other web pages stay private."),
    )

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.MainPage"]
    content_panels = [FieldPanel("published_set")]
    promote_panels = []
    settings_panels = []

    class Meta:
        verbose_name = _("web site")

    def clean(self):
        super().clean()
        if self.published_set_id and self.pk and not self.published_set.get_parent().pk == self.pk:
            raise ValidationError({"published_set": _("Choose one of this site's own web pages.")})

    def route(self, request, path_components):
        page_set = self.published_set
        if page_set is None or not page_set.live:
            raise Http404
        if not path_components:
            return RouteResult(page_set.specific)
        if len(path_components) == 1:
            follow_up = page_set.get_children().live().filter(slug=path_components[0]).first()
            if follow_up is not None:
                return RouteResult(follow_up.specific)
        raise Http404

    def published_url_for(self, page):
        """The public address of a page of the published set (`/` or `/<slug>/`)."""
        return "/" if page.pk == self.published_set_id else f"/{page.slug}/"


class MainPage(Page):
    """The main page of a page set."""

    body = RichTextField(_("main text"), blank=True, features=RICH_TEXT_FEATURES)
    subtext = RichTextField(_("subtext"), blank=True, features=RICH_TEXT_FEATURES)

    parent_page_types = ["cms.OrganizationHomePage"]
    subpage_types = ["cms.FollowUpPage"]
    content_panels = [*Page.content_panels, FieldPanel("body"), FieldPanel("subtext")]
    template = "cms/main_page.html"

    class Meta:
        verbose_name = _("web page")
        verbose_name_plural = _("web pages")

    def menu_pages(self):
        return self.get_children().live().specific()

    def is_published_set(self):
        return self.get_parent().specific.published_set_id == self.pk

    def get_url_parts(self, request=None):
        # Only the published set has public addresses: `/` for its main page.
        parts = super().get_url_parts(request)
        if parts is None or not self.is_published_set():
            return None
        site_id, root_url, _path = parts
        return site_id, root_url, "/"


class FollowUpPage(Page):
    body = RichTextField(_("main text"), blank=True, features=RICH_TEXT_FEATURES)
    subtext = RichTextField(_("subtext"), blank=True, features=RICH_TEXT_FEATURES)

    parent_page_types = ["cms.MainPage"]
    subpage_types = []
    content_panels = [*Page.content_panels, FieldPanel("body"), FieldPanel("subtext")]
    template = "cms/follow_up_page.html"

    class Meta:
        verbose_name = _("follow-up page")
        verbose_name_plural = _("follow-up pages")

    @classmethod
    def can_create_at(cls, parent):
        return super().can_create_at(parent) and parent.get_children().count() < MAX_FOLLOW_UP_PAGES

    def main_page(self):
        return self.get_parent().specific

    def get_url_parts(self, request=None):
        parts = super().get_url_parts(request)
        if parts is None or not self.main_page().is_published_set():
            return None
        site_id, root_url, _path = parts
        return site_id, root_url, f"/{self.slug}/"
