"""Colours of web pages: the #rrggbb check and the WCAG 2.1 contrast ratio between two colours.

Text must reach 4.5:1 against its background (WCAG 2.1 AA, success criterion 1.4.3) so visitors with
low vision can read it; the editor refuses colours that do not, and says which and what to change.
"""

import math
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_TEXT_CONTRAST = 4.5

validate_colour = RegexValidator(
    COLOUR_RE, gettext_lazy("Enter a colour as # followed by six hexadecimal digits, e.g. #1d4ed8.")
)


def relative_luminance(colour):
    """The relative luminance of a #rrggbb colour, 0 (black) to 1 (white), as WCAG 2.1 defines it."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground, background):
    """(lighter + 0.05) / (darker + 0.05): 1 for equal colours, 21 for black on white."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def contrast_problem(*, foreground, background, what):
    """A sentence for the editor when `foreground` on `background` is too hard to read, else None.

    `what` names the foreground, without article ("text colour", "menu item colour", …).
    """
    if not (foreground and background and COLOUR_RE.match(foreground) and COLOUR_RE.match(background)):
        return None
    ratio = contrast_ratio(foreground, background)
    if ratio >= MIN_TEXT_CONTRAST:
        return None
    if relative_luminance(background) >= relative_luminance(foreground):
        advice = _("Choose a darker %(what)s or a lighter background colour.")
    else:
        advice = _("Choose a lighter %(what)s or a darker background colour.")
    shown_ratio = round(ratio, 2)
    if shown_ratio >= MIN_TEXT_CONTRAST:
        shown_ratio = math.floor(ratio * 100) / 100  # never "4.50:1" for a refused 4.499
    return _(
        "The %(what)s %(foreground)s on the background colour %(background)s has a contrast ratio of "
        "%(ratio).2f:1; at least %(minimum).1f:1 is needed so that everyone can read it. %(advice)s"
    ) % {
        "what": what, "foreground": foreground.lower(), "background": background.lower(),
        "ratio": shown_ratio, "minimum": MIN_TEXT_CONTRAST, "advice": advice % {"what": what},
    }


def check_contrast(*, foreground, background, what):
    problem = contrast_problem(foreground=foreground, background=background, what=what)
    if problem:
        raise ValidationError(problem)
