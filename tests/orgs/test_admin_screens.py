"""The organisation admin's screens, through HTTP: departments, employees, settings, plan, audit log.

Covers F-ORG-1, F-ORG-2, F-ORG-3, F-ORG-5, F-ORG-6 and F-AUTH-5 (audit).
"""

import pytest
from django.core import mail

from accounts.models import User
from orgs.models import AuditEvent, Department, Membership, Organization, Role
from orgs.scoping import scopes_disabled
from tests.conftest import host_client, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(alpha):
    return signed_in_client(alpha.people["admin"].user, alpha)


def audit_actions(org):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))


def test_department_create_edit_delete(alpha, admin_client):
    response = admin_client.post("/admin/departments/new/", {"name": "Dermatology", "colour": "#aa3377"})
    assert response.status_code == 302
    with scopes_disabled():
        department = Department.objects.get(organization=alpha, name="Dermatology")
    response = admin_client.post(f"/admin/departments/edit/{department.pk}/", {"name": "Skin", "colour": "#aa3377"})
    assert response.status_code == 302
    response = admin_client.post(f"/admin/departments/delete/{department.pk}/")
    assert response.status_code == 302
    with scopes_disabled():
        assert not Department.objects.filter(pk=department.pk).exists()
    assert {"department.create", "department.update", "department.delete"} <= set(audit_actions(alpha))


