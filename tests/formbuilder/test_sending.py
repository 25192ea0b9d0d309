"""Sending questionnaires (F-FORM-3) and their status on the staff screens (F-FORM-4, F-FORM-6).

Picking questionnaires when making an appointment (only those the member may send), the client's copy in
their own language, one questionnaire email after the commit (portal link, titles, no calendar file), a
refused questionnaire writing nothing, sending from the client record, and the status sections.
"""

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from consult import services
from consult.models import Appointment, EmailDelivery, EmailKind
from formbuilder.models import QuestionnaireResponse, ResponseStatus
from formbuilder.services import questionnaires_send
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from portal.patient_links import client_id_from_link
from tests.conftest import signed_in_client

from .factories import make_questionnaire

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")


def portal_clients_linked(text, organization):
    """The clients whose portal links the text holds. The signature's timestamp moves with the (ticking)
    clock, so the link is read back rather than compared with a freshly made one."""
    values = re.findall(re.escape(organization.base_url) + r"/patient/start/([^/\s\"<]+)/", text)
    return [client_id_from_link(organization, value) for value in values]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2027, 6, 1, 10, 0, tzinfo=AMS), tick=True):
        yield


@pytest.fixture
def strict(alpha):
    alpha.strict_departments = True
    alpha.save()
    for member in alpha.people.values():
        member.organization = alpha
    return alpha


def new_client(org, *, language="nl", email="anna@example.test", department="gp"):
    with scopes_disabled():
        return services.client_create(member=org.people["admin"], initials="A.", first_name="Anna",
                                      last_name="Jansen", email=email, language=language,
                                      department=org.departments_by_name[department])


def translated(org, titles, departments=()):
    """One questionnaire in several languages: {language: title} → {language: Questionnaire}."""
    key = uuid.uuid4()
    versions = {}
    for language, title in titles.items():
        questionnaire = make_questionnaire(org, title=title, language=language, departments=departments)
        with scopes_disabled():
            type(questionnaire).objects.with_scopes_disabled().filter(pk=questionnaire.pk).update(translation_key=key)
            questionnaire.refresh_from_db()
        versions[language] = questionnaire
    return versions


def form_page(org, member):
    response = signed_in_client(member.user, org).get("/portal/appointments/new/")
    assert response.status_code == 200
    return response.content.decode()


def booking_data(client, practitioner, questionnaires, **extra):
    return {"practitioner": practitioner.pk, "client": client.pk, "date": "2027-06-15", "time": "14:00",
            "duration_minutes": 20, "questionnaires": [q.pk for q in questionnaires], **extra}


# --- the appointment form --------------------------------------------------------------------------

def test_the_appointment_form_lists_only_questionnaires_the_member_may_send(strict):
    gp = strict.people["gp"]
    intake = translated(strict, {"en": "Intake GP", "nl": "Intake huisarts"},
                        departments=[strict.departments_by_name["gp"]])
    physio_only = make_questionnaire(strict, title="Back pain physio", language="en",
                                     departments=[strict.departments_by_name["physio"]])
    everyone = make_questionnaire(strict, title="Travel history", language="en")
    html = form_page(strict, gp)
    assert f'value="{everyone.pk}"' in html and "Travel history" in html
    assert "Back pain physio" not in html and f'value="{physio_only.pk}"' not in html
    # One entry per translation group, in the organisation's language (en), naming the languages it exists in.
    assert f'value="{intake["en"].pk}"' in html and f'value="{intake["nl"].pk}"' not in html
    assert "Intake GP (Dutch, English)" in html and "Intake huisarts" not in html
    # The physiotherapist sees theirs, not the GP's.
    physio_html = form_page(strict, strict.people["physio"])
    assert "Back pain physio" in physio_html and "Intake GP" not in physio_html
    # A posted id that is not on the list is refused by the form: nothing is booked.
    client = new_client(strict)
    response = signed_in_client(gp.user, strict).post("/portal/appointments/new/",
                                                      booking_data(client, gp, [physio_only]))
    assert response.status_code == 200
    with scopes_disabled():
        assert not Appointment.objects.exists() and not QuestionnaireResponse.objects.exists()


