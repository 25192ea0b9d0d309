"""`{{ text|chat_text }}`: a chat message's plain text for server-rendered history.

Everything is escaped; only http(s):// and www. addresses become anchors (rel="noopener noreferrer nofollow",
new tab), the same rule as chat.js. Not Django's urlize: it also links bare domains and email addresses, and a
message should link only what the sender clearly wrote as a web address. Line breaks are kept by CSS
(white-space: pre-wrap on .chat-text).
"""

import re
import unicodedata

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()

# What chat.js links too: http(s)://… or www.…, up to whitespace, not ending in sentence punctuation.
LINK = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
SCHEME = re.compile(r"(?i)^https?://")
AUTHORITY_END = re.compile(r"[/?#\\]")


def linkable(address):
    """Whether an address may become a link (chat.js `linkable` is the same rule): only one that shows where it
    goes. Not with userinfo, `@` before the host (www.bank.com@evil.test goes to evil.test), and not with invisible
    format characters (Unicode category Cf: U+202E turns the shown text around). Such text stays plain."""
    if any(unicodedata.category(character) == "Cf" for character in address):
        return False
    authority = AUTHORITY_END.split(SCHEME.sub("", address), maxsplit=1)[0]
    return "@" not in authority


def _pieces(text):
    """(piece,) tuples for format_html_join: plain runs as text, web addresses as anchors, all escaped."""
    last = 0
    for match in LINK.finditer(text):
        address = match.group(0)
        if not linkable(address):
            continue  # stays in the plain run
        yield (text[last:match.start()],)
        href = address if address.lower().startswith(("http://", "https://")) else "https://" + address
        yield (format_html('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>', href, address),)
        last = match.end()
    yield (text[last:],)


@register.filter
def chat_text(value):
    """Plain text → escaped HTML with anchors for web addresses. format_html escapes every plain piece and
    every href/label (no mark_safe on user content anywhere)."""
    return format_html_join("", "{}", _pieces("" if value is None else str(value)))
