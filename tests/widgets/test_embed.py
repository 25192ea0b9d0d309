"""The embed snippet for the organisation's own pages, embed.js, and the demo widgets."""

from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from orgs.scoping import scopes_disabled
from tests.widgets.conftest import make_walk_in
from widgets.demo import demo_widgets
from widgets.models import BookingWidget, WalkInWidget

pytestmark = pytest.mark.django_db


def test_embed_include_outputs_the_iframe_and_the_sizing_script(alpha):
    widget = make_walk_in(alpha, title='Walk in "now"')
    html = render_to_string("widgets/includes/embed_iframe.html", {"widget": widget})
    assert f'<iframe src="{alpha.base_url}/widgets/walk-in/{widget.key}/" data-openconsult-widget' in html
    assert 'allow="camera; microphone; display-capture; fullscreen"' in html
    assert 'title="Walk in &quot;now&quot;"' in html
    assert f'<script src="{alpha.base_url}/static/widgets/embed.js" async></script>' in html


def test_embed_include_uses_the_requests_own_address_on_the_organisations_pages(alpha):
    widget = make_walk_in(alpha)
    request = RequestFactory().get("/", HTTP_HOST="alpha.localhost:43210")
    request.organization = alpha
    html = render_to_string("widgets/includes/embed_iframe.html", {"widget": widget, "request": request})
    assert f'src="http://alpha.localhost:43210/widgets/walk-in/{widget.key}/"' in html
    assert 'src="http://alpha.localhost:43210/static/widgets/embed.js"' in html


def test_embed_js_checks_the_sender_window_and_origin():
    source = (Path(__file__).resolve().parents[2] / "widgets/static/widgets/embed.js").read_text()
    assert "frame.contentWindow !== event.source" in source
    assert "originOf(frame.src) !== event.origin" in source
    assert "iframe[data-openconsult-widget]" in source


def test_demo_widgets_are_made_once(alpha):
    first = demo_widgets(alpha)
    second = demo_widgets(alpha)
    assert [w.pk for w in first] == [w.pk for w in second]
    with scopes_disabled():
        assert WalkInWidget.objects.filter(organization=alpha).count() == 1
        assert BookingWidget.objects.filter(organization=alpha).count() == 1
    assert first[0].get_absolute_url().startswith("/widgets/walk-in/")
