"""The demo organisation's web site for `manage.py demo`: a GP practice in Dutch with an English translation,
a header image, both widgets and two follow-up pages. Safe to run again."""

import io

from django.core.files.images import ImageFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFilter
from wagtail.models import Locale

from orgs.scoping import organization_scope

from . import services
from .models import FollowUpPage, MainPage, OrganizationHomePage, OrgImage

DEMO_SLUG = "huisartsenpraktijk"
HEADER_TITLE = "Demo header: consulting room"
COLOURS = {"background_colour": "#ffffff", "text_colour": "#1f2933", "accent_colour": "#0f766e",
           "menu_colour": "#134e4a"}

NL = {
    "title": "Huisartsenpraktijk aan de gracht",
    "header": ("Uw huisarts, ook via video", "Spreek vandaag nog een huisarts of fysiotherapeut, gewoon vanuit huis."),
    "intro": ("Zo helpen we u", "<p>Voor veel vragen hoeft u niet naar de praktijk te komen. Een videoconsult is "
              "net zo vertrouwd als een gesprek in de spreekkamer, en u hoeft niet te reizen of te wachten in de "
              "wachtkamer.</p><ul><li><b>Direct</b>: loop binnen bij een arts die nu beschikbaar is.</li>"
              "<li><b>Op afspraak</b>: kies een tijd die u uitkomt en ontvang de link per e-mail.</li>"
              "<li><b>Geen app nodig</b>: een telefoon, tablet of computer met camera is genoeg.</li></ul>"),
    "widgets": "Nu spreken of een afspraak maken",
    "subtext": ("Spoed?", "<p>Bij levensbedreigende situaties belt u altijd <b>112</b>. 's Avonds, 's nachts en in "
                "het weekend belt u de huisartsenpost.</p>"),
    "follow_ups": [
        ("Spreekuren", "spreekuren", "Wanneer kunt u terecht?",
         "<p>Het inloopspreekuur via video is op werkdagen van 8.00 tot 10.00 uur en op woensdagmiddag. "
         "Afspraken kunt u maken van maandag tot en met vrijdag tussen 8.00 en 17.00 uur.</p>"
         "<p>Kunt u niet op die tijden? Bel ons, dan zoeken we samen een moment.</p>"),
        ("Praktische informatie", "praktisch", "Goed voorbereid",
         "<ol><li>Zoek een rustige plek met goed licht.</li><li>Test vooraf uw camera en microfoon.</li>"
         "<li>Houd uw medicijnlijst bij de hand.</li></ol><p>Uw gegevens blijven binnen onze praktijk; "
         "video en geluid gaan rechtstreeks tussen u en de arts.</p>"),
    ],
}
EN = {
    "title": "The practice by the canal",
    "header": ("Your GP, by video too", "See a GP or physiotherapist today, from home."),
    "intro": ("How we help you", "<p>Many questions do not need a visit to the practice. A video consultation is as "
              "personal as a talk in the consulting room, without travelling or sitting in the waiting room.</p>"
              "<ul><li><b>Now</b>: walk in to a practitioner who is available.</li><li><b>By appointment</b>: "
              "choose a time that suits you and receive the link by email.</li><li><b>No app needed</b>: a phone, "
              "tablet or computer with a camera is enough.</li></ul>"),
    "widgets": "Talk to us now or book a time",
    "subtext": ("Emergency?", "<p>In a life-threatening situation always call <b>112</b>. In the evening, at night "
                "and at weekends call the out-of-hours GP service.</p>"),
    "follow_ups": [
        ("Opening hours", "opening-hours", "When can you see us?",
         "<p>Video walk-in hours are on weekdays from 8 to 10 am and on Wednesday afternoon. You can book "
         "appointments Monday to Friday between 8 am and 5 pm.</p><p>Those times do not suit you? Call us and we "
         "will find a moment together.</p>"),
        ("Practical information", "practical", "Well prepared",
         "<ol><li>Find a quiet place with good light.</li><li>Test your camera and microphone beforehand.</li>"
         "<li>Keep your list of medicines at hand.</li></ol><p>Your details stay within our practice; video and "
         "sound go directly between you and the practitioner.</p>"),
    ],
}


