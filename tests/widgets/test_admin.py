"""The widget wizard in the admin (F-WIDGET-1): organisation admins only, their own widgets only."""

import re

import pytest

from orgs.scoping import scopes_disabled
from tests.conftest import signed_in_client
from tests.widgets.conftest import make_booking, make_walk_in
from widgets.models import BookingWidget, WalkInWidget

pytestmark = pytest.mark.django_db

BASE = "/admin/snippets/widgets/walkinwidget/"


def form_data(**overrides):
    data = {
        "name": "Front desk", "title": "Walk in", "text": "<p>Hello</p>", "absent_text": "", "title_colour": "#112233",
        "text_colour": "#111111", "background_colour": "#ffffff", "button_colour": "#1d4ed8",
        "button_text_colour": "#ffffff", "ask_date_of_birth": "required", "ask_email": "optional",
        "ask_phone": "off", "ask_client_number": "off", "terms_text": "", "terms_url": "", "custom_css": "",
    }
    data.update(overrides)
    return data


def test_org_admin_creates_a_walk_in_widget_for_their_organisation(alpha):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    gp_department = alpha.departments_by_name["gp"]
    page = admin.get(BASE + "add/")
    assert page.status_code == 200
    body = page.content.decode()
    for step in ("1. Name and departments", "2. Texts and colours", "3. Visitor details", "4. Images and style"):
        assert step in body
    assert "Save the widget first" in body
    response = admin.post(BASE + "add/", form_data(departments=[gp_department.pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    with scopes_disabled():
        widget = WalkInWidget.objects.get()
        assert widget.organization == alpha and list(widget.departments.all()) == [gp_department]
    assert widget.ask_date_of_birth == "required" and len(widget.key) >= 22


def test_edit_screen_shows_the_code_to_copy(alpha):
    widget = make_walk_in(alpha)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    body = admin.get(f"{BASE}edit/{widget.pk}/").content.decode()
    page_url = f"http://alpha.localhost/widgets/walk-in/{widget.key}/"
    assert page_url in body
    iframe = re.search(r'<textarea id="widget-iframe-code"[^>]*>([^<]+)</textarea>', body).group(1)
    assert "&lt;iframe" in iframe and 'allow=&quot;camera; microphone; display-capture; fullscreen&quot;' in iframe
    assert "data-openconsult-widget" in iframe
    script = re.search(r'<textarea id="widget-script-code"[^>]*>([^<]+)</textarea>', body).group(1)
    assert "/static/widgets/embed.js" in script
    assert body.count('data-action="w-clipboard#copy"') == 2


def test_unsafe_css_is_refused_with_the_reason(alpha):
    widget = make_walk_in(alpha)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    response = admin.post(f"{BASE}edit/{widget.pk}/", form_data(
        name=widget.name, custom_css="@import url(https://evil.example/x.css);\n.widget-title { color: red; }"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "@import" in body and "error" in body.lower()
    with scopes_disabled():
        widget.refresh_from_db()
    assert widget.custom_css == ""
    ok = admin.post(f"{BASE}edit/{widget.pk}/", form_data(name=widget.name,
                                                          custom_css=".widget-title { color: #aa0000; }"))
    assert ok.status_code == 302
    page = signed_in_client(alpha.people["admin"].user, alpha).get(widget.get_absolute_url())
    assert ".widget-title" in page.content.decode()


def test_bad_colours_and_terms_without_text_are_refused(alpha):
    widget = make_walk_in(alpha)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    response = admin.post(f"{BASE}edit/{widget.pk}/", form_data(name=widget.name, title_colour="red",
                                                                ask_accept_terms="on"))
    body = response.content.decode()
    assert response.status_code == 200 and "Enter a colour as #rrggbb." in body
    assert "Write the terms, or link to them" in body


def test_department_choices_are_the_organisations_own(alpha, beta):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    body = admin.get(BASE + "add/").content.decode()
    assert f'value="{alpha.departments_by_name["gp"].pk}"' in body
    theirs = beta.departments_by_name["gp"]
    response = admin.post(BASE + "add/", form_data(departments=[theirs.pk]))
    assert response.status_code == 200
    with scopes_disabled():
        assert WalkInWidget.objects.count() == 0


def test_list_and_chooser_show_only_the_organisations_widgets(alpha, beta):
    make_walk_in(alpha, name="Alpha desk")
    make_walk_in(beta, name="Beta desk")
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    listing = admin.get(BASE).content.decode()
    assert "Alpha desk" in listing and "Beta desk" not in listing
    chooser = admin.get("/admin/snippets/choose/widgets/walkinwidget/").content.decode()
    assert "Alpha desk" in chooser and "Beta desk" not in chooser


def test_another_organisations_widget_is_a_404_everywhere(alpha, beta):
    theirs = make_walk_in(beta)
    theirs_booking = make_booking(beta)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    for url in (f"{BASE}edit/{theirs.pk}/", f"{BASE}delete/{theirs.pk}/", f"{BASE}preview/{theirs.pk}/",
                f"{BASE}usage/{theirs.pk}/", f"{BASE}history/{theirs.pk}/",
                f"/admin/snippets/choose/widgets/walkinwidget/chosen/{theirs.pk}/",
                f"/admin/snippets/widgets/bookingwidget/edit/{theirs_booking.pk}/"):
        assert admin.get(url).status_code == 404, url
    assert admin.post(f"{BASE}delete/{theirs.pk}/").status_code == 404
    assert admin.post(f"{BASE}edit/{theirs.pk}/", form_data(name="Taken over")).status_code == 404
    with scopes_disabled():
        theirs.refresh_from_db()
    assert theirs.name == "Walk-in"


def test_the_chooser_cannot_create_widgets(alpha):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    admin.post("/admin/snippets/choose/widgets/walkinwidget/create/", form_data())
    with scopes_disabled():
        assert WalkInWidget.objects.count() == 0


def test_employees_who_are_not_org_admins_cannot_reach_the_widgets(alpha):
    widget = make_walk_in(alpha)
    for key in ("gp", "deptadmin"):
        client = signed_in_client(alpha.people[key].user, alpha)
        for url in (BASE, f"{BASE}edit/{widget.pk}/", "/admin/snippets/choose/widgets/walkinwidget/"):
            assert client.get(url).status_code in (302, 404), (key, url)
            assert client.get(url).status_code != 200


def test_menu_has_widgets_for_org_admins(alpha):
    body = signed_in_client(alpha.people["admin"].user, alpha).get("/admin/").content.decode()
    assert "Widgets" in body and "Walk-in widgets" in body and "Booking widgets" in body


def test_live_preview_shows_the_widget_as_visitors_see_it(alpha):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    url = BASE + "preview/"
    assert admin.post(url, form_data(title="Preview of my widget")).json()["is_valid"] is True
    body = admin.get(url).content.decode()
    assert "Preview of my widget" in body and "--w-title: #112233" in body


def test_booking_widget_wizard_has_days_ahead(alpha):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    data = form_data(days_ahead=21)
    data.pop("absent_text")
    response = admin.post("/admin/snippets/widgets/bookingwidget/add/", data)
    assert response.status_code == 302
    with scopes_disabled():
        assert BookingWidget.objects.get().days_ahead == 21


def test_organisations_made_before_the_widgets_get_the_permissions_on_migrate(alpha):
    from django.apps import apps

    from widgets.apps import grant_widget_permissions

    group = alpha.admins_group
    group.permissions.remove(*group.permissions.filter(content_type__app_label="widgets"))
    assert not signed_in_client(alpha.people["admin"].user, alpha).get(BASE).status_code == 200
    grant_widget_permissions(apps.get_app_config("widgets"))
    assert group.permissions.filter(content_type__app_label="widgets").count() == 8
    assert signed_in_client(alpha.people["admin"].user, alpha).get(BASE).status_code == 200


def test_colours_without_enough_contrast_are_refused(alpha):
    widget = make_walk_in(alpha)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    response = admin.post(f"{BASE}edit/{widget.pk}/", form_data(
        name=widget.name, text_colour="#bbbbbb", button_colour="#ffff00", button_text_colour="#ffffff"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "The text colour #bbbbbb on the background colour #ffffff has a contrast ratio of" in body
    assert "The button text colour #ffffff on the background colour #ffff00" in body


def test_widget_changes_are_in_the_audit_log(alpha):
    from orgs.models import AuditEvent

    admin = signed_in_client(alpha.people["admin"].user, alpha)
    assert admin.post(BASE + "add/", form_data()).status_code == 302
    with scopes_disabled():
        widget = WalkInWidget.objects.get()
    assert admin.post(f"{BASE}edit/{widget.pk}/", form_data(title="Walk in today")).status_code == 302
    assert admin.post(f"{BASE}delete/{widget.pk}/").status_code == 302
    with scopes_disabled():
        events = list(AuditEvent.objects.filter(organization=alpha, target_type="walkinwidget").order_by("id"))
    assert [e.action for e in events] == ["walkinwidget.create", "walkinwidget.update", "walkinwidget.delete"]
    assert events[1].changes["title"] == ["Walk in", "Walk in today"]
    assert events[0].action_label() == "Walk-in widget added"
