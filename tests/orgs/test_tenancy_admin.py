"""Tenancy in the admin and portal: another organisation's objects are 404, lists show only our own.

Covers F-ORG-1, F-ORG-2, F-WEB-6 (media isolation) and the ARCHITECTURE tenancy rules.
"""

import pytest
from django.core.files.base import ContentFile
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file

from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from tests.conftest import host_client, signed_in_client

pytestmark = pytest.mark.django_db


def media_for(org):
    with scopes_disabled():
        image = get_image_model().objects.create(
            title=f"{org.name} logo", file=get_test_image_file(), collection=org.collection
        )
        document = get_document_model().objects.create(
            title=f"{org.name} leaflet", file=ContentFile(b"%PDF-1.4 leaflet", name="leaflet.pdf"),
            collection=org.collection,
        )
    return image, document


def foreign_urls(org):
    """Every admin and portal URL that names one of `org`'s objects."""
    image, document = media_for(org)
    home = org.root_page
    main = home.get_children().first()
    follow_up = main.get_children().first()
    with scopes_disabled():
        department = org.departments_by_name["gp"]
        employee = org.people["gp"]
    urls = []
    for page in (home, main, follow_up):
        urls += [
            f"/admin/pages/{page.pk}/",
            f"/admin/pages/{page.pk}/edit/",
            f"/admin/pages/{page.pk}/delete/",
            f"/admin/pages/{page.pk}/history/",
            f"/admin/pages/{page.pk}/copy/",
            f"/admin/pages/{page.pk}/move/",
            f"/admin/pages/{page.pk}/unpublish/",
            f"/admin/pages/{page.pk}/revisions/",
            f"/admin/pages/{page.pk}/usage/",
            f"/admin/pages/add/cms/followuppage/{page.pk}/",
            f"/admin/choose-page/{page.pk}/",
            f"/admin/api/main/pages/{page.pk}/",
            f"/admin/api/main/pages/?child_of={page.pk}",
            f"/admin/bulk/wagtailcore/page/delete/?id={page.pk}",
            f"/admin/bulk/wagtailcore/page/delete/?id=%2B{page.pk}",
            f"/admin/bulk/wagtailcore/page/unpublish/?id=%20{page.pk}",
            f"/admin/bulk/wagtailcore/page/move/?id={page.pk}%20",
        ]
    urls += [
        f"/admin/images/{image.pk}/",
        f"/admin/images/{image.pk}/delete/",
        f"/admin/images/usage/{image.pk}/",
        f"/admin/images/chooser/chosen/{image.pk}/",
        f"/admin/api/main/images/{image.pk}/",
        f"/admin/documents/edit/{document.pk}/",
        f"/admin/documents/delete/{document.pk}/",
        f"/admin/documents/chooser/chosen/{document.pk}/",
        f"/admin/employees/{org.people['gp'].pk}/invite/",
        f"/documents/{document.pk}/leaflet.pdf",
        f"/admin/departments/edit/{department.pk}/",
        f"/admin/departments/delete/{department.pk}/",
        f"/admin/employees/edit/{employee.pk}/",
        # The viewsets' history and usage screens, and the organisation itself (platform staff's screens).
        f"/admin/departments/history/{department.pk}/",
        f"/admin/departments/history-results/{department.pk}/",
        f"/admin/departments/usage/{department.pk}/",
        f"/admin/employees/history/{employee.pk}/",
        f"/admin/employees/history-results/{employee.pk}/",
        f"/admin/employees/usage/{employee.pk}/",
        f"/admin/employees/{employee.pk}/two-factor/disable/",
        f"/admin/organisations/edit/{org.pk}/",
        f"/admin/organisations/history/{org.pk}/",
        f"/admin/organisations/{org.pk}/remote-support/",
    ]
    return urls


