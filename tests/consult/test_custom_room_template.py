"""The organisation's own HTML in the patient's waiting room and consultation room (F-ORG-6 "custom
consultation room"): shown to clients, cleaned with the project's HTML sanitiser, never to staff in their room."""

import pytest

from consult.models import Consult
from orgs.models import Organization
from orgs.scoping import scopes_disabled
from tests.conftest import signed_in_client
from tests.consult.test_room_entry import _client, _patient
from tests.consult.test_waiting_room_extras import booked, open_link

pytestmark = pytest.mark.django_db

TEMPLATE = (
    '<h2 onclick="steal()">Welcome to Alpha</h2><p style="color:red">Call us on <a href="tel:0101234567" '
    'onmouseover="x()">010 123 45 67</a>.</p><script>alert("hi")</script><style>body{display:none}</style>'
    '<img src="https://example.org/logo.png" alt="Alpha logo" onerror="steal()">'
    '<iframe src="https://evil.example/"></iframe><a href="javascript:steal()">bad link</a>'
)


def _with_template(org, template=TEMPLATE):
    Organization.objects.filter(pk=org.pk).update(custom_room_template=template)
    org.refresh_from_db()


def _notice(html):
    start = html.index("data-org-notice>")
    return html[start:html.index("</div>", start)]


def assert_cleaned(block):
    assert "<h2>Welcome to Alpha</h2>" in block
    assert '<a href="tel:0101234567" rel="noopener noreferrer">010 123 45 67</a>' in block
    assert '<img src="https://example.org/logo.png" alt="Alpha logo">' in block
    for dropped in ("onclick", "onmouseover", "onerror", "style", "<script", "alert", "display:none", "<iframe",
                    "evil.example", "javascript:", "steal"):
        assert dropped not in block, dropped


def test_the_waiting_room_shows_the_template_cleaned(alpha):
    _with_template(alpha)
    _appointment, participant = booked(alpha)
    html = open_link(alpha, participant).get("/c/").content.decode()
    assert 'data-waiting-room' in html
    assert_cleaned(_notice(html))
    assert 'alert("hi")' not in html and "steal()" not in html


def test_the_patients_room_shows_it_and_the_practitioners_room_does_not(alpha):
    _with_template(alpha)
    gp = alpha.people["gp"]
    client = _client(alpha)
    staff = signed_in_client(gp.user, alpha)
    staff.post(f"/portal/clients/{client.pk}/quick-consult/")
    with scopes_disabled():
        consult = Consult.objects.get()
    browser, _participant = _patient(alpha, consult.appointment)
    html = browser.get("/c/room/").content.decode()
    assert_cleaned(_notice(html))
    assert "steal()" not in html
    staff_html = staff.get(f"/portal/room/{consult.appointment_id}/").content.decode()
    assert "data-org-notice" not in staff_html and "Welcome to Alpha" not in staff_html


def test_no_template_no_block(alpha):
    _with_template(alpha, "  \n ")
    _appointment, participant = booked(alpha)
    html = open_link(alpha, participant).get("/c/").content.decode()
    assert "data-org-notice" not in html


def test_the_help_text_says_what_it_does():
    help_text = str(Organization._meta.get_field("custom_room_template").help_text)
    assert "waiting room" in help_text and "consultation room" in help_text and "removed" in help_text