def test_department_form_errors_change_nothing(alpha, admin_client):
    before = audit_actions(alpha)
    response = admin_client.post("/admin/departments/new/", {"name": "Physiotherapy", "colour": "#zzzzzz"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a colour as #rrggbb." in html
    with scopes_disabled():
        assert Department.objects.filter(organization=alpha).count() == 2
    assert audit_actions(alpha) == before


def test_add_employee_sends_invitation_and_audits(alpha, admin_client, django_capture_on_commit_callbacks):
    with scopes_disabled():
        gp_department = alpha.departments_by_name["gp"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/employees/new/", {
            "email": "new.doctor@alpha.test", "first_name": "Nadia", "last_name": "Smits",
            "role": Role.PRACTITIONER, "job_title": "GP", "departments": [gp_department.pk],
        })
    assert response.status_code == 302
    with scopes_disabled():
        membership = Membership.objects.get(organization=alpha, user__email="new.doctor@alpha.test")
        assert list(membership.departments.all()) == [gp_department]
    assert mail.outbox[-1].to == ["new.doctor@alpha.test"]
    assert "employee.create" in audit_actions(alpha)


def test_add_employee_over_the_plan_shows_the_limit(alpha, admin_client):
    alpha.max_users = 4
    alpha.save()
    response = admin_client.post("/admin/employees/new/", {
        "email": "one.too.many@alpha.test", "first_name": "One", "last_name": "Toomany", "role": Role.PRACTITIONER,
    })
    assert response.status_code == 200
    assert "maximum number of users reached" in response.content.decode()
    assert not User.objects.filter(email="one.too.many@alpha.test").exists()


def test_employee_form_offers_only_own_departments(alpha, beta, admin_client):
    html = admin_client.get("/admin/employees/new/").content.decode()
    with scopes_disabled():
        foreign = beta.departments_by_name["gp"]
    assert f'value="{foreign.pk}"' not in html
    response = admin_client.post("/admin/employees/new/", {
        "email": "sneaky@alpha.test", "first_name": "S", "last_name": "N", "role": Role.PRACTITIONER,
        "departments": [foreign.pk],
    })
    assert response.status_code == 200
    assert not User.objects.filter(email="sneaky@alpha.test").exists()


def test_edit_employee_role_departments_and_deactivate(alpha, admin_client):
    gp = alpha.people["gp"]
    with scopes_disabled():
        physio = alpha.departments_by_name["physio"]
    response = admin_client.post(f"/admin/employees/edit/{gp.pk}/", {
        "first_name": "Greta", "last_name": "Pieters", "role": Role.DEPARTMENT_ADMIN, "job_title": "Head",
        "departments": [physio.pk], "is_active": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    with scopes_disabled():
        gp.refresh_from_db()
        assert gp.role == Role.DEPARTMENT_ADMIN and not gp.is_active
        assert list(gp.departments.all()) == [physio]
    gp.user.refresh_from_db()
    assert gp.user.first_name == "Greta"
    event = [e for e in AuditEvent.objects.with_scopes_disabled().filter(action="employee.update")][-1]
    assert event.changes["role"] == [Role.PRACTITIONER, Role.DEPARTMENT_ADMIN]


def test_settings_save_and_audit(alpha, admin_client):
    form = admin_client.get("/admin/organisation/").context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and value is not False}
    data.update({"name": "Alpha Practice", "strict_departments": "on", "anonymise_after_days": "365",
                 "contact_phone": "+31 10 000 0000", "two_factor_policy": "required"})
    data = {k: ("on" if v is True else v) for k, v in data.items() if k in form.fields}
    # Requiring two-factor authentication while having none yourself is refused with the way out, not after.
    refused = admin_client.post("/admin/organisation/", data)
    assert refused.status_code == 200
    assert "Set up two-factor authentication for yourself first" in str(refused.context["form"].errors)
    alpha.refresh_from_db()
    assert alpha.two_factor_policy == "allowed" and not alpha.strict_departments
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(alpha.people["admin"].user, generate_totp_secret())
    response = admin_client.post("/admin/organisation/", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    alpha.refresh_from_db()
    assert alpha.strict_departments and alpha.anonymise_after_days == 365 and alpha.two_factor_policy == "required"
    event = AuditEvent.objects.with_scopes_disabled().filter(action="settings.update").latest("id")
    assert event.changes["strict_departments"] == [False, True]


def test_settings_reject_bad_values_and_change_nothing(alpha, admin_client):
    form = admin_client.get("/admin/organisation/").context["form"]
    data = {k: ("on" if v is True else v) for k, v in form.initial.items()
            if v is not None and v is not False and k in form.fields}
    data.update({"anonymise_after_days": "-3", "website": "not a url"})
    response = admin_client.post("/admin/organisation/", data)
    assert response.status_code == 200
    alpha.refresh_from_db()
    assert alpha.anonymise_after_days is None
    assert "settings.update" not in audit_actions(alpha)


def test_every_advanced_setting_is_on_the_settings_screen_with_help(admin_client):
    html = admin_client.get("/admin/organisation/").content.decode()
    for field in Organization._meta.get_fields():
        if getattr(field, "editable", False) and field.name not in {
            "id", "subdomain", "site", "root_page", "collection", "admins_group", "department_admins_group",
            "is_active", "plan_name", "max_users", "max_departments", "created_at",
        }:
            assert f'name="{field.name}"' in html, f"{field.name} missing from the settings screen"


def test_package_page_shows_plan_use(alpha, admin_client):
    html = admin_client.get("/admin/package/").content.decode()
    assert "4 of 10 users" in html
    assert "2 departments" in html


def test_platform_staff_create_an_organisation_in_the_admin(superuser, django_capture_on_commit_callbacks):
    client = signed_in_client(superuser, None)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/organisations/new/", {
            "name": "Zeta Zorg", "subdomain": "zeta", "plan_name": "Small", "max_users": "3", "max_departments": "",
            "time_zone": "Europe/Amsterdam", "default_language": "nl", "admin_email": "boss@zeta.test",
            "admin_first_name": "Zoë", "admin_last_name": "Zeeman",
        })
    assert response.status_code == 302
    org = Organization.objects.get(subdomain="zeta")
    assert org.site.hostname == "zeta.localhost"
    assert mail.outbox[-1].to == ["boss@zeta.test"]
    response = client.post("/admin/organisations/new/", {
        "name": "Bad", "subdomain": "admin", "plan_name": "x", "max_users": "3", "time_zone": "Europe/Amsterdam",
        "default_language": "nl",
    })
    assert response.status_code == 200 and "reserved" in response.content.decode()


def test_the_chat_tab_points_to_the_chat_widgets_embed_code(admin_client):
    """The settings' Chat tab switches the public chat widget on; its code is on another screen: a link there."""
    from django.urls import reverse

    html = admin_client.get("/admin/organisation/").content.decode()
    chat_tab = html.split('name="public_chat_widget"')[1]
    assert "data-chat-widget-help" in chat_tab
    help_block = chat_tab.split("data-chat-widget-help")[1].split("</div>")[0]
    assert f'<a href="{reverse("chat_widget_admin")}">Widgets → Chat widget</a>' in help_block
    assert admin_client.get(reverse("chat_widget_admin")).status_code == 200


def test_the_logo_comes_from_the_organisations_own_images_and_heads_every_staff_screen(alpha, beta, admin_client):
    """F-ORG-1: the logo is uploaded into (and chosen from) the organisation's images, and shows top-left; an
    image id of another organisation posted into the settings form is refused and changes nothing."""
    from wagtail.images import get_image_model
    from wagtail.images.tests.utils import get_test_image_file

    with scopes_disabled():
        own, foreign = (get_image_model().objects.create(title=f"{org.name} logo", file=get_test_image_file(),
                                                         collection=org.collection) for org in (alpha, beta))
    form = admin_client.get("/admin/organisation/").context["form"]
    data = {k: ("on" if v is True else v) for k, v in form.initial.items()
            if v is not None and v is not False and k in form.fields}
    response = admin_client.post("/admin/organisation/", {**data, "logo": foreign.pk})
    assert response.status_code == 200 and "logo" in response.context["form"].errors
    alpha.refresh_from_db()
    assert alpha.logo_id is None
    response = admin_client.post("/admin/organisation/", {**data, "logo": own.pk})
    assert response.status_code == 302
    alpha.refresh_from_db()
    assert alpha.logo_id == own.pk
    assert "logo" in AuditEvent.objects.with_scopes_disabled().filter(action="settings.update").latest("id").changes
    for path in ("/portal/", "/admin/"):
        html = admin_client.get(path).content.decode()
        assert 'alt="Alpha Practice"' in html and "/images/" in html, f"{path} lacks the logo"
    assert 'class="brand-logo"' in signed_in_client(alpha.people["gp"].user, alpha).get("/portal/").content.decode()
    assert 'class="brand-logo"' in host_client(alpha).get("/accounts/login/").content.decode()
