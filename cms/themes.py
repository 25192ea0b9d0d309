"""Themes are folders: themes/<name>/templates/base.html (+ static/site.css). Adding a folder adds a choice."""

import functools

from django.conf import settings
from django.utils.translation import gettext_lazy as _

DEFAULT_THEME = "default"

# Names for the editor; a theme folder without an entry here is offered under its folder name.
THEME_LABELS = {
    "default": _("Default: light and clean, image header across the page"),
    "clinic": _("Clinic: warm colours, serif headings, image beside the heading"),
}


@functools.cache  # read once per process: a new theme folder comes with a deploy
def theme_names():
    themes_dir = settings.BASE_DIR / "themes"
    return sorted(p.parent.parent.name for p in themes_dir.glob("*/templates/base.html"))


def theme_choices():
    return [(name, THEME_LABELS.get(name, name.replace("-", " ").capitalize())) for name in theme_names()]


def theme_base_template(name):
    """The theme's base template, falling back to the default theme for a folder that was removed."""
    return f"{name if name in theme_names() else DEFAULT_THEME}/templates/base.html"
