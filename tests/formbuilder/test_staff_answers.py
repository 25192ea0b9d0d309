"""Staff reading answers (F-FORM-6) and the access log (F-FORM-7).

The answers page, the PDF, the text download and a picture each write exactly one audit row naming
whose answers they were and in what capacity the reader acted; another organisation's or a segregated
colleague's answers are a 404 and write nothing; nothing of it may be cached.
"""

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from consult import services as consult_services
from formbuilder.forms import form_class_for
from formbuilder.models import ResponseUpload
from formbuilder.services import response_save, responses_create
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from tests.conftest import signed_in_client

from .factories import make_questionnaire

pytestmark = pytest.mark.django_db

QUESTIONS = [
    ("title", "About you", False, ""),
    ("paragraph", "Tell us a little about yourself.", False, ""),
    ("singleline", "Reason for the consultation", True, ""),
    ("date", "Since when", False, ""),
    ("country", "Country of birth", False, ""),
    ("checkbox", "Do you smoke", False, ""),
    ("title", "Health", False, ""),
    ("checkboxes", "Known conditions", False, "Asthma\nDiabetes\nHeart disease"),
    ("number", "Weight in kg", False, ""),
    ("multiline", "Medicines", False, ""),
    ("image", "Photo of the rash", False, ""),
    ("email", "Other address", False, ""),
]
ANSWERS = {
    "reason_for_the_consultation": "Pijn op de borst",
    "since_when": "2027-05-03",
    "country_of_birth": "NL",
    "do_you_smoke": "",  # unchecked
    "known_conditions": ["Asthma", "Diabetes"],
    "weight_in_kg": "72.5",
    "medicines": "Metformine 500 mg\nSalbutamol",
}


def png(name="rash.png", colour="#aa3344"):
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def client_of(org, department="gp", **fields):
    with scopes_disabled():
        return consult_services.client_create(
            member=org.people["admin"], initials="A.", first_name="Anna", last_name="Jansen",
            email="anna@example.test", language="en", date_of_birth=date(1980, 3, 14),
            department=org.departments_by_name[department], **fields)


def answered_response(org, *, finish=True, with_image=True, client=None, title="Medical history"):
    """A response filled in through the same form and service the patient portal uses."""
    questionnaire = make_questionnaire(org, title=title, questions=QUESTIONS, language="en")
    client = client or client_of(org)
    with scopes_disabled():
        [response] = responses_create(member=org.people["gp"], client=client, questionnaires=[questionnaire])
        form = form_class_for(response.questions)(ANSWERS, {"photo_of_the_rash": png()} if with_image else {})
        assert form.is_valid(), form.errors
        return response_save(response_id=response.pk, organization=org, cleaned_data=form.cleaned_data,
                             questions=response.questions, finish=finish)


def new_response(org, client=None):
    questionnaire = make_questionnaire(org, title="Travel history", language="en")
    with scopes_disabled():
        [response] = responses_create(member=org.people["gp"], client=client or client_of(org),
                                      questionnaires=[questionnaire])
    return response


def upload_of(response):
    with scopes_disabled():
        return ResponseUpload.objects.get(response=response)


def audit_rows(action=None):
    with scopes_disabled():
        rows = AuditEvent.objects.filter(action__startswith="answers.")
        if action:
            rows = rows.filter(action=action)
        return list(rows)


def urls_of(response):
    upload = upload_of(response)
    return {
        "answers.view": f"/portal/answers/{response.pk}/",
        "answers.pdf": f"/portal/answers/{response.pk}/pdf/",
        "answers.text": f"/portal/answers/{response.pk}/text/",
        "answers.image": f"/portal/answers/{response.pk}/images/{upload.uuid}/",
    }


@pytest.mark.parametrize("action", ["answers.view", "answers.pdf", "answers.text", "answers.image"])
def test_every_read_writes_exactly_one_audit_row(alpha, action):
    response = answered_response(alpha)
    gp = alpha.people["gp"]
    http = signed_in_client(gp.user, alpha).get(urls_of(response)[action])
    assert http.status_code == 200
    assert http["Cache-Control"] == "private, no-store"
    [row] = audit_rows()
    assert row.action == action and row.actor == gp.user
    assert row.target_type == "questionnaireresponse" and row.target_id == str(response.pk)
    assert row.subject_label == "Anna Jansen"
    assert row.acting_for == "Practitioner, General practice"


