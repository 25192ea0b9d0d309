"""Translated web pages (F-I18N-2): /<lang>/ addresses, the redirect from /, the language switch, and the
admin tenant guard for wagtail-localize's own URLs."""

import pytest
from wagtail.models import Locale
from wagtail_localize.models import Translation, TranslationSource

from cms.models import MainPage
from tests.cms.site_helpers import add_page_set, main_page_of, translate
from tests.conftest import host_client, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def dutch(alpha):
    """Alpha's published set (original in English) with a published Dutch translation of both pages."""
    main = main_page_of(alpha)
    main_nl = translate(main, "nl", title="Alpha Praktijk")
    follow_up = main.get_children().get(slug="how-it-works").specific
    follow_up_nl = translate(follow_up, "nl", title="Zo werkt het", slug="zo-werkt-het")
    return main_nl, follow_up_nl


def test_translation_is_served_in_its_language_with_a_language_switch(alpha, dutch):
    client = host_client(alpha)
    response = client.get("/nl/")
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "nl"
    assert '<html lang="nl">' in html and "Alpha Praktijk" in html
    assert 'href="/nl/zo-werkt-het/"' in html  # the menu lists the Dutch follow-up page
    assert 'href="/en/" hreflang="en" lang="en">English</a>' in html
    assert 'href="/nl/" hreflang="nl" lang="nl" aria-current="true">Nederlands</a>' in html
    assert "<form" not in html and "csrfmiddlewaretoken" not in html and "<script>" not in html
    assert not response.cookies  # nothing that would stop the page cache

    follow_up = client.get("/nl/zo-werkt-het/").content.decode()
    assert "Zo werkt het" in follow_up and 'href="/en/how-it-works/" hreflang="en"' in follow_up
    english = client.get("/en/how-it-works/").content.decode()
    assert 'href="/nl/zo-werkt-het/" hreflang="nl" lang="nl">Nederlands</a>' in english
    assert '<link rel="alternate" hreflang="nl" href="/nl/zo-werkt-het/">' in english
    assert client.get("/nl/how-it-works/").status_code == 404  # the English slug is not a Dutch address

    main_nl, follow_up_nl = dutch
    assert main_nl.url.endswith("/nl/") and follow_up_nl.url.endswith("/nl/zo-werkt-het/")


@pytest.mark.parametrize(("headers", "cookie", "expected"), [
    ({"HTTP_ACCEPT_LANGUAGE": "nl-NL,nl;q=0.9,en;q=0.8"}, None, "/nl/"),
    ({"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9,nl;q=0.5"}, None, "/nl/"),  # the first language the site has
    ({"HTTP_ACCEPT_LANGUAGE": "de-DE"}, None, "/en/"),  # not translated: the organisation's default (en)
    ({}, None, "/en/"),
    ({"HTTP_ACCEPT_LANGUAGE": "en"}, "nl", "/nl/"),  # an explicit choice (language cookie) wins
])
def test_root_redirects_to_the_best_published_language(alpha, dutch, headers, cookie, expected):
    client = host_client(alpha)
    if cookie:
        client.cookies["django_language"] = cookie
    response = client.get("/", **headers)
    assert response.status_code == 302 and response["Location"] == expected
    vary = {v.strip().lower() for v in response["Vary"].split(",")}
    assert {"accept-language", "cookie"} <= vary


def test_root_falls_back_to_the_default_then_the_original_language(alpha, dutch):
    alpha.default_language = "nl"
    alpha.save()
    assert host_client(alpha).get("/", HTTP_ACCEPT_LANGUAGE="es").headers["Location"] == "/nl/"
    main_nl, _follow_up_nl = dutch
    main_nl.unpublish()
    assert host_client(alpha).get("/", HTTP_ACCEPT_LANGUAGE="nl").headers["Location"] == "/en/"


