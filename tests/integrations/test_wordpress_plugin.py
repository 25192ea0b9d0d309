"""The WordPress plugin (integrations/wordpress/openconsult/, F-WIDGET-4), run by php-cli under a stub of WordPress.

`make test` installs php-cli from Debian when it is missing; without it these tests fail (they never skip).
tests/integrations/wp_stub.php has the WordPress functions the plugin calls; wp_run.php loads the plugin
the way WordPress does, renders post texts through do_shortcode and reports what was enqueued.
"""

import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.loader import render_to_string

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DIR = ROOT / "integrations" / "wordpress" / "openconsult"
PLUGIN = PLUGIN_DIR / "openconsult.php"
HERE = Path(__file__).resolve().parent
ADDRESS = "https://demo.openconsult.example"
KEY = "Zx9_k-3Lq0aBcDeFgHiJkL"  # like secrets.token_urlsafe(16)
ALLOW = "camera; microphone; display-capture; fullscreen"


def run(content=(), *, address=ADDRESS, editor=False, sanitize=(), is_admin=False):
    options = {"openconsult_address": address} if address is not None else {}
    request = {"plugin": str(PLUGIN), "options": options, "caps": ["edit_posts"] if editor else [],
               "is_admin": is_admin, "content": list(content), "sanitize": list(sanitize)}
    result = subprocess.run(["php", str(HERE / "wp_run.php")], input=json.dumps(request), capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0 and not result.stderr, result.stdout + result.stderr
    return json.loads(result.stdout)


class Tags(HTMLParser):
    """Start tags with their attributes, and comments."""

    def __init__(self, html):
        super().__init__()
        self.tags, self.comments = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data.strip())


def iframes(html):
    return [attrs for tag, attrs in Tags(html).tags if tag == "iframe"]