def test_unknown_host_is_404(db):
    response = host_client(None).get("/", HTTP_HOST="nobody.localhost")
    assert response.status_code == 404
    response = host_client(None).get("/admin/", HTTP_HOST="nobody.localhost")
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["admin", "gp"])
def test_other_organisations_object_urls_are_404(alpha, beta, role):
    client = signed_in_client(beta.people[role].user, beta)
    for url in foreign_urls(alpha):
        response = client.get(url)
        assert response.status_code == 404, f"{role} of beta got {response.status_code} for alpha's {url}"


def test_own_object_urls_work_for_the_admin(alpha):
    client = signed_in_client(alpha.people["admin"].user, alpha)
    image, document = media_for(alpha)
    main = alpha.root_page.get_children().first()
    with scopes_disabled():
        department = alpha.departments_by_name["gp"]
        employee = alpha.people["gp"]
    for url in [
        f"/admin/pages/{main.pk}/edit/",
        f"/admin/images/{image.pk}/",
        f"/admin/documents/edit/{document.pk}/",
        f"/admin/departments/edit/{department.pk}/",
        f"/admin/employees/edit/{employee.pk}/",
        f"/admin/departments/history/{department.pk}/",
        f"/admin/employees/history/{employee.pk}/",
        "/admin/organisation/",
        "/admin/package/",
        "/admin/audit/",
        "/admin/images/?q=logo",
        "/admin/documents/?q=leaflet",
        "/admin/images/chooser/results/?q=logo",
        f"/admin/api/main/images/{image.pk}/",
        f"/admin/employees/{employee.pk}/invite/",
    ]:
        assert client.get(url).status_code == 200, url


def test_listings_show_only_own_objects(alpha, beta):
    media_for(alpha)
    media_for(beta)
    client = signed_in_client(beta.people["admin"].user, beta)
    checks = {
        f"/admin/pages/{beta.root_page.pk}/": "Beta Clinic",
        "/admin/pages/search/?q=Practice": None,
        "/admin/images/": "Beta Clinic logo",
        "/admin/documents/": "Beta Clinic leaflet",
        "/admin/choose-page/": "Beta Clinic",
        "/admin/departments/": "Physiotherapy",
        "/admin/employees/": "gp@beta.test",
        "/admin/audit/": "Employee added",
        "/admin/organisation/": "Beta Clinic",
    }
    for url, expected in checks.items():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Alpha" not in html and "alpha.test" not in html, f"{url} shows alpha's data"
        if expected:
            assert expected in html, f"{url} lacks {expected}"


def test_audit_log_lists_only_own_events(alpha, beta):
    with scopes_disabled():
        assert AuditEvent.objects.filter(organization=alpha).exists()
    html = signed_in_client(beta.people["admin"].user, beta).get("/admin/audit/").content.decode()
    assert "admin@alpha.test" not in html and "Alpha" not in html


@pytest.mark.parametrize(
    "path",
    ["/admin/sites/", "/admin/users/", "/admin/groups/", "/admin/collections/", "/admin/workflows/list/",
     "/admin/redirects/", "/admin/locales/", "/admin/reports/site-history/", "/admin/organisations/"],
)
def test_platform_admin_areas_do_not_exist_for_org_admins(alpha, path):
    assert signed_in_client(alpha.people["admin"].user, alpha).get(path).status_code == 404


@pytest.mark.parametrize("language", ["en", "nl", "de", "es"])
def test_org_admin_menu_has_org_items_and_no_platform_items(alpha, language):
    client = signed_in_client(alpha.people["admin"].user, alpha)
    client.cookies["django_language"] = language
    html = client.get("/admin/").content.decode()
    for present in ("/admin/departments/", "/admin/employees/", "/admin/organisation/", "/admin/package/"):
        assert present in html
    for absent in ("/admin/sites/", "/admin/users/", "/admin/groups/", "/admin/collections/",
                   "/admin/organisations/", "/admin/workflows/", "/admin/reports/"):
        assert absent not in html


