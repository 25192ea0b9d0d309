"""Sections of web pages as visitors get them: image header with renditions, main text with its image,
the organisation's own widgets (never another's), and what the page carries for accessibility."""

import re

import pytest
from wagtail.images.tests.utils import get_test_image_file

from cms.blocks import HeaderBlock, WidgetBlock
from cms.models import OrgImage
from orgs.scoping import organization_scope, scopes_disabled
from tests.cms.site_helpers import main_page_of
from tests.conftest import host_client
from widgets.demo import demo_widgets

pytestmark = pytest.mark.django_db


def image_of(org, description="Our waiting room with a view of the canal"):
    with scopes_disabled():
        return OrgImage.objects.create(title="Waiting room", description=description, collection=org.collection,
                                       file=get_test_image_file("room.png", size=(2000, 800)))


def publish_sections(org, sections):
    """As the admin does it: inside the organisation's scope (its images and widgets are scoped)."""
    with organization_scope(org):
        main = main_page_of(org)
        main.sections = sections
        main.save_revision().publish()


def test_image_header_and_main_text_render_with_renditions_and_alt_text(alpha):
    image = image_of(alpha)
    publish_sections(alpha, [
        {"type": "header", "value": {"image": image.pk, "heading": "Your practice online", "text": "Walk in by video"}},
        {"type": "main_text", "value": {"title": "Opening hours", "text": "<p>Weekdays 8 to 5.</p>",
                                        "text_colour": "#0b3d2e", "image": image.pk, "image_position": "left"}},
    ])
    html = host_client(alpha).get("/en/").content.decode()
    header = html[html.index('section-header"'):html.index("</section>")]
    assert "<h1>Your practice online</h1>" in header and html.count("<h1") == 1  # the heading replaces the title band
    img = re.search(r"<img [^>]+>", header).group(0)
    assert 'alt="Our waiting room with a view of the canal"' in img
    assert 'width="800"' in img and 'height="250"' in img and "fill-1600x500.png 1600w" in img and "800w" in img
    with organization_scope(alpha):
        assert image.renditions.filter(filter_spec="fill-1600x500").exists()
    assert 'class="section section-main-text has-image image-left" style="--section-ink: #0b3d2e"' in html
    assert "<h2>Opening hours</h2>" in html and "<p>Weekdays 8 to 5.</p>" in html


def test_widget_section_embeds_the_organisations_own_widgets_only(alpha, beta):
    walk_in, booking = demo_widgets(alpha)
    foreign_walk_in, _foreign_booking = demo_widgets(beta)
    publish_sections(alpha, [{"type": "widgets", "value": {"walk_in": walk_in.pk, "booking": booking.pk,
                                                          "title": "See us today"}}])
    html = host_client(alpha).get("/en/").content.decode()
    assert f"/widgets/walk-in/{walk_in.key}/" in html and f"/widgets/booking/{booking.key}/" in html
    assert 'allow="camera; microphone; display-capture; fullscreen"' in html and "<h2>See us today</h2>" in html
    assert "<script>" not in html  # only the external resize script, no inline code

    publish_sections(alpha, [{"type": "widgets", "value": {"walk_in": foreign_walk_in.pk, "booking": None,
                                                          "title": "Stolen"}}])
    html = host_client(alpha).get("/en/").content.decode()
    assert foreign_walk_in.key not in html and "Stolen" not in html and "<iframe" not in html


def test_choosers_accept_only_the_current_organisations_objects(alpha, beta):
    """One block instance serves every organisation: each gets its own objects, in either order."""
    from django.core.exceptions import ValidationError

    alpha_image, beta_image = image_of(alpha), image_of(beta)
    alpha_walk_in, _ = demo_widgets(alpha)
    beta_walk_in, _ = demo_widgets(beta)
    image_block = HeaderBlock.base_blocks["image"]
    widget_block = WidgetBlock.base_blocks["walk_in"]
    for org, own, foreign, own_widget, foreign_widget in (
        (alpha, alpha_image, beta_image, alpha_walk_in, beta_walk_in),
        (beta, beta_image, alpha_image, beta_walk_in, alpha_walk_in),
    ):
        with organization_scope(org):
            assert image_block.clean(own) == own
            with pytest.raises(ValidationError):
                image_block.clean(foreign)
            assert widget_block.clean(own_widget) == own_widget
            with pytest.raises(ValidationError):
                widget_block.clean(foreign_widget)


def test_public_page_accessibility_basics(alpha):
    html = host_client(alpha).get("/en/how-it-works/").content.decode()
    assert '<html lang="en">' in html
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    assert "<header" in html and "<footer" in html and '<nav class="site-menu" aria-label="Site menu">' in html
    assert '<a href="/en/how-it-works/" aria-current="page">How it works</a>' in html
    assert '<meta name="viewport"' in html
    assert "<script>" not in html and "fonts.googleapis" not in html