def test_unpublished_translations_are_never_visible(alpha, dutch):
    main_nl, follow_up_nl = dutch
    client = host_client(alpha)
    follow_up_nl.unpublish()
    assert client.get("/nl/zo-werkt-het/").status_code == 404
    assert "zo-werkt-het" not in client.get("/nl/").content.decode()
    assert "Nederlands" not in client.get("/en/how-it-works/").content.decode()

    # A draft change of a live translation stays private until it is published.
    main_nl.title = "Geheime nieuwe titel"
    main_nl.save_revision()
    assert "Geheime nieuwe titel" not in client.get("/nl/").content.decode()

    # A follow-up page whose main page is unpublished in that language is not public either.
    follow_up_nl.save_revision().publish()
    main_nl.unpublish()
    assert client.get("/nl/").status_code == 404
    assert client.get("/nl/zo-werkt-het/").status_code == 404
    assert "Nederlands" not in client.get("/en/").content.decode()


def test_translations_of_another_set_are_not_visible(alpha, dutch):
    other = add_page_set(alpha, "Winter campaign", "winter", follow_ups=[("Winter details", "winter-details")])
    other_nl = translate(other, "nl", title="Wintercampagne")
    translate(other.get_children().first().specific, "nl", title="Winterdetails", slug="winterdetails")
    client = host_client(alpha)
    for path in ("/nl/", "/nl/winterdetails/", "/nl/winter/", "/en/winter-details/"):
        assert "Winter" not in client.get(path).content.decode(), path
    assert other_nl.url is None

    home = alpha.root_page.specific
    home.published_set = other
    home.save()
    assert "Wintercampagne" in client.get("/nl/").content.decode()
    assert client.get("/nl/winterdetails/").status_code == 200
    assert client.get("/nl/zo-werkt-het/").status_code == 404


def test_org_admin_edits_translations_other_org_admins_get_404(alpha, beta, dutch):
    main_nl, _follow_up_nl = dutch
    own, other = signed_in_client(alpha.people["admin"].user, alpha), signed_in_client(beta.people["admin"].user, beta)
    assert own.get(f"/admin/pages/{main_nl.pk}/edit/").status_code == 200
    assert own.get(f"/admin/pages/{main_nl.get_parent().pk}/").status_code == 200  # the Dutch site root
    assert other.get(f"/admin/pages/{main_nl.pk}/edit/").status_code == 404
    assert other.get(f"/admin/pages/{main_nl.get_parent().pk}/").status_code == 404


def test_wagtail_localize_urls_are_guarded_per_organisation(alpha, beta):
    main = main_page_of(alpha)
    source, _created = TranslationSource.get_or_create_from_instance(main)
    translation = Translation.objects.create(source=source, target_locale=Locale.objects.get(language_code="de"))
    translation.save_target(publish=True)
    own, other = signed_in_client(alpha.people["admin"].user, alpha), signed_in_client(beta.people["admin"].user, beta)

    assert own.get(f"/admin/localize/submit/page/{main.pk}/").status_code == 200
    assert own.get(f"/admin/localize/update/{source.pk}/").status_code == 200
    assert own.get(f"/admin/localize/translate/{translation.pk}/preview/").status_code == 200

    for path in (
        f"/admin/localize/submit/page/{main.pk}/",
        f"/admin/localize/update/{source.pk}/",
        f"/admin/localize/translate/{translation.pk}/preview/",
        f"/admin/localize/translate/{translation.pk}/pofile/download/",
        f"/admin/localize/page/{main.pk}/convert_to_alias/",
        "/admin/localize/reports/translations/",
        "/admin/localize/submit/snippet/widgets/walkinwidget/1/",
    ):
        assert other.get(path).status_code == 404, path
    assert own.get("/admin/localize/reports/translations/").status_code == 404  # lists every organisation's
    assert other.post(f"/admin/localize/submit/page/{main.pk}/", {"locales": ["nl"]}).status_code == 404
    assert not MainPage.objects.filter(translation_key=main.translation_key, locale__language_code="nl").exists()


def test_translating_through_wagtail_localize_creates_a_served_translation(alpha):
    main = main_page_of(alpha)
    client = signed_in_client(alpha.people["admin"].user, alpha)
    nl = Locale.objects.get(language_code="nl")
    response = client.post(f"/admin/localize/submit/page/{main.pk}/", {"locales": [nl.pk], "include_subtree": "on"})
    assert response.status_code == 302
    translated = MainPage.objects.get(translation_key=main.translation_key, locale=nl)
    assert translated.get_children().count() == 1  # the follow-up page came along (include_subtree)
    assert client.get(f"/admin/pages/{translated.pk}/edit/").status_code == 200  # wagtail-localize's editor
    assert host_client(alpha).get("/nl/").status_code == 404  # a draft until the editor publishes it
    translated.save_revision().publish()
    assert host_client(alpha).get("/nl/").status_code == 200
    listing = client.get(f"/admin/pages/{alpha.root_page.pk}/").content.decode()
    assert f"/admin/localize/submit/page/{main.pk}/" in listing  # "Translate this page" (into de, es)


