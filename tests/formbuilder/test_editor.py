"""The questionnaire editor in the organisation admin (F-FORM-1): every field type through the admin's own
POST, validation, duplication, deletion that keeps answers, and isolation between organisations."""

import pytest
from django.core.exceptions import PermissionDenied
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from formbuilder import services
from formbuilder.models import FIELD_TYPES, Questionnaire, QuestionnaireField, QuestionnaireResponse
from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled
from tests.conftest import signed_in_client

from .factories import make_client, make_questionnaire

pytestmark = pytest.mark.django_db

CHOICES = "Yes\nNo\nNot sure"
EVERY_TYPE = [
    {"label": f"Question {field_type}", "field_type": field_type, "required": "on" if field_type == "email" else "",
     "choices": CHOICES if field_type in ("multiselect", "dropdown", "checkboxes", "radio") else "",
     "default_value": "", "help_text": f"help for {field_type}"}
    for field_type, _label in FIELD_TYPES
]


@pytest.fixture
def admin_client(alpha):
    return signed_in_client(alpha.people["admin"].user, alpha)


def editor_post(questions, title="Intake", departments=(), initial=0, **extra):
    data = nested_form_data({
        "title": title, "intro": "Before your visit", "language": "en",
        "fields": inline_formset(questions, initial=initial), **extra,
    })
    data["departments"] = list(departments)  # a multiple choice: one key, several values
    return data


def questionnaire_named(organization, title):
    with organization_scope(organization):
        return Questionnaire.objects.get(title=title)


