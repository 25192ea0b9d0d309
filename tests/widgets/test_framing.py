"""Framing headers per page type (F-WIDGET-4, F-WIDGET-5): only widget pages may be framed, by any site or
by the organisation's allow-list; everything else keeps frame-ancestors 'none'."""

import re

import pytest
from django.core.exceptions import ValidationError

from orgs.scoping import scopes_disabled
from tests.conftest import host_client, signed_in_client
from tests.widgets.conftest import make_booking, make_walk_in
from widgets import services
from widgets.framing import frame_ancestors

pytestmark = pytest.mark.django_db


def frame_directive(response):
    return re.search(r"frame-ancestors ([^;]+)", response["Content-Security-Policy"]).group(1).strip()


def test_widget_pages_may_be_framed_by_any_site_without_x_frame_options(alpha, walk_in_widget, booking_widget):
    client = host_client(alpha)
    for url in (walk_in_widget.get_absolute_url(), walk_in_widget.get_absolute_url() + "available/",
                booking_widget.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200
        assert frame_directive(response) == "*"
        assert "X-Frame-Options" not in response
        assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]  # the rest stays strict


def test_the_allow_list_limits_who_may_frame_widgets(alpha, walk_in_widget):
    alpha.widget_allowed_origins = "https://www.alpha-practice.example\nhttp://localhost:8080/\n"
    alpha.full_clean()
    alpha.save()
    response = host_client(alpha).get(walk_in_widget.get_absolute_url())
    assert frame_directive(response) == "'self' https://www.alpha-practice.example http://localhost:8080"
    assert "X-Frame-Options" not in response


def test_the_allow_list_refuses_anything_but_origins(alpha):
    for bad in ("https://example.com/page", "javascript:alert(1)", "https://a.example; script-src *", "example.com"):
        alpha.widget_allowed_origins = bad
        with pytest.raises(ValidationError):
            alpha.full_clean()
    # Stored rows that slipped past validation never reach the header.
    alpha.widget_allowed_origins = "https://ok.example\nhttps://bad.example; script-src *"
    assert frame_ancestors(alpha) == "'self' https://ok.example"


def test_refusals_and_confirmations_are_framable_too(alpha, walk_in_widget):
    client = host_client(alpha)
    response = client.post(walk_in_widget.get_absolute_url(), {"token": "bad"})
    assert response.status_code == 400 and frame_directive(response) == "*"


def test_every_other_page_keeps_frame_ancestors_none(alpha):
    gp = alpha.people["gp"]
    with scopes_disabled():
        gp.walk_in_open = True
        gp.save()
    _appointment, link = services.walk_in_start(widget=make_walk_in(alpha), practitioner_id=gp.pk, details={
        "given_name": "Jan", "last_name": "de Boer", "date_of_birth": None, "email": "", "phone": "",
        "client_number": ""})
    patient = host_client(alpha)
    waiting_room = patient.get(link.replace(alpha.base_url, ""), follow=True)
    assert waiting_room.status_code == 200 and waiting_room.redirect_chain
    pages = {
        "site page": host_client(alpha).get("/", follow=True),
        "login": host_client(alpha).get("/accounts/login/"),
        "portal": signed_in_client(gp.user, alpha).get("/portal/"),
        "portal waiting room": signed_in_client(gp.user, alpha).get("/portal/waiting-room/"),
        "admin": signed_in_client(alpha.people["admin"].user, alpha).get("/admin/"),
        "patient waiting room": waiting_room,
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert frame_directive(response) == "'none'", name
        assert response["X-Frame-Options"] == "DENY", name


def test_admin_live_preview_may_be_framed_by_the_admin_only(alpha):
    widget = make_booking(alpha)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    url = f"/admin/snippets/widgets/bookingwidget/preview/{widget.pk}/"
    assert admin.post(url, {"name": widget.name, "title": "Preview title", "days_ahead": 7,
                            **colour_fields()}).status_code == 200
    response = admin.get(url)
    assert response.status_code == 200 and "Preview title" in response.content.decode()
    assert frame_directive(response) == "'self'" and response["X-Frame-Options"] == "SAMEORIGIN"


def colour_fields():
    return {"title_colour": "#1e3a8a", "text_colour": "#1f2937", "background_colour": "#ffffff",
            "button_colour": "#1d4ed8", "button_text_colour": "#ffffff", "ask_date_of_birth": "off",
            "ask_email": "optional", "ask_phone": "off", "ask_client_number": "off"}
