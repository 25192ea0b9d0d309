"""Filling questionnaires in the patient portal and the waiting room (F-FORM-3,4): steps saved one by
one, autosave of what is valid, required answers before sending, read-only afterwards, and nobody else's."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from consult import links
from consult import services as consult_services
from consult.models import AppointmentParticipant
from formbuilder.models import ResponseStatus
from formbuilder.services import answers_open
from orgs.scoping import scopes_disabled
from tests.conftest import host_client
from tests.portal.patient_helpers import make_client, send_questionnaire, signed_in_patient

pytestmark = pytest.mark.django_db


def _reload(response):
    with scopes_disabled():
        response.refresh_from_db()
        return answers_open(response)


@pytest.fixture
def patient(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    response = send_questionnaire(alpha, client)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    return browser, client, response


def test_the_home_page_lists_the_questionnaire_with_its_progress(patient):
    browser, _client, response = patient
    page = browser.get("/patient/").content.decode()
    assert f"/patient/questionnaires/{response.pk}/" in page and "Medical history" in page
    assert "To fill in" in page and "0% answered" in page
    assert "Messages" in page and "chat with the practice will appear here" in page


def test_steps_are_saved_one_by_one(patient):
    browser, _client, response = patient
    url = f"/patient/questionnaires/{response.pk}/"
    page = browser.get(url)
    text = page.content.decode()
    assert "Step 1 of 3" in text and 'name="your_occupation"' in text and "<fieldset" in text
    assert "no-store" in page["Cache-Control"]
    # Next without the required answers: the step again, with an error summary linked to the fields.
    page = browser.post(url, {"step": "1", "action": "next", "your_occupation": ""})
    text = page.content.decode()
    assert page.status_code == 200 and "error-summary" in text and 'aria-describedby="id_your_occupation_error"' in text
    assert _reload(response) == {}
    result = browser.post(url, {"step": "1", "action": "next", "your_occupation": "Baker", "do_you_smoke": "No"})
    assert result["Location"] == f"{url}?step=2"
    assert _reload(response) == {"your_occupation": "Baker", "do_you_smoke": "No"}
    assert response.status == ResponseStatus.STARTED
    assert "Step 2 of 3" in browser.get(f"{url}?step=2").content.decode()
    # Coming back opens the first step with an unanswered required question.
    assert "Step 2 of 3" in browser.get(url).content.decode()
    # Back keeps valid answers without asking for required ones.
    result = browser.post(url, {"step": "2", "action": "back", "weight_in_kg": "72.5"})
    assert result["Location"] == f"{url}?step=1"
    assert _reload(response)["weight_in_kg"] == "72.5"


def test_autosave_saves_the_valid_fields_and_skips_the_rest(patient):
    browser, _client, response = patient
    url = f"/patient/questionnaires/{response.pk}/autosave/"
    result = browser.post(url, {"step": "2", "current_complaints": "Back pain", "weight_in_kg": "heavy"},
                          HTTP_X_AUTOSAVE="1")
    assert result.status_code == 200 and result.json()["saved"] is True
    assert result.json()["skipped"] == ["weight_in_kg"]
    assert _reload(response) == {"current_complaints": "Back pain", "allergies": []}
    assert response.status == ResponseStatus.STARTED
    # Required fields may be left empty while typing.
    browser.post(url, {"step": "2", "current_complaints": "", "weight_in_kg": "80"}, HTTP_X_AUTOSAVE="1")
    assert _reload(response)["weight_in_kg"] == "80"
    assert browser.post(url, {"step": "x"}).status_code == 400
    assert browser.get(url).status_code == 405


def test_sending_needs_the_required_answers_then_it_is_read_only(patient):
    browser, _client, response = patient
    url = f"/patient/questionnaires/{response.pk}/"
    browser.post(url, {"step": "1", "action": "next", "your_occupation": "Baker", "do_you_smoke": "No"})
    # Step 2 skipped by address: Send on the last step finds the missing required answer.
    result = browser.post(url, {"step": "3", "action": "send", "i_confirm_my_answers_are_correct": "on"})
    assert result["Location"] == f"{url}?step=3"
    page = browser.get(result["Location"]).content.decode()
    assert "Some required questions have no answer yet: Current complaints" in page
    with scopes_disabled():
        response.refresh_from_db()
    assert response.status == ResponseStatus.STARTED
    browser.post(url, {"step": "2", "action": "next", "current_complaints": "Back pain",
                       "allergies": ["Nuts", "Pollen"]})
    result = browser.post(url, {"step": "3", "action": "send", "i_confirm_my_answers_are_correct": "on"})
    assert result["Location"] == url
    with scopes_disabled():
        response.refresh_from_db()
    assert response.status == ResponseStatus.FINISHED
    page = browser.get(url).content.decode()
    assert "They can no longer be changed" in page and "Nuts, Pollen" in page
    assert "data-autosave-url" not in page
    # Nothing changes any more: neither by the form nor by the autosave.
    browser.post(url, {"step": "1", "action": "next", "your_occupation": "Pilot", "do_you_smoke": "Yes"})
    assert browser.post(f"{url}autosave/", {"step": "1", "your_occupation": "Pilot"}).status_code == 409
    assert _reload(response)["your_occupation"] == "Baker"


def test_another_clients_questionnaire_is_a_404(alpha, beta, patient):
    browser, _client, _response = patient
    other = send_questionnaire(alpha, make_client(alpha, email="other@example.com", last_name="Other"))
    foreign = send_questionnaire(beta, make_client(beta))
    for response in (other, foreign):
        assert browser.get(f"/patient/questionnaires/{response.pk}/").status_code == 404
        assert browser.post(f"/patient/questionnaires/{response.pk}/autosave/", {"step": "1"}).status_code == 404


def test_not_signed_in_is_sent_to_sign_in(alpha):
    response = send_questionnaire(alpha, make_client(alpha))
    browser = host_client(alpha)
    assert browser.get(f"/patient/questionnaires/{response.pk}/")["Location"] == "/patient/"
    assert browser.post(f"/patient/questionnaires/{response.pk}/autosave/", {"step": "1"},
                        HTTP_X_AUTOSAVE="1").status_code == 403


def _appointment_with_link(org, client, minutes=10):
    with scopes_disabled():
        appointment = consult_services.appointment_create(
            member=org.people["gp"], client=client, practitioner=org.people["gp"],
            starts_at=timezone.now() + timedelta(minutes=minutes))
        participant = AppointmentParticipant.objects.get(appointment=appointment, person=client)
    return appointment, participant


def test_the_waiting_room_session_fills_its_own_appointments_questionnaire_only(alpha):
    alpha.questionnaire_in_waiting_room = True
    alpha.save()
    client = make_client(alpha)
    appointment, participant = _appointment_with_link(alpha, client)
    own = send_questionnaire(alpha, client, appointment=appointment)
    unrelated = send_questionnaire(alpha, client)  # the same client, not this appointment
    browser = host_client(alpha)
    browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    room = browser.get("/c/").content.decode()
    assert f"/patient/questionnaires/{own.pk}/" in room and f"/patient/questionnaires/{unrelated.pk}/" not in room
    page = browser.get(f"/patient/questionnaires/{own.pk}/").content.decode()
    assert "Step 1 of 3" in page and "Back to the waiting room" in page and "Sign out" not in page
    result = browser.post(f"/patient/questionnaires/{own.pk}/",
                          {"step": "1", "action": "next", "your_occupation": "Baker", "do_you_smoke": "No"})
    assert result.status_code == 302 and _reload(own)["your_occupation"] == "Baker"
    assert browser.get(f"/patient/questionnaires/{unrelated.pk}/").status_code == 404
    assert browser.get("/patient/")["Cache-Control"]  # the portal itself still asks to sign in
    assert "Email me a code" in browser.get("/patient/").content.decode()


def test_the_waiting_room_lists_no_questionnaires_when_the_switch_is_off(alpha):
    client = make_client(alpha)
    appointment, participant = _appointment_with_link(alpha, client)
    own = send_questionnaire(alpha, client, appointment=appointment)
    browser = host_client(alpha)
    browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    assert f"/patient/questionnaires/{own.pk}/" not in browser.get("/c/").content.decode()
    assert browser.get(f"/patient/questionnaires/{own.pk}/")["Location"] == "/patient/"


def test_the_portal_opens_the_waiting_room_inside_the_window(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    appointment, participant = _appointment_with_link(alpha, client)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    page = browser.get("/patient/").content.decode()
    assert f"/patient/appointments/{appointment.pk}/waiting-room/" in page and "Gp Alpha" in page
    result = browser.get(f"/patient/appointments/{appointment.pk}/waiting-room/")
    assert result["Location"] == "/c/"
    assert browser.get("/c/").status_code == 200
    assert browser.session["consult_participant"] == participant.pk
    # Another client's appointment: 404.
    other = make_client(alpha, email="other@example.com", last_name="Other")
    foreign, _participant = _appointment_with_link(alpha, other, minutes=40)
    assert browser.get(f"/patient/appointments/{foreign.pk}/waiting-room/").status_code == 404


def test_a_picture_is_sent_with_the_step_and_shown_back_by_name_only(alpha, django_capture_on_commit_callbacks):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from tests.portal.patient_helpers import make_questionnaire

    client = make_client(alpha)
    questionnaire = make_questionnaire(alpha, title="Skin", questions=[
        ("image", "A photo of the spot", True, ""), ("singleline", "Where is it", False, "")])
    response = send_questionnaire(alpha, client, questionnaire)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    url = f"/patient/questionnaires/{response.pk}/"
    photo = SimpleUploadedFile("my-arm.png", buffer.getvalue(), content_type="image/png")
    result = browser.post(url, {"step": "1", "action": "send", "a_photo_of_the_spot": photo, "where_is_it": "Arm"})
    assert result["Location"] == url
    page = browser.get(url).content.decode()
    assert "A picture was sent: my-arm.png" in page
    assert "<img" not in page.split("<main", 1)[1]  # never the picture itself
    with scopes_disabled():
        upload = response.uploads.get()
    assert str(upload.uuid) not in page


def test_a_picture_sent_earlier_counts_as_the_answer_when_the_step_is_sent_again(
        alpha, django_capture_on_commit_callbacks):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from tests.portal.patient_helpers import make_questionnaire

    client = make_client(alpha)
    questionnaire = make_questionnaire(alpha, title="Skin", questions=[
        ("image", "A photo of the spot", True, ""), ("title", "More", False, ""),
        ("singleline", "Where is it", True, "")])
    response = send_questionnaire(alpha, client, questionnaire)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    url = f"/patient/questionnaires/{response.pk}/"
    photo = SimpleUploadedFile("my-arm.png", buffer.getvalue(), content_type="image/png")
    assert browser.post(url, {"step": "1", "action": "next", "a_photo_of_the_spot": photo})["Location"] == \
        f"{url}?step=2"
    assert "A picture was sent: my-arm.png" in browser.get(f"{url}?step=1").content.decode()
    assert browser.post(url, {"step": "1", "action": "next"})["Location"] == f"{url}?step=2"
    assert _reload(response)["a_photo_of_the_spot"]["name"] == "my-arm.png"


def test_the_waiting_room_link_shows_only_inside_the_window(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    later, _participant = _appointment_with_link(alpha, client, minutes=5 * 60)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    page = browser.get("/patient/").content.decode()
    assert "Upcoming appointments" in page and "Gp Alpha" in page
    assert f"/patient/appointments/{later.pk}/waiting-room/" not in page
    opens = (later.starts_at - timedelta(minutes=alpha.consult_link_opens_minutes)).astimezone(
        ZoneInfo(alpha.time_zone))
    starts = later.starts_at.astimezone(ZoneInfo(alpha.time_zone))
    if opens.date() == starts.date():
        assert f"The waiting room opens at {opens:%H:%M}." in page
    else:
        assert f"at {opens:%H:%M}." in page and "The waiting room opens on " in page