def test_create_with_every_field_type_through_the_admin(alpha, admin_client):
    gp = alpha.departments_by_name["gp"]
    response = admin_client.post("/admin/questionnaires/new/", editor_post(EVERY_TYPE, departments=[gp.pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    questionnaire = questionnaire_named(alpha, "Intake")
    with organization_scope(alpha):
        fields = list(questionnaire.fields.order_by("sort_order"))
        assert list(questionnaire.departments.all()) == [gp]
    assert [f.field_type for f in fields] == [t for t, _ in FIELD_TYPES]
    assert fields[0].clean_name == "question_title" and fields[4].choices == CHOICES
    assert questionnaire.language == "en" and questionnaire.organization_id == alpha.pk
    assert not questionnaire.is_default
    snapshot = questionnaire.snapshot()
    # Display-only questions never require an answer, whatever the checkbox said.
    assert [q["required"] for q in snapshot if q["field_type"] in ("title", "paragraph")] == [False, False]
    assert AuditEvent.objects.with_scopes_disabled().filter(
        organization=alpha, action="questionnaire.create", target_id=str(questionnaire.pk)).exists()
    # The editor shows it again with every question, and the list shows it.
    page = admin_client.get(f"/admin/questionnaires/edit/{questionnaire.pk}/").content.decode()
    assert "Question image" in page and "formbuilder-type" in page and "Duplicate" in page
    listing = admin_client.get("/admin/questionnaires/").content.decode()
    assert "Intake" in listing and "Duplicate" in listing and "w-action#post" in listing


@pytest.mark.parametrize("questions, message", [
    ([{"label": "About you", "field_type": "title"}, {"label": "Thanks", "field_type": "paragraph"}],
     "at least one question that takes an answer"),
    ([{"label": "Do you smoke", "field_type": "radio", "choices": ""}], "“Do you smoke” needs choices"),
    ([{"label": "Your weight", "field_type": "number"}, {"label": "Your weight", "field_type": "number"}],
     "Two questions are labelled “Your weight”"),
    ([{"label": "Weight?", "field_type": "number"}, {"label": "weight", "field_type": "number"}],
     "“weight” and “Weight?” would be stored under the same name"),
])
def test_questions_that_cannot_work_are_refused_with_nothing_written(alpha, admin_client, questions, message):
    rows = [{"required": "", "choices": "", "default_value": "", "help_text": "", **q} for q in questions]
    response = admin_client.post("/admin/questionnaires/new/", editor_post(rows, title="Broken"))
    assert response.status_code == 200
    assert message in response.content.decode()
    with organization_scope(alpha):
        assert not Questionnaire.objects.filter(title="Broken").exists()
        assert not QuestionnaireField.objects.filter(label__in=[q["label"] for q in questions]).exists()


def test_edit_renames_reorders_and_deletes_questions_and_is_audited(alpha, admin_client):
    questionnaire = make_questionnaire(alpha, title="Intake")
    with scopes_disabled():
        fields = list(questionnaire.fields.order_by("sort_order"))
    rows = [{"id": f.pk, "label": f.label, "field_type": f.field_type, "required": "on" if f.required else "",
             "choices": f.choices, "default_value": "", "help_text": ""} for f in fields]
    rows[1]["label"] = "Why do you come"
    rows[4]["DELETE"] = "1"
    rows.append({"label": "Weight in kg", "field_type": "number", "required": "", "choices": "",
                 "default_value": "", "help_text": ""})
    data = editor_post(rows, title="Intake (adults)", initial=len(fields))
    response = admin_client.post(f"/admin/questionnaires/edit/{questionnaire.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    questionnaire.refresh_from_db()
    with scopes_disabled():
        labels = list(questionnaire.fields.order_by("sort_order").values_list("label", "clean_name"))
    assert questionnaire.title == "Intake (adults)"
    # A renamed question keeps the name its answers are stored under.
    assert ("Why do you come", "reason_for_the_consultation") in labels
    assert "Which medicines do you take" not in [label for label, _ in labels]
    assert labels[-1] == ("Weight in kg", "weight_in_kg")
    event = AuditEvent.objects.with_scopes_disabled().get(action="questionnaire.update")
    assert event.changes["title"] == ["Intake", "Intake (adults)"] and event.changes["questions"] == [6, 6]


def test_a_renamed_question_cannot_clash_with_a_new_or_another_one(alpha, admin_client):
    questionnaire = make_questionnaire(alpha, title="Intake")
    with scopes_disabled():
        fields = list(questionnaire.fields.order_by("sort_order"))
    rows = [{"id": f.pk, "label": f.label, "field_type": f.field_type, "required": "", "choices": f.choices,
             "default_value": "", "help_text": ""} for f in fields]
    # "Do you smoke" is renamed; a new question takes its old label, so both would be stored as do_you_smoke.
    rows[2]["label"] = "Do you smoke now"
    rows.append({"label": "Do you smoke", "field_type": "radio", "required": "", "choices": "Yes\nNo",
                 "default_value": "", "help_text": ""})
    page = admin_client.post(f"/admin/questionnaires/edit/{questionnaire.pk}/",
                             editor_post(rows, initial=len(fields))).content.decode()
    assert "“Do you smoke” and “Do you smoke now” would be stored under the same name" in page
    # Two saved questions given the same label: different names, but a client could not tell them apart.
    rows = rows[:-1]
    rows[2]["label"] = "Since when"
    page = admin_client.post(f"/admin/questionnaires/edit/{questionnaire.pk}/",
                             editor_post(rows, initial=len(fields))).content.decode()
    assert "Two questions are labelled “Since when”" in page
    with scopes_disabled():
        assert list(questionnaire.fields.order_by("sort_order").values_list("label", flat=True)) == [
            f.label for f in fields]


def test_department_choices_are_the_admins_own_organisation_only(alpha, beta, admin_client):
    page = admin_client.get("/admin/questionnaires/new/").content.decode()
    assert "General practice" in page
    assert '<option value="en" selected>' in page  # new ones start in the organisation's language
    foreign = beta.departments_by_name["gp"]
    rows = [{"label": "Reason", "field_type": "singleline", "required": "on", "choices": "", "default_value": "",
             "help_text": ""}]
    response = admin_client.post("/admin/questionnaires/new/",
                                 editor_post(rows, title="Foreign", departments=[foreign.pk]))
    assert response.status_code == 200
    with organization_scope(alpha):
        assert not Questionnaire.objects.filter(title="Foreign").exists()


def test_duplicate_copies_every_question_and_opens_the_copy(alpha, admin_client):
    physio = alpha.departments_by_name["physio"]
    questionnaire = make_questionnaire(alpha, title="Intake", language="nl", departments=[physio])
    response = admin_client.post(f"/admin/questionnaires/duplicate/{questionnaire.pk}/")
    with organization_scope(alpha):
        copy = Questionnaire.objects.get(title="Intake (copy)")
        copied = list(copy.fields.order_by("sort_order").values_list(
            "label", "clean_name", "field_type", "required", "choices", "sort_order"))
        original = list(questionnaire.fields.order_by("sort_order").values_list(
            "label", "clean_name", "field_type", "required", "choices", "sort_order"))
        assert list(copy.departments.all()) == [physio]
        assert questionnaire.fields.count() == 6  # the original keeps its own questions
    assert response.status_code == 302 and response["Location"] == f"/admin/questionnaires/edit/{copy.pk}/"
    assert copied == original and len(copied) == 6
    assert copy.translation_key != questionnaire.translation_key and copy.language == "nl"
    assert not copy.is_default
    page = admin_client.get(response["Location"]).content.decode()
    assert "is a copy of" in page
    event = AuditEvent.objects.with_scopes_disabled().get(action="questionnaire.copy")
    assert event.target_id == str(copy.pk) and event.changes["title"] == ["Intake", "Intake (copy)"]
    # A GET never copies.
    assert admin_client.get(f"/admin/questionnaires/duplicate/{questionnaire.pk}/").status_code == 405


def test_a_copy_of_a_long_title_still_fits(alpha):
    questionnaire = make_questionnaire(alpha, title="x" * 200)
    with scopes_disabled():
        copy = services.questionnaire_duplicate(organization=alpha, actor=None, questionnaire=questionnaire)
    assert len(copy.title) == 200 and copy.title.endswith("x (copy)")


def test_another_organisations_questionnaire_is_404_everywhere(alpha, beta, admin_client):
    foreign = make_questionnaire(beta, title="Beta intake")
    for url in (f"/admin/questionnaires/edit/{foreign.pk}/", f"/admin/questionnaires/delete/{foreign.pk}/"):
        assert admin_client.get(url).status_code == 404, url
        assert admin_client.post(url, {}).status_code == 404, url
    assert admin_client.post(f"/admin/questionnaires/duplicate/{foreign.pk}/").status_code == 404
    with scopes_disabled():
        assert Questionnaire.objects.filter(organization=beta, title__startswith="Beta intake").count() == 1
        assert Questionnaire.objects.filter(pk=foreign.pk).exists()
    assert "Beta intake" not in admin_client.get("/admin/questionnaires/").content.decode()
    with pytest.raises(PermissionDenied):
        with scopes_disabled():
            services.questionnaire_duplicate(organization=alpha, actor=None, questionnaire=foreign)


def test_delete_says_answers_stay_and_keeps_them(alpha, admin_client):
    questionnaire = make_questionnaire(alpha, title="Intake")
    client = make_client(alpha)
    with scopes_disabled():
        [response] = services.responses_create(member=None, client=client, questionnaires=[questionnaire])
    page = admin_client.get(f"/admin/questionnaires/delete/{questionnaire.pk}/").content.decode()
    assert "are not deleted" in page and "1 questionnaire sent" in page
    assert admin_client.post(f"/admin/questionnaires/delete/{questionnaire.pk}/").status_code == 302
    with scopes_disabled():
        assert not Questionnaire.objects.filter(pk=questionnaire.pk).exists()
        assert not QuestionnaireField.objects.filter(questionnaire_id=questionnaire.pk).exists()
        kept = QuestionnaireResponse.objects.get(pk=response.pk)
    assert kept.questionnaire_id is None and kept.title == "Intake" and len(kept.questions) == 6
    assert AuditEvent.objects.with_scopes_disabled().filter(action="questionnaire.delete",
                                                            target_id=str(questionnaire.pk)).exists()


@pytest.mark.parametrize("person", ["deptadmin", "gp"])
def test_employees_who_are_not_org_admins_have_no_access(alpha, person):
    questionnaire = make_questionnaire(alpha, title="Intake")
    client = signed_in_client(alpha.people[person].user, alpha)
    for url in ("/admin/questionnaires/", "/admin/questionnaires/new/",
                f"/admin/questionnaires/edit/{questionnaire.pk}/", f"/admin/questionnaires/delete/{questionnaire.pk}/"):
        assert client.get(url).status_code in (302, 404), url
    assert client.post(f"/admin/questionnaires/duplicate/{questionnaire.pk}/").status_code in (302, 404)
    with scopes_disabled():
        assert Questionnaire.objects.filter(organization=alpha, title__startswith="Intake").count() == 1


def test_menu_item_for_org_admins(alpha, admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "/admin/questionnaires/" in page and "/admin/questionnaire-access-log/" in page
