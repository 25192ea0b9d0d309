"""Building page sets and translations for the web-page tests."""

from wagtail.models import Locale

from cms.models import FollowUpPage, MainPage, OrganizationHomePage
from cms.page_sets import preset_main_sections


def main_page_of(organization):
    """The live page set's main page, read afresh (the organisation caches its root page)."""
    return OrganizationHomePage.objects.get(pk=organization.root_page_id).published_set


def add_page_set(organization, title, slug, *, publish=True, follow_ups=(), **fields):
    """A new page set under the organisation's site root; `follow_ups` are (title, slug) pairs."""
    home = organization.root_page.specific
    main = home.add_child(instance=MainPage(title=title, slug=slug, sections=preset_main_sections(), live=publish,
                                            **fields))
    if publish:
        main.save_revision().publish()
    for follow_up_title, follow_up_slug in follow_ups:
        page = main.add_child(instance=FollowUpPage(title=follow_up_title, slug=follow_up_slug, live=publish))
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


def main_page_form_data(main, *, sections=None, **fields):
    """POST data of the admin's edit form for a main page, as the browser sends it."""
    from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

    if sections is None:
        sections = [("main_text", {"title": "Opening hours", "text": rich_text("<p>Every weekday from 8 to 5.</p>"),
                                   "text_colour": "", "image": "", "image_position": "right"})]
    data = {
        "title": main.title, "slug": main.slug, "sections": streamfield(sections),
        "theme": main.theme, "background_colour": main.background_colour, "text_colour": main.text_colour,
        "accent_colour": main.accent_colour, "menu_colour": main.menu_colour, "custom_css": main.custom_css,
        "seo_title": "", "search_description": "",
    }
    data.update(fields)
    return nested_form_data(data)
