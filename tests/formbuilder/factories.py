"""Questionnaires and clients for formbuilder tests."""

from consult.models import Client
from formbuilder.models import Questionnaire, QuestionnaireField
from orgs.scoping import scopes_disabled

SIMPLE_QUESTIONS = [
    ("title", "About you", False, ""),
    ("singleline", "Reason for the consultation", True, ""),
    ("radio", "Do you smoke", True, "Yes\nNo"),
    ("title", "Medication", False, ""),
    ("multiline", "Which medicines do you take", False, ""),
    ("date", "Since when", False, ""),
]


def make_questionnaire(organization, title="Intake", questions=SIMPLE_QUESTIONS, language="", departments=()):
    with scopes_disabled():
        questionnaire = Questionnaire.objects.create(organization=organization, title=title, language=language)
        for order, (field_type, label, required, choices) in enumerate(questions):
            QuestionnaireField.objects.create(questionnaire=questionnaire, sort_order=order, field_type=field_type,
                                              label=label, required=required, choices=choices)
        questionnaire.departments.set(departments)
    return questionnaire


def make_client(organization, last_name="Jansen", email="j.jansen@example.org", **fields):
    with scopes_disabled():
        return Client.objects.create(organization=organization, initials="J.", last_name=last_name, email=email,
                                     **fields)
