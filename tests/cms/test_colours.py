"""Colours of web pages: #rrggbb only, and text that keeps WCAG AA contrast (4.5:1) with its background;
custom CSS refused with the sanitiser's reasons. Covers F-WEB-2 and issue #5 item 2."""

import pytest
from django.core.exceptions import ValidationError

from cms.colours import contrast_problem, contrast_ratio, relative_luminance, validate_colour
from tests.cms.site_helpers import main_page_form_data, main_page_of
from tests.conftest import host_client, signed_in_client


@pytest.mark.parametrize(("foreground", "background", "expected"), [
    ("#000000", "#ffffff", 21.0),
    ("#ffffff", "#ffffff", 1.0),
    ("#777777", "#ffffff", 4.48),  # the classic "almost AA" grey
    ("#767676", "#ffffff", 4.54),
    ("#1D4ED8", "#FFFFFF", 6.70),
])
def test_contrast_ratio_follows_wcag(foreground, background, expected):
    assert contrast_ratio(foreground, background) == pytest.approx(expected, abs=0.01)
    assert contrast_ratio(background, foreground) == contrast_ratio(foreground, background)


def test_relative_luminance_ends():
    assert relative_luminance("#000000") == 0
    assert relative_luminance("#ffffff") == pytest.approx(1)


def test_contrast_problem_names_both_colours_the_ratio_and_what_to_change():
    problem = contrast_problem(foreground="#777777", background="#FFFFFF", what="text colour")
    assert problem.startswith("The text colour #777777 on the background colour #ffffff has a contrast ratio of 4.48:1")
    assert "at least 4.5:1" in problem and "Choose a darker text colour or a lighter background colour." in problem
    light = contrast_problem(foreground="#888888", background="#333333", what="menu item colour")
    assert "Choose a lighter menu item colour or a darker background colour." in light
    assert contrast_problem(foreground="#767676", background="#ffffff", what="x") is None


@pytest.mark.parametrize("value", ["red", "#fff", "#12345g", "#1234567", "#123456;}", "", " #123456"])
def test_colour_validator_refuses_anything_but_rrggbb(value):
    with pytest.raises(ValidationError):
        validate_colour(value)


@pytest.mark.django_db
def test_page_refuses_unreadable_colours(alpha):
    main = main_page_of(alpha)
    main.text_colour, main.menu_colour, main.background_colour = "#999999", "#1f2933", "#ffffff"
    with pytest.raises(ValidationError) as error:
        main.full_clean()
    assert set(error.value.message_dict) == {"text_colour"}
    assert "#999999" in error.value.message_dict["text_colour"][0]

    main.text_colour, main.background_colour, main.accent_colour, main.menu_colour = (
        "#ffffff", "#0b3d2e", "#ffd166", "#ffffff")  # light text on a dark page is fine
    main.full_clean()


@pytest.mark.django_db
def test_admin_form_shows_contrast_and_css_errors_and_saves_nothing(alpha):
    main = main_page_of(alpha)
    client = signed_in_client(alpha.people["admin"].user, alpha)
    from wagtail.test.utils.form_data import rich_text

    css = "@import url(https://evil.test/x.css);\nh1 { color: #123456 }"
    pale = {"title": "Pale", "text": rich_text("<p>Hard to read</p>"), "text_colour": "#eeeeee", "image": "",
            "image_position": "right"}
    data = main_page_form_data(main, text_colour="#aaaaaa", custom_css=css, sections=[("main_text", pale)])
    response = client.post(f"/admin/pages/{main.pk}/edit/", data)
    html = response.content.decode()
    assert response.status_code == 200  # the form again, with the reasons
    assert "The text colour #aaaaaa on the background colour #ffffff has a contrast ratio of 2.32:1" in html
    assert "The text colour of this section #eeeeee" in html
    assert "@import" in html and "imports load styles from other sites" in html
    assert main.get_latest_revision().content["text_colour"] != "#aaaaaa"

    bad_colour = client.post(f"/admin/pages/{main.pk}/edit/", main_page_form_data(main, background_colour="white"))
    assert "Enter a colour as # followed by six hexadecimal digits" in bad_colour.content.decode()


@pytest.mark.django_db
def test_page_colours_and_custom_css_reach_the_page(alpha):
    main = main_page_of(alpha)
    main.background_colour, main.text_colour, main.accent_colour, main.menu_colour = (
        "#fffaf0", "#222222", "#0b5fff", "#333333")
    main.custom_css = ".section-subtext { border-radius: 0 }"
    main.full_clean()
    main.save_revision().publish()
    html = host_client(alpha).get("/en/").content.decode()
    assert "--site-bg: #fffaf0; --site-ink: #222222; --site-accent: #0b5fff; --site-menu: #333333;" in html
    assert ".section-subtext" in html and "border-radius: 0" in html

    # A value that reached the database around the validators is not written into the <style> element (the
    # column holds seven characters: PostgreSQL refuses more, SQLite does not).
    type(main).objects.filter(pk=main.pk).update(background_colour="zq;}<qz")
    html = host_client(alpha).get("/en/").content.decode()
    assert "zq;}" not in html and "<qz" not in html and "--site-bg: #ffffff;" in html