def test_booking_with_questionnaires_gives_the_client_their_language_version_and_one_email_after_commit(
        alpha, django_capture_on_commit_callbacks):
    gp = alpha.people["gp"]
    client = new_client(alpha, language="nl")
    intake = translated(alpha, {"en": "Intake", "nl": "Intake (Nederlands)", "de": "Aufnahme"})
    travel = make_questionnaire(alpha, title="Travel history", language="en")
    browser = signed_in_client(gp.user, alpha)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/portal/appointments/new/", booking_data(client, gp, [intake["en"], travel]))
        assert response.status_code == 302
        assert mail.outbox == []  # nothing goes out before the commit
    with scopes_disabled():
        appointment = Appointment.objects.get()
        responses = {r.questionnaire_id: r for r in QuestionnaireResponse.objects.filter(client=client)}
    assert set(responses) == {intake["nl"].pk, travel.pk}  # the Dutch version for a Dutch client
    assert all(r.appointment_id == appointment.pk and r.status == ResponseStatus.NEW for r in responses.values())
    assert responses[intake["nl"].pk].title == "Intake (Nederlands)" and responses[intake["nl"].pk].language == "nl"
    [confirmation, request] = mail.outbox
    assert confirmation.to == request.to == ["anna@example.test"]
    assert any(a[0] == "invite.ics" for a in confirmation.attachments)
    assert request.subject == f"Wilt u een vragenlijst invullen voor {alpha.name}?"
    assert portal_clients_linked(request.body, alpha) == [client.pk]
    assert "- Intake (Nederlands)\n- Travel history" in request.body or \
        "- Travel history\n- Intake (Nederlands)" in request.body
    assert request.attachments == []  # no calendar file with the questionnaire email
    [(html, _mimetype)] = request.alternatives
    assert "Intake (Nederlands)" in html and set(portal_clients_linked(html, alpha)) == {client.pk}
    with scopes_disabled():
        delivery = EmailDelivery.objects.get(kind=EmailKind.QUESTIONNAIRE)
        assert (delivery.appointment_id, delivery.to, delivery.status) == (appointment.pk, "anna@example.test", "sent")
        assert AuditEvent.objects.filter(action="questionnaire.send").count() == 2


def test_a_questionnaire_the_member_may_not_send_refuses_the_whole_booking(strict,
                                                                        django_capture_on_commit_callbacks):
    gp = strict.people["gp"]
    client = new_client(strict)
    allowed = make_questionnaire(strict, title="Travel history", language="en")
    physio_only = make_questionnaire(strict, title="Back pain", language="en",
                                     departments=[strict.departments_by_name["physio"]])
    with django_capture_on_commit_callbacks(execute=True), scopes_disabled(), pytest.raises(ValidationError) as error:
        services.appointment_create(member=gp, client=client, practitioner=gp,
                                    starts_at=timezone.now() + timedelta(days=2), questionnaires=[allowed, physio_only])
    assert "questionnaires" in error.value.message_dict
    with scopes_disabled():
        assert not Appointment.objects.exists()
        assert not QuestionnaireResponse.objects.exists()
        assert not AuditEvent.objects.filter(action__in=["appointment.create", "questionnaire.send"]).exists()
    assert mail.outbox == []


def test_quick_consults_send_no_questionnaires(alpha, django_capture_on_commit_callbacks):
    make_questionnaire(alpha, title="Travel history", language="en")
    client = new_client(alpha, language="en")
    with django_capture_on_commit_callbacks(execute=True), scopes_disabled():
        services.quick_consult_create(member=alpha.people["gp"], client=client)
        assert not QuestionnaireResponse.objects.exists()
    assert [m.subject for m in mail.outbox if "questionnaire" in m.subject.lower()] == []


# --- sending from the client record ----------------------------------------------------------------

def test_send_from_the_client_record(alpha, django_capture_on_commit_callbacks):
    gp = alpha.people["gp"]
    client = new_client(alpha, language="en")
    travel = make_questionnaire(alpha, title="Travel history", language="en")
    browser = signed_in_client(gp.user, alpha)
    page = browser.get(f"/portal/clients/{client.pk}/").content.decode()
    assert "Send a questionnaire" in page and f'action="/portal/clients/{client.pk}/questionnaires/send/"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/portal/clients/{client.pk}/questionnaires/send/",
                                {"questionnaires": [travel.pk]})
        assert mail.outbox == []
    assert response["Location"] == f"/portal/clients/{client.pk}/"
    with scopes_disabled():
        sent = QuestionnaireResponse.objects.get(client=client)
        assert sent.appointment_id is None and sent.sent_by == gp.user
        delivery = EmailDelivery.objects.get(kind=EmailKind.QUESTIONNAIRE)
        assert delivery.appointment_id is None and delivery.status == "sent"
        assert AuditEvent.objects.get(action="questionnaire.send").target_id == str(sent.pk)
    [message] = mail.outbox
    assert message.subject == f"Please fill in a questionnaire for {alpha.name}"
    assert "Dear Anna Jansen" in message.body and "- Travel history" in message.body
    assert portal_clients_linked(message.body, alpha) == [client.pk] and message.attachments == []