def main_sections(texts, image, widgets):
    walk_in, booking = widgets if widgets else (None, None)
    sections = [
        {"type": "header", "value": {"image": image.pk, "heading": texts["header"][0], "text": texts["header"][1]}},
        {"type": "main_text", "value": {"title": texts["intro"][0], "text": texts["intro"][1], "text_colour": "",
                                        "image": None, "image_position": "right"}},
    ]
    if walk_in or booking:
        sections.append({"type": "widgets", "value": {"walk_in": walk_in.pk if walk_in else None,
                                                      "booking": booking.pk if booking else None,
                                                      "title": texts["widgets"]}})
    sections.append({"type": "subtext", "value": {"title": texts["subtext"][0], "text": texts["subtext"][1]}})
    return sections


def follow_up_sections(heading, text):
    return [{"type": "main_text", "value": {"title": heading, "text": text, "text_colour": "", "image": None,
                                            "image_position": "right"}}]


def header_image(organization):
    """A calm illustration (made here with Pillow, so the demo needs no download) in the organisation's library."""
    image = OrgImage.objects.filter(title=HEADER_TITLE).first()
    if image is not None:
        return image
    width, height = 1600, 500
    picture = Image.new("RGB", (width, height), "#e6f4f1")
    draw = ImageDraw.Draw(picture)
    for y in range(height):  # a soft vertical gradient, teal to sand
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(204 + 40 * t), int(235 - 10 * t), int(228 - 40 * t)))
    for x, y, r, colour in [(1250, 120, 210, "#99d5c9"), (1420, 380, 160, "#f6d7b0"), (180, 430, 190, "#b7e4da"),
                            (820, -60, 150, "#fbe7c6")]:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    draw.rounded_rectangle([980, 150, 1330, 380], radius=28, fill="#ffffff")  # a screen with a video call
    draw.rounded_rectangle([1005, 175, 1305, 330], radius=16, fill="#0f766e")
    draw.ellipse([1120, 205, 1190, 275], fill="#f6d7b0")
    draw.pieslice([1090, 262, 1220, 372], 180, 360, fill="#f6d7b0")
    picture = picture.filter(ImageFilter.GaussianBlur(0.6))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", optimize=True)
    return OrgImage.objects.create(
        title=HEADER_TITLE, collection=organization.collection,
        description="Illustratie van een videogesprek met een arts op een scherm",
        file=ImageFile(io.BytesIO(buffer.getvalue()), name="demo-header.png"),
    )


def publish(page):
    page.save_revision().publish()


@transaction.atomic
def demo_site(organization, widgets=None):
    """Create (once) the demo page set in Dutch and English and make it the live web page."""
    with organization_scope(organization):
        home = OrganizationHomePage.objects.get(pk=organization.root_page_id)
        main = MainPage.objects.child_of(home).filter(slug=DEMO_SLUG).first()
        if main is None:
            main = build_page_set(home, header_image(organization), widgets)
        services.page_set_make_live(organization=organization, actor=None, main_page=main)
    return main


def build_page_set(home, image, widgets):
    nl, en = Locale.objects.get(language_code="nl"), Locale.objects.get(language_code="en")
    main = home.add_child(instance=MainPage(
        title=NL["title"], slug=DEMO_SLUG, locale=nl, theme="clinic", sections=main_sections(NL, image, widgets),
        search_description="Videoconsulten met uw huisarts: direct binnenlopen of een afspraak maken.", **COLOURS,
    ))
    publish(main)
    main_en = main.copy_for_translation(en, copy_parents=True)
    main_en.title, main_en.slug, main_en.sections = EN["title"], "gp-practice", main_sections(EN, image, widgets)
    main_en.search_description = "Video consultations with your GP: walk in now or book a time."
    publish(main_en)
    for (title, slug, heading, text), (title_en, slug_en, heading_en, text_en) in zip(
            NL["follow_ups"], EN["follow_ups"], strict=True):
        follow_up = main.add_child(instance=FollowUpPage(title=title, slug=slug, locale=nl,
                                                         sections=follow_up_sections(heading, text)))
        publish(follow_up)
        translated = follow_up.copy_for_translation(en)
        translated.title, translated.slug = title_en, slug_en
        translated.sections = follow_up_sections(heading_en, text_en)
        publish(translated)
    return main
