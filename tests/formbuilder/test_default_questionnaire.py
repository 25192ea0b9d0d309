"""The standard medical-history questionnaire (F-FORM-2): every new organisation gets it in nl, en, de and es,
once; organisations that existed before get it from the data migration."""

import importlib

import pytest
from django.apps import apps as global_apps

from formbuilder.anamnesis import ANAMNESIS, LANGUAGES, default_questionnaires_build, default_questionnaires_create
from formbuilder.forms import form_class_for, questionnaire_steps
from formbuilder.models import CHOICE_TYPES, FIELD_TYPES, Questionnaire, QuestionnaireField
from formbuilder.services import questions_validate
from orgs.scoping import scopes_disabled

pytestmark = pytest.mark.django_db


def defaults_of(organization):
    with scopes_disabled():
        return list(Questionnaire.objects.filter(organization=organization, is_default=True)
                    .prefetch_related("fields").order_by("language"))


def test_new_organisation_gets_the_anamnesis_in_four_languages(alpha):
    questionnaires = defaults_of(alpha)
    assert sorted(q.language for q in questionnaires) == sorted(LANGUAGES)
    assert len({q.translation_key for q in questionnaires}) == 1
    with scopes_disabled():
        assert all(not q.departments.exists() for q in questionnaires)  # every department may send it
        structures = {q.language: [(f.field_type, f.required, len(f.choices.splitlines()))
                                   for f in q.fields.order_by("sort_order")] for q in questionnaires}
        by_language = {q.language: q for q in questionnaires}
        assert by_language["de"].fields.filter(label="Geburtsdatum", field_type="date").exists()
        assert by_language["es"].fields.filter(label="País de residencia", field_type="country").exists()
    assert by_language["nl"].title == "Medische voorgeschiedenis" and by_language["en"].title == "Medical history"
    # The same questions in the same order in every language, and every field type used.
    assert len({tuple(structure) for structure in structures.values()}) == 1
    assert {field_type for field_type, _r, _c in structures["en"]} == {t for t, _label in FIELD_TYPES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_version_is_a_working_questionnaire(alpha, language):
    questionnaire = next(q for q in defaults_of(alpha) if q.language == language)
    with scopes_disabled():
        fields = list(questionnaire.fields.order_by("sort_order"))
        questions_validate(fields)  # what the editor would accept: unique names, choices where needed
        snapshot = questionnaire.snapshot()
    assert all(f.choices for f in fields if f.field_type in CHOICE_TYPES)
    assert all(len(f.label) <= 255 and len(f.help_text) <= 255 for f in fields)
    steps = questionnaire_steps(snapshot)
    assert len(steps) >= 8  # a few short pages on a phone
    for step in steps:
        form_class_for(step)()  # every step builds a form


def test_creating_again_adds_nothing_and_fills_a_missing_language(alpha):
    assert default_questionnaires_create(organization=alpha) == []
    assert len(defaults_of(alpha)) == 4
    with scopes_disabled():
        german = Questionnaire.objects.get(organization=alpha, is_default=True, language="de")
        key = german.translation_key
        german.delete()
        english = Questionnaire.objects.get(organization=alpha, is_default=True, language="en")
        english.title = "Our own intake"
        english.save()
    [created] = default_questionnaires_create(organization=alpha)
    assert created.language == "de" and created.translation_key == key
    questionnaires = defaults_of(alpha)
    assert len(questionnaires) == 4
    assert {q.title for q in questionnaires if q.language == "en"} == {"Our own intake"}  # edits are kept


def test_organisations_get_their_own_copy(alpha, beta):
    alpha_keys = {q.translation_key for q in defaults_of(alpha)}
    beta_keys = {q.translation_key for q in defaults_of(beta)}
    assert alpha_keys and beta_keys and not alpha_keys & beta_keys


def test_data_migration_creates_them_for_organisations_that_existed(alpha, beta):
    with scopes_disabled():
        Questionnaire.objects.filter(organization=alpha).delete()
    assert defaults_of(alpha) == []
    migration = importlib.import_module("formbuilder.migrations.0002_default_anamnesis")

    class SchemaEditor:
        class connection:  # noqa: N801 - the shape RunPython hands over
            alias = "default"

    migration.create_default_questionnaires(global_apps, SchemaEditor)
    assert len(defaults_of(alpha)) == 4 and len(defaults_of(beta)) == 4  # beta already had them: untouched
    with scopes_disabled():
        assert QuestionnaireField.objects.filter(questionnaire__organization=alpha).count() == 4 * len(
            ANAMNESIS["en"]["questions"])


def test_the_build_function_works_with_plain_managers(alpha):
    """What the migration relies on: no scoped manager, no app service, just the models handed in."""
    with scopes_disabled():
        Questionnaire.objects.filter(organization=alpha).delete()
    created = default_questionnaires_build(alpha.pk, Questionnaire, QuestionnaireField)
    assert sorted(q.language for q in created) == sorted(LANGUAGES)
    assert all(q.is_default for q in created)