def test_the_answers_page_shows_questions_and_answers_in_the_readers_formats(alpha):
    response = answered_response(alpha)
    upload = upload_of(response)
    html = signed_in_client(alpha.people["gp"].user, alpha).get(f"/portal/answers/{response.pk}/").content.decode()
    assert "<h3>About you</h3>" in html and "<h3>Health</h3>" in html  # display-only titles as headings
    assert "Tell us a little about yourself." not in html  # paragraphs only explain to the client
    assert "<dt>Reason for the consultation</dt>" in html and "Pijn op de borst" in html
    assert "May 3, 2027" in html  # the English date format, not 2027-05-03
    assert "Netherlands" in html and ">NL<" not in html
    assert "<dt>Do you smoke</dt>\n    <dd>No</dd>" in html
    assert "Asthma, Diabetes" in html and "72.5" in html and "Metformine 500 mg<br>Salbutamol" in html
    assert f'src="/portal/answers/{response.pk}/images/{upload.uuid}/"' in html
    assert "Anna Jansen" in html and "March 14, 1980" in html and "Finished" in html
    # The reader's language: a Dutch reader gets Dutch formats and country names.
    gp = alpha.people["gp"]
    gp.user.language = "nl"
    gp.user.save()
    dutch = signed_in_client(gp.user, alpha).get(f"/portal/answers/{response.pk}/").content.decode()
    assert "3 mei 2027" in dutch and "Nederland" in dutch and "72,5" in dutch


def test_the_image_is_served_unsealed_with_its_type_and_no_sniffing(alpha):
    response = answered_response(alpha)
    upload = upload_of(response)
    http = signed_in_client(alpha.people["gp"].user, alpha).get(urls_of(response)["answers.image"])
    assert http["Content-Type"] == "image/png" and http["X-Content-Type-Options"] == "nosniff"
    assert http["Cache-Control"] == "private, no-store"
    assert http.content.startswith(b"\x89PNG")
    with upload.file.open("rb") as handle:
        assert b"\x89PNG" not in handle.read()  # sealed on disk


def test_downloads_are_attachments(alpha):
    response = answered_response(alpha)
    browser = signed_in_client(alpha.people["gp"].user, alpha)
    pdf = browser.get(f"/portal/answers/{response.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"] == 'attachment; filename="medical-history-anna-jansen.pdf"'
    text = browser.get(f"/portal/answers/{response.pk}/text/")
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert text["Content-Disposition"] == 'attachment; filename="medical-history-anna-jansen.txt"'
    assert "Reason for the consultation: Pijn op de borst" in text.content.decode("utf-8")


def test_a_new_response_says_not_filled_in_yet(alpha):
    response = new_response(alpha)
    browser = signed_in_client(alpha.people["gp"].user, alpha)
    html = browser.get(f"/portal/answers/{response.pk}/").content.decode()
    assert "Not filled in yet." in html and "<dt>Reason" not in html
    assert "Not filled in yet." in browser.get(f"/portal/answers/{response.pk}/text/").content.decode()


def test_another_organisations_answers_are_a_404_and_log_nothing(alpha, beta):
    response = answered_response(beta)
    browser = signed_in_client(alpha.people["admin"].user, alpha)
    for url in urls_of(response).values():
        assert browser.get(url).status_code == 404
    assert audit_rows() == []


def test_a_segregated_colleague_gets_a_404_and_logs_nothing(alpha):
    alpha.strict_departments = True
    alpha.save()
    response = answered_response(alpha)  # a client of the GP department
    browser = signed_in_client(alpha.people["physio"].user, alpha)
    for url in urls_of(response).values():
        assert browser.get(url).status_code == 404
    assert audit_rows() == []
    # The department admin of the client's department may read them.
    assert signed_in_client(alpha.people["deptadmin"].user, alpha).get(urls_of(response)["answers.view"]
                                                                       ).status_code == 200
    [row] = audit_rows()
    assert row.acting_for == "Department admin, General practice"


def test_a_picture_of_another_response_is_a_404(alpha):
    first = answered_response(alpha)
    second = answered_response(alpha, client=client_of(alpha), title="Second")
    browser = signed_in_client(alpha.people["gp"].user, alpha)
    other_upload = upload_of(second)
    assert browser.get(f"/portal/answers/{first.pk}/images/{other_upload.uuid}/").status_code == 404
    assert audit_rows() == []


def test_platform_staff_read_as_remote_support(alpha, superuser):
    from tests.orgs.test_remote_support import support_client

    alpha.allow_remote_support = True
    alpha.save()
    response = answered_response(alpha)
    browser = support_client(alpha, alpha.people["admin"], superuser)
    assert browser.get(f"/portal/answers/{response.pk}/text/").status_code == 200
    [row] = audit_rows()
    assert row.acting_for == "remote support" and row.subject_label == "Anna Jansen"
    assert row.actor_label == "staff@platform.test as admin@alpha.test (remote support)"
