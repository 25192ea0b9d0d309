"""HTML written by organisations (rich text, widget texts), cleaned with nh3 before it is shown.

One fixed allow-list fit for rich text: paragraphs, headings h2-h4, emphasis, lists, links and images
(with the classes Wagtail's image formats use). Links may use http, https, mailto and tel, or be
relative (`/documents/…`, `/how-it-works/`); nh3 adds rel="noopener noreferrer". No scripts, event
handlers, style attributes, frames, forms, SVG or data: URLs.
"""

import html

import nh3
from django.utils.functional import Promise

TAGS = frozenset(
    {"p", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "sub", "sup", "small", "a", "ul", "ol", "li",
     "br", "hr", "blockquote", "img", "figure", "figcaption", "span", "div"}
)
ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading"},
    "ol": {"start", "reversed"},
    "li": {"value"},
    "*": {"lang", "dir"},
}
# Wagtail's rich-text image formats (left, right, full width) render as classes.
CLASSES = {
    "img": {"richtext-image", "left", "right", "full-width"},
    "figure": {"richtext-image", "left", "right", "full-width"},
}
# Elements whose content goes too, not only the tags: their text is code or hidden, never reading matter.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "iframe", "object", "embed", "noscript",
                                  "svg", "math", "textarea", "select", "title"})
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def source_of(value):
    """The HTML string behind a value: str, lazy translation, or a RichText block value."""
    if value is None:
        return ""
    if isinstance(value, Promise):
        return str(value)
    source = getattr(value, "source", None)  # a RichText value of a RichTextBlock
    return source if isinstance(source, str) else str(value)


def clean_html(value):
    """Rich-text HTML reduced to the allow-list; safe to mark safe and put in a page."""
    return nh3.clean(
        source_of(value),
        tags=set(TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        allowed_classes={tag: set(names) for tag, names in CLASSES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def clean_text(text):
    """Plain text: every tag removed (with the content of scripts and the like), entities decoded.

    The result is text, not HTML: templates escape it as usual ("&lt;" typed by a person stays "<" on screen).
    """
    stripped = nh3.clean(source_of(text), tags=set(), clean_content_tags=set(DROPPED_WITH_CONTENT), strip_comments=True)
    return html.unescape(stripped)
