"""nh3 cleaning of organisation-written HTML: hostile markup removed, ordinary rich text kept."""

import pytest
from django.template import Context, Template
from wagtail.rich_text import RichText

from cms.html_sanitizer import clean_html, clean_text

HOSTILE = [
    # (payload, text that must not survive)
    ("<script>alert(1)</script><p>hi</p>", "alert"),
    ("<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "evil"),
    ('<p onclick="alert(1)">hi</p>', "onclick"),
    ('<img src="/media/x.png" onerror="alert(1)" alt="x">', "onerror"),
    ('<a href="javascript:alert(1)">x</a>', "javascript"),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', "alert"),
    ('<a href="java&#x09;script:alert(1)">x</a>', "alert"),
    ('<a href="&#106;avascript:alert(1)">x</a>', "alert"),
    ('<a href="vbscript:msgbox(1)">x</a>', "msgbox"),
    ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "data:"),
    ('<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="x">', "data:"),
    ("<svg onload=alert(1)><circle r=1></circle></svg>", "svg"),
    ('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>', "javascript"),
    ("<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>", "javascript"),
    ('<p style="background:url(javascript:alert(1))">x</p>', "style"),
    ('<p style="position:fixed;inset:0">x</p>', "fixed"),
    ("<style>body{display:none}</style><p>x</p>", "display"),
    ('<iframe src="https://evil.example"></iframe>', "evil"),
    ('<object data="https://evil.example/x.swf"></object>', "evil"),
    ('<embed src="https://evil.example/x.swf">', "evil"),
    ('<form action="https://evil.example"><input name="pw"></form>', "evil"),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example">', "evil"),
    ('<link rel="stylesheet" href="https://evil.example/x.css">', "evil"),
    ('<base href="https://evil.example/">', "evil"),
    ('<a href="https://ok.example" target="_blank" onmouseover="alert(1)">x</a>', "onmouseover"),
    ('<p class="evil-overlay">x</p>', "evil"),
    ('<img class="richtext-image evil" src="/media/x.png" alt="">', "evil"),
    ("<!--<script>alert(1)</script>--><p>x</p>", "alert"),
    ("<template><script>alert(1)</script></template>", "alert"),
    ("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></p></noscript>", "onerror"),
    ('<details open ontoggle="alert(1)"><summary>x</summary></details>', "ontoggle"),
    ('<p id="login-form">x</p>', "login-form"),
]


@pytest.mark.parametrize(("payload", "marker"), HOSTILE, ids=[p[:50] for p, _ in HOSTILE])
def test_hostile_html_is_removed(payload, marker):
    cleaned = clean_html(payload)
    assert marker.lower() not in cleaned.lower()
    assert "<script" not in cleaned.lower()
    assert clean_html(cleaned) == cleaned


def test_rich_text_is_kept():
    html = (
        "<h2>Welcome</h2><p>See us <strong>by video</strong>, <em>from home</em>.</p>"
        "<h3>Hours</h3><ol><li>Monday</li><li>Tuesday</li></ol><ul><li>Walk in</li></ul>"
        '<p><a href="https://example.org/info" rel="noopener noreferrer">more</a><br>'
        '<a href="mailto:desk@example.org" rel="noopener noreferrer">mail</a> '
        '<a href="tel:+31201234567" rel="noopener noreferrer">call</a> '
        '<a href="/documents/3/leaflet.pdf" rel="noopener noreferrer">leaflet</a></p>'
        '<img class="richtext-image left" src="/media/images/a.width-800.png" alt="Our practice" '
        'width="800" height="600"><h4>Small print</h4>'
    )
    assert clean_html(html) == html


def test_links_get_rel_added():
    assert clean_html('<a href="https://example.org">x</a>') == (
        '<a href="https://example.org" rel="noopener noreferrer">x</a>'
    )


def test_clean_text_keeps_only_text():
    assert clean_text("<p>Hello <b>there</b><script>alert(1)</script></p>") == "Hello there"
    assert clean_text("1 &lt; 2 &amp; <i>3</i>") == "1 < 2 & 3"
    assert clean_text(None) == ""


def test_clean_text_output_is_escaped_by_templates():
    html = Template("{{ text }}").render(Context({"text": clean_text("&lt;script&gt;alert(1)&lt;/script&gt;")}))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_clean_html_filter():
    html = Template("{% load sanitize %}{{ text|clean_html }}").render(
        Context({"text": '<p onclick="x()">Hi <script>alert(1)</script><em>you</em></p>'})
    )
    assert html == "<p>Hi <em>you</em></p>"


def test_clean_richtext_filter_accepts_strings_and_rich_text_values():
    template = Template("{% load sanitize %}{{ body|clean_richtext }}")
    hostile = '<p>Hi<img src=x onerror="alert(1)" alt=""></p><script>alert(2)</script>'
    for value in (hostile, RichText(hostile)):
        assert template.render(Context({"body": value})) == '<p>Hi<img src="x" alt=""></p>'
    assert template.render(Context({"body": None})) == ""


@pytest.mark.django_db
def test_clean_richtext_expands_wagtail_links_then_cleans(alpha):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cms.models import OrgDocument
    from orgs.scoping import organization_scope, scopes_disabled

    with scopes_disabled():
        document = OrgDocument.objects.create(
            title="Leaflet", file=SimpleUploadedFile("leaflet.pdf", b"%PDF-1.4"), collection=alpha.collection
        )
    body = f'<p><a linktype="document" id="{document.pk}">leaflet</a><a href="javascript:x()">bad</a></p>'
    with organization_scope(alpha):
        html = Template("{% load sanitize %}{{ body|clean_richtext }}").render(Context({"body": body}))
    assert f'href="{document.url}"' in html
    assert "javascript" not in html
    assert "linktype" not in html
