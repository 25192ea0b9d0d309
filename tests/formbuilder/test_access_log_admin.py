"""The questionnaire access log in the organisation admin (F-FORM-7): who read whose answers, when, in what
capacity; the organisation's own rows only, filterable and searchable, for organisation admins only."""

import datetime

import pytest
import time_machine

from formbuilder.services import responses_create
from orgs.scoping import scopes_disabled
from orgs.services import audit_record
from tests.conftest import signed_in_client

from .factories import make_client, make_questionnaire

pytestmark = pytest.mark.django_db

URL = "/admin/questionnaire-access-log/"


def read(organization, reader, action, client_name, acting_for, when):
    questionnaire = make_questionnaire(organization, title=f"Intake {client_name}")
    client = make_client(organization, last_name=client_name.split()[-1])
    with scopes_disabled():
        [response] = responses_create(member=None, client=client, questionnaires=[questionnaire])
    with time_machine.travel(when, tick=False):
        return audit_record(organization=organization, actor=reader.user, action=action, target=response,
                            subject=client_name, acting_for=acting_for)


@pytest.fixture
def log(alpha, beta):
    gp, physio = alpha.people["gp"], alpha.people["physio"]
    return {
        "view": read(alpha, gp, "answers.view", "Jan Jansen", "Practitioner of the appointment",
                     datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)),
        "pdf": read(alpha, physio, "answers.pdf", "Petra de Vries", "Department Physiotherapy",
                    datetime.datetime(2026, 3, 10, 14, 0, tzinfo=datetime.UTC)),
        "image": read(alpha, gp, "answers.image", "Petra de Vries", "Organisation admin",
                      datetime.datetime(2026, 3, 20, 8, 0, tzinfo=datetime.UTC)),
        "foreign": read(beta, beta.people["gp"], "answers.view", "Bert Bakker", "Practitioner",
                        datetime.datetime(2026, 3, 5, 9, 0, tzinfo=datetime.UTC)),
    }


@pytest.fixture
def admin_client(alpha):
    return signed_in_client(alpha.people["admin"].user, alpha)


def rows(admin_client, query=""):
    response = admin_client.get(URL + query)
    assert response.status_code == 200
    return response.content.decode()


def test_lists_the_organisations_own_reads_with_every_column(alpha, log, admin_client):
    html = rows(admin_client)
    for heading in ("When", "Who", "Acting for", "Action", "Answers", "Whose data"):
        assert f">{heading}<" in html or heading in html
    assert "Jan Jansen" in html and "Petra de Vries" in html
    assert "gp@alpha.test" in html and "physio@alpha.test" in html
    assert "Practitioner of the appointment" in html and "Department Physiotherapy" in html
    assert "Questionnaire answers viewed" in html and "Questionnaire answers downloaded as PDF" in html
    assert "Intake Jan Jansen: " in html  # which answers: the response's own label
    assert "Bert Bakker" not in html and "gp@beta.test" not in html


def test_other_audit_rows_are_not_in_the_access_log(alpha, log, admin_client):
    audit_record(organization=alpha, actor=alpha.people["admin"].user, action="department.update",
                 target=alpha.departments_by_name["gp"])
    html = rows(admin_client)
    assert "Department changed" not in html
    assert "Questionnaire added" not in html


def test_filters_and_search(alpha, log, admin_client):
    html = rows(admin_client, "?action=answers.pdf")
    assert "Petra de Vries" in html and "Jan Jansen" not in html
    html = rows(admin_client, "?actor_label=physio")
    assert "Department Physiotherapy" in html and "Jan Jansen" not in html
    html = rows(admin_client, "?created_at_from=2026-03-01&created_at_to=2026-03-05")
    assert "Jan Jansen" in html and "Petra de Vries" not in html
    html = rows(admin_client, "?created_at_from=2026-03-15")
    assert "Organisation admin" in html and "Jan Jansen" not in html and "Department Physiotherapy" not in html
    html = rows(admin_client, "?q=jansen")
    assert "Jan Jansen" in html and "Petra de Vries" not in html
    html = rows(admin_client, "?q=Bakker")
    assert "Bert Bakker" not in html


@pytest.mark.parametrize("person", ["deptadmin", "gp", "physio"])
def test_employees_who_are_not_org_admins_cannot_read_it(alpha, log, person):
    client = signed_in_client(alpha.people[person].user, alpha)
    response = client.get(URL)
    assert response.status_code in (302, 404)
    assert "Jan Jansen" not in response.content.decode()
    assert URL not in client.get("/admin/", follow=True).content.decode()


def test_menu_item_is_there_for_org_admins(alpha, admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert URL in html and "Questionnaire access log" in html


def test_access_codes_sent_by_staff_are_in_the_access_log_and_the_audit_log_reads_them(alpha, admin_client):
    """A QR letter or emailed PIN lets whoever holds it read the client's answers: the log shows who made it."""
    alpha.client_app_enabled = True
    alpha.save()
    client = make_client(alpha, last_name="Visser")
    gp = signed_in_client(alpha.people["gp"].user, alpha)
    assert gp.post(f"/portal/clients/{client.pk}/access/qr/letter/").status_code == 200
    html = rows(admin_client, "?action=portal.qr_created")
    assert "QR code made for a client" in html and "gp@alpha.test" in html
    assert client.display_name in html and "Practitioner, General practice" in html
    audit = admin_client.get("/admin/audit/")
    assert audit.status_code == 200 and "letter" in audit.content.decode()
