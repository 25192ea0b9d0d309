"""Building page sets and translations for the web-page tests."""

from wagtail.models import Locale

from cms.models import FollowUpPage, MainPage
from cms.page_sets import preset_main_sections


def main_page_of(organization):
    return organization.root_page.specific.published_set


def add_page_set(organization, title, slug, *, publish=True, follow_ups=(), **fields):
    """A new page set under the organisation's site root; `follow_ups` are (title, slug) pairs."""
    home = organization.root_page.specific
    main = home.add_child(instance=MainPage(title=title, slug=slug, sections=preset_main_sections(), **fields))
    if publish:
        main.save_revision().publish()
    for follow_up_title, follow_up_slug in follow_ups:
        page = main.add_child(instance=FollowUpPage(title=follow_up_title, slug=follow_up_slug))
        if publish:
            page.save_revision().publish()
    return MainPage.objects.get(pk=main.pk)


def translate(page, language, *, title=None, slug=None, publish=True):
    """The page copied into `language` (parents as aliases where needed), as an editor would after
    "Translate this page"."""
    translated = page.copy_for_translation(Locale.objects.get(language_code=language), copy_parents=True)
    translated.title = title or f"{page.title} ({language})"
    if slug:
        translated.slug = slug
    translated.save()
    if publish:
        translated.save_revision().publish()
    return type(translated).objects.get(pk=translated.pk)