def test_send_from_the_appointment_page_links_the_appointment(alpha, django_capture_on_commit_callbacks):
    gp = alpha.people["gp"]
    client = new_client(alpha, language="en")
    travel = make_questionnaire(alpha, title="Travel history", language="en")
    with scopes_disabled():
        appointment = services.appointment_create(member=gp, client=client, practitioner=gp,
                                                  starts_at=timezone.now() + timedelta(days=2))
    browser = signed_in_client(gp.user, alpha)
    page = browser.get(f"/portal/appointments/{appointment.pk}/").content.decode()
    assert "Send a questionnaire" in page and f'name="appointment" value="{appointment.pk}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/portal/clients/{client.pk}/questionnaires/send/",
                                {"questionnaires": [travel.pk], "appointment": appointment.pk})
    assert response["Location"] == f"/portal/appointments/{appointment.pk}/"
    with scopes_disabled():
        assert QuestionnaireResponse.objects.get().appointment_id == appointment.pk
    [message] = mail.outbox
    assert "Travel history" in message.body and message.attachments == []


def test_sending_is_refused_for_what_the_member_may_not_send_or_see(strict, beta):
    gp = strict.people["gp"]
    client = new_client(strict)
    physio_only = make_questionnaire(strict, title="Back pain", language="en",
                                     departments=[strict.departments_by_name["physio"]])
    browser = signed_in_client(gp.user, strict)
    response = browser.post(f"/portal/clients/{client.pk}/questionnaires/send/", {"questionnaires": [physio_only.pk]})
    assert response.status_code == 302
    # A client of another department (strict), or of another organisation, is a 404.
    physio_client = new_client(strict, email="piet@example.test", department="physio")
    travel = make_questionnaire(strict, title="Travel history", language="en")
    assert browser.post(f"/portal/clients/{physio_client.pk}/questionnaires/send/",
                        {"questionnaires": [travel.pk]}).status_code == 404
    beta_client = new_client(beta)
    assert browser.post(f"/portal/clients/{beta_client.pk}/questionnaires/send/",
                        {"questionnaires": [travel.pk]}).status_code == 404
    with scopes_disabled():
        assert not QuestionnaireResponse.objects.exists()
    assert mail.outbox == []


