"""The organisation's web site (page sets) and its media library.

Tree: Root → OrganizationHomePage (the Wagtail Site's root, one per organisation) → MainPage (one per
page set) → FollowUpPage (up to three). The home page serves only the *published* page set; the other
sets exist for editing and preview and are never reachable by the public.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.blocks import StreamBlockValidationError, StructBlockValidationError
from wagtail.documents.models import AbstractDocument, DocumentQuerySet
from wagtail.fields import StreamField
from wagtail.images.models import AbstractImage, AbstractRendition, Image, ImageQuerySet
from wagtail.models import Page, Site
from wagtail.search import index
from wagtail.url_routing import RouteResult
from wagtail_localize.fields import SynchronizedField

from orgs.scoping import OrgScopedManager, enforced_organization_id

from .blocks import ColourInput, FollowUpSections, MainSections
from .colours import contrast_problem, validate_colour
from .css_sanitizer import validate_custom_css
from .themes import DEFAULT_THEME, theme_base_template, theme_choices, theme_names

MAX_FOLLOW_UP_PAGES = 3


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
        from orgs.models import Organization

        organization = organization_of_collection(self.collection)
        enforced_id = enforced_organization_id()
        if enforced_id is not None and getattr(organization, "pk", None) != enforced_id:
            # Wagtail offers every collection the user's groups may use: an admin of two organisations (or
            # platform staff) could post another organisation's collection. The host's organisation decides.
            organization = Organization.objects.select_related("collection").get(pk=enforced_id)
            self.collection = organization.collection
        self.organization = organization
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

def colour_field(label, default, help_text=""):
    return models.CharField(label, max_length=7, default=default, validators=[validate_colour], help_text=help_text)


def colour_panel(name):
    return FieldPanel(name, widget=ColourInput())


class OrganizationHomePage(Page):
    """The root of an organisation's site: serves the published page set, nothing else.

    Translations of this page (siblings under Wagtail's root, one per language) hold the translated
    page sets. Public addresses are `/<language>/` and `/<language>/<follow-up slug>/`; `/` redirects
    to the visitor's language (cms.views.home).
    """

    published_set = models.ForeignKey(
        "cms.MainPage", verbose_name=_("published web page"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The web page visitors see at your address, in every language it is translated into. "
                    "Other web pages stay private."),
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
        if self.published_set_id and self.pk:
            own_homes = Page.objects.filter(translation_key=self.translation_key, depth=self.depth)
            if not own_homes.filter(pk=self.published_set.get_parent().pk).exists():
                raise ValidationError({"published_set": _("Choose one of this site's own web pages.")})

    def route(self, request, path_components):
        from . import selectors

        if not path_components:
            raise Http404  # `/` is cms.views.home: it picks the visitor's language
        language, *rest = path_components
        main = selectors.public_main_page(self.site_home_id(request), language)
        if main is None or len(rest) > 1:
            raise Http404
        page = main if not rest else selectors.public_follow_up(main, rest[0])
        if page is None:
            raise Http404
        page.public_main = main  # routed to the public: the page set is known and public (saves queries)
        translation.activate(language)  # the page, its menu and its messages speak the page's language
        request.LANGUAGE_CODE = language
        return RouteResult(page)

    def site_home_id(self, request=None):
        """The id of the original (site root) of this page's translations: it holds the published set."""
        organization = getattr(request, "organization", None)
        if organization is not None:
            return organization.root_page_id
        return OrganizationHomePage.objects.get(translation_key=self.translation_key,
                                                sites_rooted_here__isnull=False).pk


class SitePage(Page):
    """What main and follow-up pages share: a theme, colours, sections and public addresses."""

    class Meta:
        abstract = True

    def page_set(self):
        raise NotImplementedError

    def public_path(self, language=None):
        raise NotImplementedError

    def serve_preview(self, request, mode_name):
        # A preview speaks the page's language, whatever the editor's admin language is.
        with translation.override(self.locale.language_code):
            response = super().serve_preview(request, mode_name)
            if hasattr(response, "render"):
                response.render()
        return response

    def get_context(self, request, *args, **kwargs):
        from . import selectors

        context = super().get_context(request, *args, **kwargs)
        main = self.page_set()
        language = main.locale.language_code
        context["main"] = main
        context["theme_base"] = theme_base_template(main.theme)
        context["theme"] = main.theme if main.theme in theme_names() else DEFAULT_THEME
        context["menu_links"] = [
            {"title": item.title, "path": f"/{language}/{item.slug}/", "current": item.pk == self.pk}
            for item in main.menu_pages()
        ]
        context["language_links"] = selectors.language_links(self, known_public=hasattr(self, "public_main"))
        context["is_preview"] = getattr(request, "is_preview", False)
        return context

    def get_url_parts(self, request=None):
        # Only pages of the published set that are live have public addresses: `/<lang>/…`.
        from . import selectors

        if not self.live:
            return None
        home = selectors.site_home_of(self)
        if home is None or not selectors.is_in_published_set(self, home):
            return None
        site = Site.objects.filter(root_page_id=home.pk).first()
        if site is None:
            return None
        return site.pk, site.root_url, self.public_path()


class MainPage(SitePage):
    """The main page of a page set: sections, the set's theme and colours, and its menu."""

    sections = StreamField(MainSections(), verbose_name=_("sections"), blank=True)
    theme = models.CharField(
        _("theme"), max_length=40, choices=theme_choices, default=DEFAULT_THEME,
        help_text=_("The look of this web page and its follow-up pages."),
    )
    background_colour = colour_field(_("background colour"), "#ffffff")
    text_colour = colour_field(_("text colour"), "#1f2933")
    accent_colour = colour_field(
        _("link and button colour"), "#1d4ed8", help_text=_("Links and buttons; also the header band's tint.")
    )
    menu_colour = colour_field(_("menu item colour"), "#1f2933")
    custom_css = models.TextField(
        _("custom CSS"), blank=True,
        help_text=_("For web designers. Rules that could harm visitors (other sites' styles or images, "
                    "scripts) are refused with the reason."),
    )

    parent_page_types = ["cms.OrganizationHomePage"]
    subpage_types = ["cms.FollowUpPage"]
    template = "cms/main_page.html"

    content_panels = [*Page.content_panels, FieldPanel("sections")]
    styling_panels = [
        FieldPanel("theme"),
        MultiFieldPanel(
            [colour_panel("background_colour"), colour_panel("text_colour"), colour_panel("accent_colour")],
            heading=_("Colours"),
            help_text=_("Text must stay readable: the contrast with the background must be at least 4.5:1."),
        ),
    ]
    menu_panels = [
        colour_panel("menu_colour"),
        HelpPanel(content=_(
            "<p>The menu lists this web page's follow-up pages (at most three), in the order of the page "
            "explorer. Add, reorder or remove follow-up pages there.</p>"
        )),
    ]
    advanced_panels = [FieldPanel("custom_css")]
    # Translations share the set's colours and CSS (wagtail-localize would offer "#1f2933" for translation).
    override_translatable_fields = [
        SynchronizedField(name) for name in ("background_colour", "text_colour", "accent_colour", "menu_colour",
                                             "custom_css")
    ]
    promote_panels = [FieldPanel("slug"), FieldPanel("seo_title"), FieldPanel("search_description")]
    edit_handler = TabbedInterface([
        ObjectList(content_panels, heading=_("Content")),
        ObjectList(styling_panels, heading=_("Styling")),
        ObjectList(menu_panels, heading=_("Menu")),
        ObjectList(advanced_panels, heading=_("Advanced")),
        ObjectList(promote_panels, heading=_("Address and search")),
    ])

    class Meta:
        verbose_name = _("web page")
        verbose_name_plural = _("web pages")

    def clean(self):
        super().clean()
        errors = {}
        checks = [
            ("text_colour", self.text_colour, _("text colour")),
            ("accent_colour", self.accent_colour, _("link and button colour")),
            ("menu_colour", self.menu_colour, _("menu item colour")),
        ]
        for field, colour, what in checks:
            problem = contrast_problem(foreground=colour, background=self.background_colour, what=what)
            if problem:
                errors[field] = problem
        section_error = section_contrast_error(self.sections, self.background_colour)
        if section_error:
            errors["sections"] = section_error
        if self.custom_css:
            try:
                validate_custom_css(organization_of_page(self) or scoped_organization())(self.custom_css)
            except ValidationError as error:
                errors["custom_css"] = error.messages
        if errors:
            raise ValidationError(errors)

    def page_set(self):
        return self

    def public_path(self, language=None):
        return f"/{language or self.locale.language_code}/"

    def menu_pages(self):
        """The live follow-up pages, in the explorer's order (title and slug are all the menu needs)."""
        return self.get_children().live().order_by("path")

    def is_published_set(self):
        from . import selectors

        home = selectors.site_home_of(self)
        return home is not None and selectors.is_in_published_set(self, home)


class FollowUpPage(SitePage):
    sections = StreamField(FollowUpSections(), verbose_name=_("sections"), blank=True)

    parent_page_types = ["cms.MainPage"]
    subpage_types = []
    template = "cms/follow_up_page.html"
    content_panels = [*Page.content_panels, FieldPanel("sections")]
    promote_panels = [FieldPanel("slug"), FieldPanel("seo_title"), FieldPanel("search_description")]

    class Meta:
        verbose_name = _("follow-up page")
        verbose_name_plural = _("follow-up pages")

    @staticmethod
    def has_room_under(parent, *, ignore=None):
        """A main page has room for another follow-up page while it has fewer than three."""
        children = Page.objects.child_of(parent)
        if ignore is not None:
            children = children.exclude(pk=ignore.pk)
        return children.count() < MAX_FOLLOW_UP_PAGES

    def can_move_to(self, parent):
        return super().can_move_to(parent) and self.has_room_under(parent, ignore=self)

    def clean(self):
        super().clean()
        main = self.get_parent().specific if self.path else None  # a new page has no place in the tree yet
        if main is not None:
            section_error = section_contrast_error(self.sections, main.background_colour)
            if section_error:
                raise ValidationError({"sections": section_error})

    def page_set(self):
        return getattr(self, "public_main", None) or self.get_parent().specific

    def main_page(self):
        return self.page_set()

    def public_path(self, language=None):
        return f"/{language or self.locale.language_code}/{self.slug}/"


def section_contrast_error(sections, background):
    """An error shown at the colour of each main-text section whose text is too hard to read, or None."""
    block_errors = {}
    for position, block in enumerate(sections):
        if block.block_type != "main_text" or not block.value["text_colour"]:
            continue
        problem = contrast_problem(foreground=block.value["text_colour"], background=background,
                                   what=_("text colour of this section"))
        if problem:
            block_errors[position] = StructBlockValidationError(block_errors={"text_colour": ValidationError(problem)})
    return StreamBlockValidationError(block_errors=block_errors) if block_errors else None


def scoped_organization():
    """The organisation of the request being served (a new page has no place in a tree yet)."""
    from orgs.models import Organization
    from orgs.scoping import current_organization_id

    organization_id = current_organization_id()
    return Organization.objects.filter(pk=organization_id).first() if organization_id else None


def organization_of_page(page):
    """The organisation whose site holds `page` (through any translation of its site root)."""
    from orgs.models import Organization

    home = page.get_ancestors(inclusive=True).filter(depth=2).first() if page.depth else None
    if home is None:
        return None
    return Organization.objects.filter(root_page__translation_key=home.translation_key).first()