def test_platform_menu_has_no_organisation_items(superuser):
    html = signed_in_client(superuser, None).get("/admin/").content.decode()
    assert "/admin/organisations/" in html
    for absent in ("/admin/departments/", "/admin/employees/", "/admin/organisation/", "/admin/package/"):
        assert absent not in html


def test_platform_staff_manage_organisations_on_the_platform_host(alpha, superuser):
    client = signed_in_client(superuser, None)
    html = client.get("/admin/organisations/").content.decode()
    assert "Alpha Practice" in html and "alpha.localhost" in html
    assert client.get("/admin/sites/").status_code == 200


def test_practitioner_sent_from_admin_home_to_portal(alpha):
    response = signed_in_client(alpha.people["gp"].user, alpha).get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/portal/"


def test_page_ids_in_form_fields_are_checked_too(alpha, beta):
    """A copy or bulk move naming another organisation's page as destination reveals nothing."""
    client = signed_in_client(beta.people["admin"].user, beta)
    own = beta.root_page.get_children().first().get_children().first()
    foreign = alpha.root_page
    response = client.post(f"/admin/pages/{own.pk}/copy/", {"new_title": "X", "new_slug": "x",
                                                             "new_parent_page": foreign.pk})
    assert response.status_code == 404 and "Alpha" not in response.content.decode()
    response = client.post(f"/admin/bulk/wagtailcore/page/move/?id={own.pk}", {"chooser": foreign.pk})
    assert response.status_code == 404 and "Alpha" not in response.content.decode()


@pytest.mark.parametrize("path", [
    "/admin/tag-autocomplete/?term=pat",
    "/admin/bulk/cms/orgimage/add_tags/?id=1",
    "/admin/bulk/cms/orgdocument/add_tags/?id=1",
])
def test_installation_wide_tags_are_not_offered(alpha, path):
    assert signed_in_client(alpha.people["admin"].user, alpha).get(path).status_code == 404


def test_page_privacy_which_lists_every_groups_is_not_offered(alpha):
    main = alpha.root_page.get_children().first()
    assert signed_in_client(alpha.people["admin"].user, alpha).get(f"/admin/pages/{main.pk}/privacy/").status_code \
        == 404


def test_login_email_cannot_be_changed_by_its_user(alpha, beta):
    client = signed_in_client(beta.people["gp"].user, beta)
    assert client.get("/accounts/email/").status_code == 404
    response = client.post("/accounts/email/", {"action_add": "", "email": "new.doctor@alpha.test"})
    assert response.status_code == 404
    assert client.get("/accounts/confirm-email/abc/").status_code == 404
    beta.people["gp"].user.refresh_from_db()
    assert beta.people["gp"].user.email == "gp@beta.test"


def test_platform_staff_reach_organisation_content_only_through_remote_support(alpha, superuser):
    media_for(alpha)
    client = signed_in_client(superuser, None)
    for path in ("/admin/pages/", f"/admin/pages/{alpha.root_page.pk}/edit/", "/admin/images/", "/admin/documents/",
                 "/admin/choose-page/", "/documents/1/leaflet.pdf"):
        assert client.get(path).status_code == 404, path
    html = client.get("/admin/").content.decode()
    assert 'href="/admin/images/"' not in html
    assert host_client(None).get("/documents/1/leaflet.pdf").status_code == 404


def test_wagtail_starter_workflow_and_groups_are_gone(alpha):
    from django.contrib.auth.models import Group
    from wagtail.models import WorkflowPage

    assert not WorkflowPage.objects.exists()
    assert not Group.objects.filter(name__in=["Moderators", "Editors"]).exists()
    main = alpha.root_page.get_children().first()
    html = signed_in_client(alpha.people["admin"].user, alpha).get(f"/admin/pages/{main.pk}/edit/").content.decode()
    assert "Submit to" not in html


def test_wagtail_account_page_leads_employees_to_my_profile(alpha):
    response = signed_in_client(alpha.people["admin"].user, alpha).get("/admin/account/")
    assert response.status_code == 302 and response["Location"] == "/portal/profile/"
