"""`{{ text|chat_text }}`: a chat message's plain text for server-rendered history.

Everything is escaped; only http(s):// and www. addresses become anchors (rel="noopener noreferrer nofollow",
new tab), the same rule as chat.js. Not Django's urlize: it also links bare domains and email addresses, and a
message should link only what the sender clearly wrote as a web address. Line breaks are kept by CSS
(white-space: pre-wrap on .chat-text).
"""

import re

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()

# What chat.js links too: http(s)://… or www.…, up to whitespace, not ending in sentence punctuation.
LINK = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def _pieces(text):
    """(piece,) tuples for format_html_join: plain runs as text, web addresses as anchors, all escaped."""
    last = 0
    for match in LINK.finditer(text):
        yield (text[last:match.start()],)
        address = match.group(0)
        href = address if address.lower().startswith(("http://", "https://")) else "https://" + address
        yield (format_html('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>', href, address),)
        last = match.end()
    yield (text[last:],)


@register.filter
def chat_text(value):
    """Plain text → escaped HTML with anchors for web addresses. format_html escapes every plain piece and
    every href/label (no mark_safe on user content anywhere)."""
    return format_html_join("", "{}", _pieces("" if value is None else str(value)))
