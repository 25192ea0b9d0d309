"""Creating an organisation's site tree with its preset page set."""

from django.utils.translation import gettext as _
from wagtail.models import Page

from .models import FollowUpPage, MainPage, OrganizationHomePage


def create_site_tree(*, name, slug):
    """Root → home (site root) → preset main page → one follow-up page, all published."""
    root = Page.get_first_root_node()
    home = root.add_child(instance=OrganizationHomePage(title=name, slug=slug))
    main = home.add_child(
        instance=MainPage(
            title=name,
            slug="home",
            body=_(
                "<h2>Welcome</h2><p>See a practitioner by video from home: walk in during opening hours "
                "or book a time that suits you. You need no app and no account.</p>"
            ),
            subtext=_("<p>Need help? Call us or send us an email.</p>"),
        )
    )
    main.save_revision().publish()
    follow_up = main.add_child(
        instance=FollowUpPage(
            title=_("How it works"),
            slug="how-it-works",
            body=_(
                "<ol><li>Choose a practitioner or a time.</li><li>Check your camera and microphone.</li>"
                "<li>Wait in the waiting room until you are called in.</li></ol>"
            ),
        )
    )
    follow_up.save_revision().publish()
    home.published_set = main
    home.save_revision().publish()
    return home