def test_every_php_file_is_valid_php():
    files = sorted(PLUGIN_DIR.rglob("*.php")) + sorted(HERE.glob("*.php"))
    assert PLUGIN in files and len(files) >= 5
    for path in files:
        result = subprocess.run(["php", "-l", str(path)], capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 0, f"{path}: {result.stdout}{result.stderr}"


def test_plugin_header_readme_and_licence():
    header = PLUGIN.read_text()[:1500]
    for line in ("Plugin Name:", "License:           GPL-2.0-or-later", "Text Domain:       openconsult",
                 "Requires at least:"):
        assert line in header
    readme_txt = (PLUGIN_DIR / "readme.txt").read_text()
    assert readme_txt.startswith("=== OpenConsult widgets ===") and "Stable tag: 1.0.0" in readme_txt
    assert "== Installation ==" in readme_txt and "[openconsult widget=" in readme_txt
    readme = (PLUGIN_DIR / "README.md").read_text()
    for text in ("wp-content/plugins", "Settings → OpenConsult", 'widget="walk-in:', 'widget="booking:', "edit screen"):
        assert text in readme


def test_loading_registers_the_shortcode_and_admin_hooks_only_in_the_admin():
    public = run()["hooks"]
    assert public["shortcodes"] == ["openconsult"] and "admin_menu" not in public["actions"]
    admin = run(is_admin=True)["hooks"]
    assert {"admin_menu", "admin_init", "admin_notices"} <= set(admin["actions"])


def test_walk_in_shortcode_outputs_the_embed_iframe():
    html = run([f'<p>Walk in:</p>[openconsult widget="walk-in:{KEY}"]'])["content"][0]
    assert html == (
        f'<p>Walk in:</p><iframe src="{ADDRESS}/widgets/walk-in/{KEY}/" data-openconsult-widget '
        f'title="Walk-in consultation" allow="{ALLOW}" loading="lazy" '
        'style="width: 100%; min-height: 420px; border: 0;"></iframe>'
    )


def test_booking_shortcode_with_height_and_title_and_a_full_widget_address():
    answer = run([
        f'[openconsult widget="booking:{KEY}" height="700" title="Book with Dr. Jansen"]',
        f"[openconsult widget='https://other.openconsult.example/widgets/walk-in/{KEY}/?a=\"><b>' height=1]",
        f'[openconsult widget="booking:{KEY}" height="lots"]',
    ], address="https://demo.openconsult.example/nl/")  # saved before the settings page trimmed it: still works
    booking, full_address, bad_height = (iframes(html)[0] for html in answer["content"])
    assert booking["src"] == f"{ADDRESS}/widgets/booking/{KEY}/"
    assert booking["title"] == "Book with Dr. Jansen" and booking["allow"] == ALLOW
    assert booking["style"] == "width: 100%; min-height: 700px; border: 0;"
    assert booking["loading"] == "lazy" and "data-openconsult-widget" in booking
    # A full address is taken from its own host, without anything after the key; heights stay sensible.
    assert full_address["src"] == f"https://other.openconsult.example/widgets/walk-in/{KEY}/"
    assert full_address["title"] == "Walk-in consultation" and "min-height: 200px;" in full_address["style"]
    assert "min-height: 420px;" in bad_height["style"]


def test_the_resize_script_is_enqueued_once_per_organisation():
    answer = run([
        f'[openconsult widget="walk-in:{KEY}"][openconsult widget="booking:{KEY}"]',
        f'[openconsult widget="{ADDRESS}/widgets/booking/{KEY}/"]',
        f'[openconsult widget="https://other.openconsult.example/widgets/booking/{KEY}/"]',
    ])
    assert len(iframes("".join(answer["content"]))) == 4
    assert [(s["handle"], s["src"]) for s in answer["scripts"]] == [
        ("openconsult-embed", f"{ADDRESS}/static/widgets/embed.js"),
        (answer["scripts"][1]["handle"], "https://other.openconsult.example/static/widgets/embed.js"),
    ]
    assert answer["scripts"][1]["handle"].startswith("openconsult-embed-")
    assert answer["scripts"][0]["args"] == {"in_footer": True, "strategy": "async"}
    assert run(["<p>No widget here.</p>"])["scripts"] == []


HOSTILE_WIDGET = """[openconsult widget='walk-in:x" onload="alert(1)']"""


def test_a_hostile_widget_value_gives_only_a_comment_to_visitors():
    answer = run([HOSTILE_WIDGET])
    html = answer["content"][0]
    assert html == "<!-- OpenConsult: unknown widget -->"
    assert answer["scripts"] == []


def test_editors_see_a_visible_escaped_hint():
    html = run([HOSTILE_WIDGET], editor=True)["content"][0]
    parsed = Tags(html)
    assert parsed.comments == ["OpenConsult: unknown widget"]
    assert [tag for tag, _ in parsed.tags] == ["p", "strong"]
    assert 'widget=&quot;walk-in:KEY&quot;' in html and "onload" not in html and "alert" not in html


def test_a_hostile_title_is_escaped():
    html = run([f"""[openconsult widget="walk-in:{KEY}" title='x" onload="alert(1)' height='9"><script>']"""])[
        "content"][0]
    assert 'title="x&quot; onload=&quot;alert(1)"' in html and "<script" not in html
    (frame,) = iframes(html)
    assert frame["title"] == 'x" onload="alert(1)' and "onload" not in frame
    assert set(frame) == {"src", "data-openconsult-widget", "title", "allow", "loading", "style"}


@pytest.mark.parametrize("widget", [
    f"chat:{KEY}",                                  # no such kind
    "walk-in:short",                                # not a key
    f"walk-in:{KEY}/../../admin",
    f"{ADDRESS}/widgets/chat/{KEY}/",
    f"{ADDRESS}/admin/widgets/walk-in/{KEY}/",
    f"javascript://demo.openconsult.example/widgets/walk-in/{KEY}/",
    f"https://user:pass@evil.example/widgets/walk-in/{KEY}/",
    "",
])
def test_unknown_widgets_give_the_error_comment(widget):
    answer = run([f'[openconsult widget="{widget}"]', "[openconsult]"], editor=True)
    for html in answer["content"]:
        assert html.startswith("<!-- OpenConsult: unknown widget -->") and "<iframe" not in html
    assert answer["scripts"] == []


def test_without_an_organisation_address_editors_are_told_to_set_it():
    for address in (None, "", "javascript:alert(1)"):  # the last one as if stored around the settings page
        visitor = run([f'[openconsult widget="walk-in:{KEY}"]'], address=address)
        comment = "<!-- OpenConsult: the organisation address is not set (Settings > OpenConsult) -->"
        assert visitor["content"] == [comment]
        editor = run([f'[openconsult widget="walk-in:{KEY}"]'], address=address, editor=True)["content"][0]
        assert "Settings → OpenConsult" in editor and "<iframe" not in editor
    # A full widget address needs no setting.
    assert iframes(run([f'[openconsult widget="{ADDRESS}/widgets/walk-in/{KEY}/"]'], address=None)["content"][0])


def test_settings_keep_only_the_organisations_address():
    answer = run(sanitize=[
        "https://demo.openconsult.example/nl/", " HTTPS://Demo.OpenConsult.example:8443 ", "",
        "javascript:alert(1)", "demo.openconsult.example", 'https://demo.openconsult.example"><script>',
    ], address="https://previous.openconsult.example")
    assert answer["sanitized"] == [
        "https://demo.openconsult.example", "https://demo.openconsult.example:8443", "",
        "https://previous.openconsult.example", "https://demo.openconsult.example",
        "https://previous.openconsult.example",
    ]
    assert [e["code"] for e in answer["settings_errors"]] == ["openconsult_invalid_address"] * 2


@pytest.mark.django_db
def test_same_iframe_as_the_embed_code_in_the_openconsult_admin(alpha):
    """The plugin and the admin's copy-paste snippet (widgets/includes/embed_iframe.html) stay in step."""
    from orgs.scoping import organization_scope
    from widgets.models import BookingWidget, WalkInWidget

    with organization_scope(alpha):
        for model, kind in ((WalkInWidget, "walk-in"), (BookingWidget, "booking")):
            widget = model.objects.create(organization=alpha, name="Front desk", title="Walk in now")
            snippet = render_to_string("widgets/includes/embed_iframe.html", {"widget": widget})
            answer = run([f'[openconsult widget="{kind}:{widget.key}" title="Walk in now"]'],
                         address=alpha.base_url)
            assert iframes(answer["content"][0]) == iframes(snippet)
            scripts = [attrs["src"] for tag, attrs in Tags(snippet).tags if tag == "script"]
            assert [s["src"] for s in answer["scripts"]] == scripts
