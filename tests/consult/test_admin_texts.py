"""Email sets, email texts and participant groups in the organisation admin; bounces.

Covers F-TEXT-1 (sets per department, searchable, filterable), F-TEXT-2 (the editor lists the codes and
reports unknown ones), F-CLIENT-3 (participant groups) and F-APPT-9 (bounces reported later).
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from consult import services
from consult.models import EmailDelivery, EmailSet, EmailTemplate, ParticipantGroup
from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled
from tests.conftest import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(alpha):
    return signed_in_client(alpha.people["admin"].user, alpha)


def test_email_texts_listed_searched_and_filtered(alpha, admin_client):
    html = admin_client.get("/admin/email-texts/?kind=reminder&language=de").content.decode()
    assert "Erinnerung" in html and "Reminder:" not in html and "Herinnering" not in html
    html = admin_client.get("/admin/email-texts/?q=Geannuleerd").content.decode()
    assert "Geannuleerd" in html and "Erinnerung" not in html


def test_editor_lists_codes_and_refuses_unknown_ones(alpha, admin_client):
    with organization_scope(alpha):
        template = EmailTemplate.objects.get(kind="confirmation", language="en")
    page = admin_client.get(f"/admin/email-texts/edit/{template.pk}/").content.decode()
    assert "*|consult_deeplink|*" in page and "*|appointment_welcome_from|*" in page
    response = admin_client.post(f"/admin/email-texts/edit/{template.pk}/", {
        "email_set": template.email_set_id, "kind": "confirmation", "language": "en",
        "subject": "See you *|appointment_date|*", "body": "Hello *|patient_name|* {{ secret }}",
    })
    assert response.status_code == 200
    assert "Unknown codes: *|patient_name|*" in response.content.decode()
    template.refresh_from_db()
    assert "patient_name" not in template.body
    response = admin_client.post(f"/admin/email-texts/edit/{template.pk}/", {
        "email_set": template.email_set_id, "kind": "confirmation", "language": "en",
        "subject": "See you *|appointment_date|*", "body": "Hello *|client_name|*, *|consult_deeplink|*",
    })
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.subject == "See you *|appointment_date|*"
    assert AuditEvent.objects.with_scopes_disabled().filter(action="emailtemplate.update").exists()


def test_department_email_set_is_used_for_its_appointments(alpha, admin_client, django_capture_on_commit_callbacks):
    with scopes_disabled():
        gp_department = alpha.departments_by_name["gp"]
    response = admin_client.post("/admin/email-sets/new/", {"name": "GP texts", "departments": [gp_department.pk]})
    assert response.status_code == 302
    with organization_scope(alpha):
        gp_set = EmailSet.objects.get(name="GP texts")
        EmailTemplate.objects.create(organization=alpha, email_set=gp_set, kind="confirmation", language="en",
                                     subject="GP practice: *|appointment_time|*", body="*|consult_deeplink|*")
    member = alpha.people["deptadmin"]
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        client = services.client_create(member=member, initials="A.", last_name="B", email="ab@example.com",
                                        date_of_birth="1990-01-01", language="en", department=gp_department)
        services.appointment_create(member=member, client=client, practitioner=alpha.people["gp"],
                                    starts_at=timezone.now() + timedelta(days=2))
    assert mail.outbox[-1].subject.startswith("GP practice:")


def test_other_organisations_texts_and_groups_are_404(alpha, beta, admin_client):
    with organization_scope(beta):
        foreign_text = EmailTemplate.objects.first()
        foreign_set = EmailSet.objects.first()
        foreign_group = ParticipantGroup.objects.first()
    for url in (f"/admin/email-texts/edit/{foreign_text.pk}/", f"/admin/email-sets/edit/{foreign_set.pk}/",
                f"/admin/email-sets/delete/{foreign_set.pk}/", f"/admin/participant-groups/edit/{foreign_group.pk}/"):
        assert admin_client.get(url).status_code == 404, url
    listing = admin_client.get("/admin/email-sets/").content.decode()
    assert listing.count("Standard texts") == 1


def test_participant_groups(alpha, admin_client):
    response = admin_client.post("/admin/participant-groups/new/", {"name": "Neighbours"})
    assert response.status_code == 302
    duplicate = admin_client.post("/admin/participant-groups/new/", {"name": "Neighbours"})
    assert duplicate.status_code == 200
    with organization_scope(alpha):
        assert ParticipantGroup.objects.filter(name="Neighbours").count() == 1
        assert {"Family", "Home care"} <= set(ParticipantGroup.objects.values_list("name", flat=True))


def test_practitioners_have_no_access_to_the_texts(alpha):
    client = signed_in_client(alpha.people["gp"].user, alpha)
    assert client.get("/admin/email-texts/").status_code == 404


def test_a_bounce_reported_later_is_recorded_and_reported(alpha, django_capture_on_commit_callbacks):
    member = alpha.people["deptadmin"]
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        gp_department = alpha.departments_by_name["gp"]
        client = services.client_create(member=member, initials="A.", last_name="B", email="gone@example.com",
                                        date_of_birth="1990-01-01", language="en", department=gp_department)
        services.appointment_create(member=member, client=client, practitioner=alpha.people["gp"],
                                    department=None, starts_at=timezone.now() + timedelta(days=2))
    mail.outbox.clear()
    call_command("record_bounce", "alpha", "GONE@example.com", "550 mailbox unavailable")
    delivery = EmailDelivery.objects.with_scopes_disabled().get(to="gone@example.com")
    assert delivery.status == "bounced" and "550" in delivery.error
    report = mail.outbox[-1]
    assert report.to == [member.user.email]  # the department admin of the appointment's department
    assert "gone@example.com" in report.body and "550 mailbox unavailable" in report.body
