"""Template helpers for the public web site."""

from django import template

from cms.colours import COLOUR_RE

register = template.Library()


@register.filter
def css_colour(value, default="inherit"):
    """A colour for a CSS custom property: only a #rrggbb value passes (validated on save, checked again)."""
    return value if isinstance(value, str) and COLOUR_RE.match(value) else default