def test_emails_off_sends_nothing_but_the_questionnaire_is_there(alpha, django_capture_on_commit_callbacks):
    alpha.do_not_send_emails = True
    alpha.save()
    client = new_client(alpha, language="en")
    travel = make_questionnaire(alpha, title="Travel history", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        signed_in_client(alpha.people["gp"].user, alpha).post(f"/portal/clients/{client.pk}/questionnaires/send/",
                                                              {"questionnaires": [travel.pk]})
    with scopes_disabled():
        assert QuestionnaireResponse.objects.filter(client=client).count() == 1
        assert not EmailDelivery.objects.exists()
    assert mail.outbox == []


# --- status on the staff screens ---------------------------------------------------------------------

def _responses_in_every_status(org, client, appointment=None):
    titles = {"new": "Travel history", "started": "Intake", "finished": "Allergies"}
    made = {}
    for status, title in titles.items():
        questionnaire = make_questionnaire(org, title=title, language="en")
        with scopes_disabled():
            from formbuilder.services import responses_create

            [response] = responses_create(member=org.people["gp"], client=client, questionnaires=[questionnaire],
                                          appointment=appointment)
            QuestionnaireResponse.objects.with_scopes_disabled().filter(pk=response.pk).update(
                status=status, finished_at=timezone.now() if status == "finished" else None)
        made[status] = response
    return made


def test_statuses_on_the_client_and_appointment_pages(alpha):
    gp = alpha.people["gp"]
    client = new_client(alpha, language="en")
    with scopes_disabled():
        appointment = services.appointment_create(member=gp, client=client, practitioner=gp,
                                                  starts_at=timezone.now() + timedelta(days=2))
    made = _responses_in_every_status(alpha, client, appointment)
    browser = signed_in_client(gp.user, alpha)
    for url in (f"/portal/clients/{client.pk}/", f"/portal/appointments/{appointment.pk}/"):
        html = browser.get(url).content.decode()
        assert "<h2 id=\"questionnaires-heading\">Questionnaires</h2>" in html
        for status, label in (("new", "New"), ("started", "Started"), ("finished", "Finished")):
            assert f'<span class="status q-status q-status-{status}">{label}</span>' in html
        for status in ("started", "finished"):
            pk = made[status].pk
            for link in (f"/portal/answers/{pk}/", f"/portal/answers/{pk}/pdf/", f"/portal/answers/{pk}/text/"):
                assert f'href="{link}"' in html
        assert f'href="/portal/answers/{made["new"].pk}/"' not in html
    with scopes_disabled():  # listing statuses reads no answers
        assert not AuditEvent.objects.filter(action__startswith="answers.").exists()


def test_the_room_side_panel_lists_the_questionnaires_with_links_in_a_new_tab(alpha):
    gp = alpha.people["gp"]
    client = new_client(alpha, language="en")
    browser = signed_in_client(gp.user, alpha)
    response = browser.post(f"/portal/clients/{client.pk}/quick-consult/")
    appointment_id = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    with scopes_disabled():
        appointment = Appointment.objects.get(pk=appointment_id)
    made = _responses_in_every_status(alpha, client, appointment)
    html = browser.get(f"/portal/room/{appointment.pk}/").content.decode()
    assert 'data-room-questionnaires' in html
    assert f'href="/portal/answers/{made["finished"].pk}/pdf/" target="_blank" rel="noopener"' in html
    assert '<span class="status q-status q-status-new">New</span>' in html


# --- the email texts ---------------------------------------------------------------------------------

def test_existing_default_sets_get_the_questionnaire_texts_and_the_editor_knows_the_code(alpha):
    import importlib

    from django.apps import apps

    from consult.forms import EmailTemplateForm
    from consult.models import EmailTemplate

    with scopes_disabled():
        EmailTemplate.objects.filter(kind=EmailKind.QUESTIONNAIRE).delete()  # as before the migration
        edited = EmailTemplate.objects.get(organization=alpha, kind=EmailKind.CONFIRMATION, language="en")
        migration = importlib.import_module("consult.migrations.0008_questionnaire_email_texts")
        migration.add_texts(apps, None)
        migration.add_texts(apps, None)  # idempotent
        texts = EmailTemplate.objects.filter(kind=EmailKind.QUESTIONNAIRE, email_set=edited.email_set)
        assert sorted(texts.values_list("language", flat=True)) == ["de", "en", "es", "nl"]
        assert all("*|questionnaire_titles|*" in t.body and "*|portal_deeplink|*" in t.body for t in texts)
        form = EmailTemplateForm(data={"email_set": edited.email_set_id, "kind": EmailKind.QUESTIONNAIRE,
                                       "language": "en", "subject": "Questions",
                                       "body": "Please fill in:\n*|questionnaire_titles|*\n*|portal_deeplink|*"},
                                 instance=EmailTemplate(organization=alpha))
        assert "*|questionnaire_titles|*" in form.fields["body"].help_text
        form.is_valid()
        assert "body" not in form.errors


def test_a_failed_questionnaire_email_is_recorded_and_reported(alpha, django_capture_on_commit_callbacks,
                                                               monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    client = new_client(alpha, language="en")
    travel = make_questionnaire(alpha, title="Travel history", language="en")
    original = EmailMultiAlternatives.send

    def send(message, *args, **kwargs):
        if message.to == ["anna@example.test"]:
            raise OSError("mailbox unavailable")
        return original(message, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    with django_capture_on_commit_callbacks(execute=True):
        signed_in_client(alpha.people["gp"].user, alpha).post(f"/portal/clients/{client.pk}/questionnaires/send/",
                                                              {"questionnaires": [travel.pk]})
    with scopes_disabled():
        delivery = EmailDelivery.objects.get(kind=EmailKind.QUESTIONNAIRE)
    assert delivery.status == "failed" and "mailbox unavailable" in delivery.error
    [report] = mail.outbox  # to the GP department's admin, with the client record to correct the address
    assert report.to == [alpha.people["deptadmin"].user.email]
    assert "anna@example.test" in report.body and f"/portal/clients/{client.pk}/" in report.body


def test_a_questionnaires_departments_hold_without_strict_segregation_too(alpha):
    """"Only these departments can send it" means that in every organisation; org admins send any."""
    assert not alpha.strict_departments
    physio_only = make_questionnaire(alpha, title="Back pain physio", language="en",
                                     departments=[alpha.departments_by_name["physio"]])
    everyone = make_questionnaire(alpha, title="Travel history", language="en")
    gp_html = form_page(alpha, alpha.people["gp"])
    assert "Travel history" in gp_html and "Back pain physio" not in gp_html
    assert "Back pain physio" in form_page(alpha, alpha.people["physio"])
    assert "Back pain physio" in form_page(alpha, alpha.people["admin"])
    client = new_client(alpha)
    with pytest.raises(ValidationError), scopes_disabled():
        questionnaires_send(member=alpha.people["gp"], client=client, questionnaires=[physio_only, everyone])
    with scopes_disabled():
        assert not QuestionnaireResponse.objects.filter(client=client).exists()


def test_the_language_version_of_another_department_is_not_sent(alpha):
    """The GP's English intake has a Dutch sibling meant for physiotherapy only: the client gets the English one."""
    english = make_questionnaire(alpha, title="Intake", language="en")
    dutch = make_questionnaire(alpha, title="Intake (physio)", language="nl",
                               departments=[alpha.departments_by_name["physio"]])
    with scopes_disabled():
        dutch.translation_key = english.translation_key
        dutch.save()
        [response] = questionnaires_send(member=alpha.people["gp"], client=new_client(alpha, language="nl"),
                                         questionnaires=[english])
    assert response.questionnaire_id == english.pk and response.title == "Intake"
