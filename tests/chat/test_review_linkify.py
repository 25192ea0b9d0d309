"""Security review of the chat (#9), finding 7: a web address that does not show where it goes stays plain text.

Userinfo (`@` before the host: www.bank.com@evil.test goes to evil.test) or an invisible format character (Unicode
category Cf, e.g. U+202E RIGHT-TO-LEFT OVERRIDE, which turns the shown text around) make no link. The template
filter (chat/templatetags/chat_text.py) and chat.js (`linkified`, tested on the same cases in
tests/browser/test_chat_linkify.py) follow one rule.
"""

import pytest
from django.utils.html import escape

from chat.templatetags.chat_text import chat_text

# (message text, the hrefs of the links it makes)
CASES = [
    ("Log in at www.bank.com@evil.test now", []),
    ("Log in at https://www.bank.com@evil.test/login now", []),
    ("Log in at http://user:pass@evil.test now", []),
    ("Invoice: https://example.org/\u202etxt.exe", []),
    ("Invoice: www.exa\u200bmple.org", []),
    ("Soft\u00adhyphen: https://example.org/a\u00adb", []),
    # An @ after the host (a path, a query) does not change where the link goes: still a link.
    ("Profile https://medium.com/@practice and www.example.org/?to=a@b.test", [
        "https://medium.com/@practice", "https://www.example.org/?to=a@b.test"]),
    ("Plain https://example.org/results and www.example.nl/x.", [
        "https://example.org/results", "https://www.example.nl/x"]),
    # A refused address does not swallow a good one after it.
    ("www.bank.com@evil.test or www.bank.com", ["https://www.bank.com"]),
]


def _hrefs(html):
    import re

    return re.findall(r'<a href="([^"]*)"', html)


@pytest.mark.parametrize("text, hrefs", CASES)
def test_the_template_filter_links_only_addresses_that_show_where_they_go(text, hrefs):
    html = str(chat_text(text))
    assert _hrefs(html) == [escape(href) for href in hrefs]
    if not hrefs:
        assert html == escape(text)  # nothing dropped: the whole text stays, as plain text
