"""Creating an organisation's site tree with its preset page set."""

from django.utils.translation import gettext as _
from wagtail.models import Locale, Page

from .models import FollowUpPage, MainPage, OrganizationHomePage


def preset_main_sections():
    """A first web page that already reads well: a welcome, how it works, and who to call."""
    return [
        {"type": "main_text", "value": {
            "title": _("Welcome"),
            "text": _(
                "<p>See a practitioner by video from home: walk in during opening hours or book a time that "
                "suits you. You need no app and no account, only a phone, tablet or computer with a camera.</p>"
            ),
            "text_colour": "", "image": None, "image_position": "right",
        }},
        {"type": "subtext", "value": {
            "title": _("Questions?"),
            "text": _("<p>Need help? Call us or send us an email: our details are at the bottom of this page.</p>"),
        }},
    ]


def preset_follow_up_sections():
    return [
        {"type": "main_text", "value": {
            "title": _("In three steps"),
            "text": _(
                "<ol><li>Choose a practitioner or a time.</li><li>Check your camera and microphone.</li>"
                "<li>Wait in the waiting room until you are called in.</li></ol>"
            ),
            "text_colour": "", "image": None, "image_position": "right",
        }},
    ]


def create_site_tree(*, name, slug):
    """Root → home (site root) → preset main page → one follow-up page, all published.

    The pages are in the active language's locale (org_create activates the organisation's language).
    """
    locale = Locale.get_active()
    root = Page.get_first_root_node()
    home = root.add_child(instance=OrganizationHomePage(title=name, slug=slug, locale=locale))
    main = home.add_child(
        instance=MainPage(title=name, slug="home", locale=locale, sections=preset_main_sections())
    )
    main.save_revision().publish()
    follow_up = main.add_child(
        instance=FollowUpPage(title=_("How it works"), slug="how-it-works", locale=locale,
                              sections=preset_follow_up_sections())
    )
    follow_up.save_revision().publish()
    home.published_set = main
    home.save_revision().publish()
    return home
