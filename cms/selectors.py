"""Reads for the public web site: which pages the public may see, in which languages, at which address.

Only the *published* page set is public, in each language where its translation is live; within it,
only live follow-up pages. Everything else (drafts, other sets, other languages' drafts) is never served.
"""

from django.conf import settings
from django.db.models import Q, Subquery
from django.utils.translation import get_language_info
from wagtail.models import Page

SITE_LANGUAGES = [code for code, _name in settings.LANGUAGES]
PATH_STEP = 4  # treebeard's materialised path: four characters per level


def site_home_of(page):
    """The organisation's site root (the original home page) for any page of its site or translations."""
    from .models import OrganizationHomePage

    if page.depth < 2:
        return None
    top = Page.objects.filter(path=page.path[: 2 * PATH_STEP]).values("translation_key")
    return OrganizationHomePage.objects.filter(translation_key=Subquery(top), sites_rooted_here__isnull=False).first()


def public_main_page(home_id, language):
    """The live translation in `language` of the published page set of the site root `home_id`, or None.
    One query: the published set's translation key is looked up inside it."""
    from .models import MainPage, OrganizationHomePage

    if language not in SITE_LANGUAGES:
        return None
    published_id = OrganizationHomePage.objects.filter(pk=home_id).values("published_set_id")[:1]
    published_key = MainPage.objects.filter(pk=Subquery(published_id)).values("translation_key")[:1]
    return (MainPage.objects.live().filter(locale__language_code=language, translation_key=Subquery(published_key))
            .select_related("locale").first())


def public_follow_up(main, slug):
    from .models import FollowUpPage

    return FollowUpPage.objects.live().child_of(main).filter(slug=slug).select_related("locale").first()


def published_languages(home):
    """Language codes in which the published page set is live, in the order of settings.LANGUAGES."""
    from .models import MainPage

    if home is None or home.published_set_id is None:
        return []
    published_key = MainPage.objects.filter(pk=home.published_set_id).values("translation_key")
    live = set(MainPage.objects.live().filter(translation_key=Subquery(published_key))
               .values_list("locale__language_code", flat=True))
    return [code for code in SITE_LANGUAGES if code in live]


def is_in_published_set(page, home):
    """Is `page` (a main or follow-up page) part of the published set, in any language?"""
    from .models import FollowUpPage, MainPage

    if home.published_set_id is None:
        return False
    main = page
    if isinstance(page, FollowUpPage) or page.specific_class is FollowUpPage:
        main = MainPage.objects.filter(path=page.path[:-PATH_STEP]).first()
        if main is None or not main.live:
            return False
    return MainPage.objects.filter(pk=home.published_set_id, translation_key=main.translation_key).exists()


def language_links(page, *, known_public=False):
    """The same page in each language where the public can see it: [{code, name, path, current}].

    Empty when `page` is not public at all (a preview of another page set, a draft). `known_public`: the
    page was just routed to the public, so that need not be checked again.
    """
    from .models import FollowUpPage, MainPage

    if not known_public:
        home = site_home_of(page)
        if home is None or not page.live or not is_in_published_set(page, home):
            return []
    translations = page.get_translations(inclusive=True).live().filter(locale__language_code__in=SITE_LANGUAGES)
    if isinstance(page, FollowUpPage):
        # A follow-up page is public in a language only while its main page is live there too.
        rows = list(translations.select_related("locale"))
        parents_live = set(
            MainPage.objects.live().filter(path__in=[p.path[:-PATH_STEP] for p in rows]).values_list("path", flat=True)
        )
        rows = [p for p in rows if p.path[:-PATH_STEP] in parents_live]
        paths = {p.locale.language_code: f"/{p.locale.language_code}/{p.slug}/" for p in rows}
    else:
        paths = {p.locale.language_code: f"/{p.locale.language_code}/"
                 for p in translations.select_related("locale")}
    current = page.locale.language_code
    return [
        {"code": code, "name": get_language_info(code)["name_local"], "path": paths[code], "current": code == current}
        for code in SITE_LANGUAGES if code in paths
    ]


def organization_pages(organization):
    """Every page of the organisation's site, in every language: its site root and the root's
    translations (siblings under Wagtail's root) with everything below them."""
    root = organization.root_page
    roots = Page.objects.filter(translation_key=root.translation_key, depth=root.depth).values_list("path", flat=True)
    in_tree = Q(pk__in=[])
    for path in roots:
        in_tree |= Q(path__startswith=path)
    return Page.objects.filter(in_tree)


def organization_site_roots(organization):
    """The organisation's site root and its translations: where its page permissions are granted."""
    root = organization.root_page
    return Page.objects.filter(translation_key=root.translation_key, depth=root.depth)