def test_explorer_of_an_organisation_with_translations_lists_only_its_own_pages(alpha, beta, dutch):
    """Translated site roots are siblings under Wagtail's root: the explorer's listing is sent on to the site root
    in the admin's language (tests/cms/test_explorer_start.py); the menu's explorer lists only ours there."""
    from wagtail.models import Page

    root = Page.get_first_root_node()
    client = signed_in_client(alpha.people["admin"].user, alpha)
    for url in ("/admin/pages/", f"/admin/pages/{root.pk}/"):
        assert client.get(url)["Location"] == f"/admin/pages/{alpha.root_page.pk}/", url
    for url in (f"/admin/pages/{alpha.root_page.pk}/",
                f"/admin/api/main/pages/?child_of={root.pk}&for_explorer=1",
                "/admin/api/main/pages/?child_of=root&for_explorer=1"):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert "Beta Clinic" not in html and "Alpha Practice" in html, url
    assert client.get(f"/admin/pages/{beta.root_page.pk}/").status_code == 404


def test_a_page_with_every_section_translates_through_wagtail_localize(alpha, django_capture_on_commit_callbacks):
    """Header image, widgets and colours carry over to the translation; the texts are offered for translating."""
    from wagtail.images.tests.utils import get_test_image_file
    from wagtail_localize.models import StringSegment

    from cms.models import OrgImage
    from orgs.scoping import organization_scope, scopes_disabled
    from widgets.demo import demo_widgets

    walk_in, booking = demo_widgets(alpha)
    with scopes_disabled():
        image = OrgImage.objects.create(title="Room", description="Room", collection=alpha.collection,
                                        file=get_test_image_file("room.png", size=(1600, 500)))
    with organization_scope(alpha):
        main = main_page_of(alpha)
        main.text_colour = "#222222"
        main.sections = [
            {"type": "header", "value": {"image": image.pk, "heading": "Welcome in", "text": "By video"}},
            {"type": "main_text", "value": {"title": "Hours", "text": "<p>Weekdays.</p>", "text_colour": "#0b3d2e",
                                            "image": image.pk, "image_position": "left"}},
            {"type": "widgets", "value": {"walk_in": walk_in.pk, "booking": booking.pk, "title": "Now"}},
            {"type": "subtext", "value": {"title": "Emergency", "text": "<p>Call 112.</p>"}},
        ]
        main.save_revision().publish()
        source, _created = TranslationSource.get_or_create_from_instance(main)
        strings = set(StringSegment.objects.filter(source=source).values_list("string__data", flat=True))
        assert {"Welcome in", "By video", "Hours", "Weekdays.", "Now", "Emergency", "Call 112."} <= strings
        assert not strings & {"#222222", "#0b3d2e", "default"}
        translation = Translation.objects.create(source=source, target_locale=Locale.objects.get(language_code="nl"))
        with django_capture_on_commit_callbacks(execute=True):  # wagtail-localize publishes after the commit
            translation.save_target(publish=True)
    html = host_client(alpha).get("/nl/").content.decode()
    assert f"/widgets/walk-in/{walk_in.key}/" in html and "--site-ink: #222222" in html
    assert "--section-ink: #0b3d2e" in html and 'alt="Room"' in html


def test_admins_of_older_organisations_get_the_translate_permission_on_migrate(alpha):
    from django.apps import apps

    from cms.apps import grant_translation_permission

    alpha.admins_group.permissions.remove(*alpha.admins_group.permissions.filter(codename="submit_translation"))
    assert not alpha.people["admin"].user.__class__.objects.get(pk=alpha.people["admin"].user.pk).has_perm(
        "wagtail_localize.submit_translation")
    grant_translation_permission(apps.get_app_config("cms"))
    user = alpha.people["admin"].user.__class__.objects.get(pk=alpha.people["admin"].user.pk)
    assert user.has_perm("wagtail_localize.submit_translation")
