"""Answers sealed at rest (F-FORM-5): round trip, rotation while answers are written, no clear text anywhere."""

import io

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image

from chat.models import Message
from chat.sealing import open_text
from formbuilder import crypto
from formbuilder.forms import form_class_for, questionnaire_steps
from formbuilder.models import QuestionnaireResponse, ResponseStatus, ResponseUpload
from formbuilder.services import answers_open, response_save, responses_create, upload_open
from orgs.scoping import scopes_disabled

from .factories import make_client, make_questionnaire

pytestmark = pytest.mark.django_db

SECRET = "Pijn op de borst sinds dinsdag 4711"


def new_response(organization, questions=None):
    kwargs = {"questions": questions} if questions else {}
    questionnaire = make_questionnaire(organization, **kwargs)
    client = make_client(organization)
    with scopes_disabled():
        [response] = responses_create(member=None, client=client, questionnaires=[questionnaire])
    return response


def save_step(response, data, step=0, finish=False, files=None):
    questions = questionnaire_steps(response.questions)[step]
    form = form_class_for(questions)(data, files or {})
    assert form.is_valid(), form.errors
    with scopes_disabled():
        return response_save(response_id=response.pk, organization=response.organization,
                             cleaned_data=form.cleaned_data, questions=questions, finish=finish)


def png_upload():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "#aa3344").save(buffer, "PNG")
    return SimpleUploadedFile("rash.png", buffer.getvalue(), content_type="image/png")


def test_steps_split_at_titles_and_display_fields_store_nothing(alpha):
    response = new_response(alpha)
    steps = questionnaire_steps(response.questions)
    assert [[q["label"] for q in step] for step in steps] == [
        ["About you", "Reason for the consultation", "Do you smoke"],
        ["Medication", "Which medicines do you take", "Since when"],
    ]
    saved = save_step(response, {"reason_for_the_consultation": SECRET, "do_you_smoke": "No", "about_you": "x"})
    with scopes_disabled():
        assert answers_open(saved) == {"reason_for_the_consultation": SECRET, "do_you_smoke": "No"}
    assert saved.status == ResponseStatus.STARTED and saved.started_at is not None


def test_round_trip_progress_is_kept_and_finish_needs_the_required_answers(alpha):
    response = new_response(alpha)
    save_step(response, {"which_medicines_do_you_take": "Metformine 500", "since_when": "2024-02-29"}, step=1)
    with pytest.raises(ValidationError) as refused:
        save_step(response, {"which_medicines_do_you_take": "Metformine 500", "since_when": "2024-02-29"}, step=1,
                  finish=True)
    assert "Reason for the consultation" in str(refused.value)
    with scopes_disabled():
        response.refresh_from_db()
        assert response.status == ResponseStatus.STARTED  # the refused finish changed nothing
        assert answers_open(response) == {"which_medicines_do_you_take": "Metformine 500", "since_when": "2024-02-29"}
    save_step(response, {"reason_for_the_consultation": SECRET, "do_you_smoke": "Yes"})
    done = save_step(response, {"which_medicines_do_you_take": "", "since_when": ""}, step=1, finish=True)
    assert done.status == ResponseStatus.FINISHED and done.finished_at is not None
    with pytest.raises(ValidationError):
        save_step(response, {"reason_for_the_consultation": "changed", "do_you_smoke": "No"})
    with scopes_disabled():
        response.refresh_from_db()
        assert answers_open(response)["reason_for_the_consultation"] == SECRET


def test_sealed_value_names_its_key_and_is_bound_to_its_row(alpha):
    response = new_response(alpha)
    save_step(response, {"reason_for_the_consultation": SECRET, "do_you_smoke": "No"})
    other = new_response(alpha)
    with scopes_disabled():
        response.refresh_from_db()
        assert bytes(response.answers).startswith(b"oc1:test2:") and response.key_id == "test2"
        other.answers, other.key_id = response.answers, response.key_id
        other.save()
        other.refresh_from_db()
        with pytest.raises(crypto.SealError):  # copied into another row: it does not open
            answers_open(other)


def test_the_database_and_the_disk_hold_no_clear_text(alpha, settings):
    response = new_response(alpha, questions=[("singleline", "Complaint", True, ""), ("image", "Photo", False, "")])
    questions = response.questions
    form = form_class_for(questions)({"complaint": SECRET}, {"photo": png_upload()})
    assert form.is_valid(), form.errors
    with scopes_disabled():
        response_save(response_id=response.pk, organization=alpha, cleaned_data=form.cleaned_data,
                      questions=questions)
        upload = ResponseUpload.objects.get(response=response)
        assert upload_open(upload).startswith(b"\x89PNG")
        answers = answers_open(QuestionnaireResponse.objects.get(pk=response.pk))
        assert answers["photo"]["name"] == "rash.png"
    # Read every table's every text and binary column straight from the database.
    needles = [SECRET.encode(), b"rash.png", b"Pijn"]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    raw = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    for needle in needles:
                        assert needle not in raw, f"clear text in {table}"
    with upload.file.open("rb") as handle:
        stored = handle.read()
    assert stored.startswith(b"oc1:test2:") and b"IHDR" not in stored


