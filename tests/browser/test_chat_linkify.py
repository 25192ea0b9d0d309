"""chat.js `linkified` in Chromium follows the same rule as the template filter (tests/chat/test_review_linkify.py,
security review of #9): no link for an address with userinfo or with an invisible format character."""

import pytest

from tests.chat.test_review_linkify import CASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_chat_js_links_what_the_template_filter_links(page, url_for):
    page.goto(url_for(None, "/static/chat/chat.css"))  # the app's origin, a file without a page's CSP
    found = page.evaluate("""async (texts) => {
        const { linkified } = await import("/static/chat/chat.js");
        return texts.map((text) => {
            const box = document.createElement("div");
            box.append(linkified(text));
            return { hrefs: [...box.querySelectorAll("a")].map((a) => a.getAttribute("href")),
                     text: box.textContent };
        });
    }""", [text for text, _hrefs in CASES])
    for (text, hrefs), result in zip(CASES, found, strict=True):
        assert result == {"hrefs": hrefs, "text": text}, text
