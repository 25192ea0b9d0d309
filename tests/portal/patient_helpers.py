"""Shared helpers for the patient-portal tests: clients, questionnaires, reading PINs from emails."""

import re

from django.core import mail

from consult import services as consult_services
from formbuilder.services import responses_create
from orgs.scoping import scopes_disabled
from tests.conftest import host_client
from tests.formbuilder import factories


def make_client(org, *, email="rosa@example.com", last_name="Verhoeven", date_of_birth="1980-04-05", language="en",
                **fields):
    with scopes_disabled():
        return consult_services.client_create(
            member=org.people["admin"], initials="R.", last_name=last_name, email=email,
            date_of_birth=date_of_birth, department=org.departments_by_name["gp"], language=language, **fields)


QUESTIONS = [
    ("title", "About you", False, ""),
    ("singleline", "Your occupation", True, ""),
    ("radio", "Do you smoke", True, "Yes\nNo"),
    ("title", "Your health", False, ""),
    ("multiline", "Current complaints", True, ""),
    ("number", "Weight in kg", False, ""),
    ("checkboxes", "Allergies", False, "Penicillin\nNuts\nPollen"),
    ("title", "Last step", False, ""),
    ("checkbox", "I confirm my answers are correct", True, ""),
]


def make_questionnaire(org, title="Medical history", questions=QUESTIONS):
    return factories.make_questionnaire(org, title=title, questions=questions, language="en")


def send_questionnaire(org, client, questionnaire=None, appointment=None):
    questionnaire = questionnaire or make_questionnaire(org)
    with scopes_disabled():
        return responses_create(member=org.people["admin"], client=client, questionnaires=[questionnaire],
                                appointment=appointment)[0]


def last_pin(to=None):
    messages = [m for m in mail.outbox if to is None or m.to == [to]]
    assert messages, "no PIN email was sent"
    match = re.search(r"^\s+(\d{3}) (\d{3})$", messages[-1].body, re.M)
    assert match, messages[-1].body
    return match.group(1) + match.group(2)


def request_pin(browser, capture, *, email="", date_of_birth=""):
    data = {"email": email}
    if date_of_birth:
        data["date_of_birth"] = date_of_birth
    with capture(execute=True):
        return browser.post("/patient/sign-in/", data)


def signed_in_patient(org, client, capture):
    """A browser signed in to the portal as `client` (by email and PIN)."""
    browser = host_client(org)
    mail.outbox.clear()
    request_pin(browser, capture, email=client.email)
    response = browser.post("/patient/code/", {"pin": last_pin(client.email)})
    assert response.status_code == 302 and response["Location"] == "/patient/", response
    return browser