def chat_message(org, text):
    """A message in a client's chat with the gp (sealed like answers)."""
    from chat import services as chat_services
    from tests.chat.core_helpers import book, channel_of, make_client

    client = make_client(org, "Rotation")
    book(org, client)
    with scopes_disabled():
        return chat_services.message_post(channel=channel_of(org, client), text=text, member=org.people["gp"])


def test_rotation_reseals_everything_under_the_newest_key(alpha, settings):
    response = new_response(alpha, questions=[("singleline", "Complaint", True, ""), ("image", "Photo", False, "")])
    form = form_class_for(response.questions)({"complaint": SECRET}, {"photo": png_upload()})
    assert form.is_valid()
    with scopes_disabled():
        response_save(response_id=response.pk, organization=alpha, cleaned_data=form.cleaned_data,
                      questions=response.questions)
    untouched = new_response(alpha)  # no answers yet: nothing to re-seal
    message = chat_message(alpha, SECRET)  # chat messages are sealed with the same keys
    new_entry = crypto.new_key_text("test3")
    settings.QUESTIONNAIRE_KEYS = f"{new_entry},{settings.QUESTIONNAIRE_KEYS}"
    before = io.StringIO()
    call_command("rotate_questionnaire_keys", "--status", stdout=before)
    assert "test2: 1 answers, 1 uploads, 1 chat messages" in before.getvalue()
    out = io.StringIO()
    call_command("rotate_questionnaire_keys", stdout=out)
    assert "Responses to re-seal: 1." in out.getvalue()
    assert "Re-sealed 1 chat messages under key test3." in out.getvalue()
    with scopes_disabled():
        response.refresh_from_db()
        upload = ResponseUpload.objects.get(response=response)
        assert response.key_id == "test3" and bytes(response.answers).startswith(b"oc1:test3:")
        assert upload.key_id == "test3" and upload_open(upload).startswith(b"\x89PNG")
        assert answers_open(response)["complaint"] == SECRET
        untouched.refresh_from_db()
        assert untouched.answers is None
    # The old keys can go now: everything opens with the new one alone.
    settings.QUESTIONNAIRE_KEYS = new_entry
    with scopes_disabled():
        assert answers_open(QuestionnaireResponse.objects.get(pk=response.pk))["complaint"] == SECRET
        stored = Message.objects.get(pk=message.pk)
        assert bytes(stored.sealed_text).startswith(b"oc1:test3:") and open_text(stored) == SECRET
    status = io.StringIO()
    call_command("rotate_questionnaire_keys", "--status", stdout=status)
    assert "test3 (newest): 1 answers, 1 uploads, 1 chat messages" in status.getvalue()
    assert "test2" not in status.getvalue()


def test_status_refuses_when_chat_messages_need_a_key_that_was_dropped(alpha, settings):
    chat_message(alpha, SECRET)
    settings.QUESTIONNAIRE_KEYS = crypto.new_key_text("fresh")
    with pytest.raises(CommandError, match="test2"):
        call_command("rotate_questionnaire_keys", "--status", stdout=io.StringIO())


def test_status_refuses_when_answers_need_a_key_that_was_dropped(alpha, settings):
    response = new_response(alpha)
    save_step(response, {"reason_for_the_consultation": SECRET, "do_you_smoke": "No"})
    settings.QUESTIONNAIRE_KEYS = crypto.new_key_text("fresh")
    with pytest.raises(CommandError, match="test2"):
        call_command("rotate_questionnaire_keys", "--status", stdout=io.StringIO())


def test_bad_key_settings_are_refused_clearly(settings):
    for value, message in [("", "empty"), ("k1:bm90IDMyIGJ5dGVz", "32 bytes"), ("bad id:AAAA", "bad key id"),
                           (f"{crypto.new_key_text('a')},{crypto.new_key_text('a')}", "twice")]:
        settings.QUESTIONNAIRE_KEYS = value
        with pytest.raises(ImproperlyConfigured, match=message):
            crypto.newest_key_id()


def test_uploads_are_checked_for_type_and_size(alpha, settings):
    questions = [{"clean_name": "photo", "label": "Photo", "field_type": "image", "required": True, "choices": "",
                  "default_value": "", "help_text": ""}]
    form_class = form_class_for(questions)
    fake = SimpleUploadedFile("photo.png", b"<script>alert(1)</script>", content_type="image/png")
    form = form_class({}, {"photo": fake})
    assert not form.is_valid() and "not a picture" in str(form.errors)
    settings.QUESTIONNAIRE_UPLOAD_MAX_BYTES = 10
    form = form_class({}, {"photo": png_upload()})
    assert not form.is_valid() and "the most you can send" in str(form.errors)
