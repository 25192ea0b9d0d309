"""Findings of the security review of the patient portal, each pinned by a test.

- The appointment link is no key to questionnaire answers outside its window, and signing out of the
  portal also ends the waiting room it opened.
- A refused "Send" leaves no sealed picture behind on disk.
- A PIN request answers the same for a known address when the mail server fails (the email goes out
  from the task queue, sealed while it waits).
- Wrong codes over several PINs pause a client's sign-in for a day, and the client is told.
"""

import base64
import io
import os
import re
import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.signing import SignedPackage
from PIL import Image

from consult import links
from consult import services as consult_services
from consult.models import Appointment, AppointmentParticipant, AppointmentStatus
from formbuilder import crypto
from formbuilder.models import ResponseStatus
from orgs.scoping import scopes_disabled
from portal.models import PortalPin
from portal.services import PIN_WRONG_TRIES_PER_DAY
from portal.tasks import pin_email
from tests.conftest import host_client
from tests.portal.patient_helpers import (
    last_pin,
    make_client,
    make_questionnaire,
    request_pin,
    send_questionnaire,
    signed_in_patient,
)

pytestmark = pytest.mark.django_db


def soon_appointment(org, client):
    with scopes_disabled():
        return consult_services.appointment_create(
            member=org.people["gp"], client=client, practitioner=org.people["gp"],
            starts_at=timezone.now() + timedelta(minutes=10))


def finish(browser, url):
    browser.post(url, {"step": "1", "action": "next", "your_occupation": "Baker", "do_you_smoke": "No"})
    browser.post(url, {"step": "2", "action": "next", "current_complaints": "SECRET-COMPLAINT"})
    sent = browser.post(url, {"step": "3", "action": "send", "i_confirm_my_answers_are_correct": "on"})
    assert sent["Location"] == url


def test_signing_out_of_the_portal_ends_the_waiting_room_it_opened(alpha, django_capture_on_commit_callbacks):
    alpha.questionnaire_in_waiting_room = True
    alpha.save()
    client = make_client(alpha)
    appointment = soon_appointment(alpha, client)
    response = send_questionnaire(alpha, client, appointment=appointment)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    url = f"/patient/questionnaires/{response.pk}/"
    browser.post(url, {"step": "1", "action": "next", "your_occupation": "Baker", "do_you_smoke": "No"})
    assert browser.get(f"/patient/appointments/{appointment.pk}/waiting-room/")["Location"] == "/c/"
    browser.post("/patient/sign-out/")
    assert browser.get(url)["Location"] == "/patient/"
    assert browser.get("/c/").status_code == 403  # the waiting room asks for the link again


def test_the_appointment_link_reads_no_answers_outside_its_window(alpha, django_capture_on_commit_callbacks):
    alpha.questionnaire_in_waiting_room = True
    alpha.save()
    client = make_client(alpha)
    appointment = soon_appointment(alpha, client)
    response = send_questionnaire(alpha, client, appointment=appointment)
    with scopes_disabled():
        participant = AppointmentParticipant.objects.get(appointment=appointment, person=client)
    link_holder = host_client(alpha)  # anyone with the (forwarded) appointment email, no PIN
    link_holder.get(f"/c/{links.token_for(participant.token_nonce)}/")
    url = f"/patient/questionnaires/{response.pk}/"
    assert link_holder.get(url).status_code == 200  # inside the window: the waiting room may fill it
    finish(link_holder, url)
    assert link_holder.get(url).status_code == 404  # sent answers are read back only with a PIN
    with scopes_disabled():
        Appointment.objects.filter(pk=appointment.pk).update(starts_at=timezone.now() - timedelta(days=60))
    assert link_holder.get(url)["Location"] == "/patient/"
    with scopes_disabled():
        Appointment.objects.filter(pk=appointment.pk).update(starts_at=timezone.now() + timedelta(minutes=5),
                                                             status=AppointmentStatus.CANCELLED)
    assert link_holder.get(url)["Location"] == "/patient/"


def test_the_waiting_room_needs_the_accepted_disclaimer(alpha):
    alpha.questionnaire_in_waiting_room = True
    alpha.disclaimer_enabled = True
    alpha.disclaimer_text = "Not for emergencies."
    alpha.save()
    client = make_client(alpha)
    appointment = soon_appointment(alpha, client)
    response = send_questionnaire(alpha, client, appointment=appointment)
    with scopes_disabled():
        participant = AppointmentParticipant.objects.get(appointment=appointment, person=client)
    link_holder = host_client(alpha)
    link_holder.get(f"/c/{links.token_for(participant.token_nonce)}/")
    assert link_holder.get(f"/patient/questionnaires/{response.pk}/")["Location"] == "/patient/"


def private_files():
    found = set()
    for base, _dirs, names in os.walk(storages["private"].location):
        found |= {os.path.join(base, name) for name in names if "questionnaires" in base}
    return found


def test_a_refused_send_leaves_no_picture_on_disk(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    questionnaire = make_questionnaire(alpha, title="Skin", questions=[
        ("singleline", "Where is it", True, ""), ("title", "Photo", False, ""),
        ("image", "A photo of the spot", True, "")])
    response = send_questionnaire(alpha, client, questionnaire)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    photo = SimpleUploadedFile("arm.png", buffer.getvalue(), content_type="image/png")
    before = private_files()
    url = f"/patient/questionnaires/{response.pk}/"
    refused = browser.post(url, {"step": "2", "action": "send", "a_photo_of_the_spot": photo})
    assert refused["Location"] == f"{url}?step=2"
    with scopes_disabled():
        response.refresh_from_db()
        assert response.uploads.count() == 0 and response.status == ResponseStatus.NEW
    assert private_files() == before


def test_a_failing_mail_server_does_not_tell_a_known_address_apart(alpha, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    """The request only queues the email: known and unknown addresses get the same answer, at the same
    speed, whatever the mail server does; the PIN waits in the queue sealed, never in clear."""
    make_client(alpha, email="known@example.com")
    monkeypatch.setattr(Conf, "SYNC", False)  # as in production: a worker sends it later
    get_broker().purge_queue()

    def down(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("mail relay down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", down)
    browser = host_client(alpha)
    browser.raise_request_exception = False
    with django_capture_on_commit_callbacks(execute=True):
        unknown = browser.post("/patient/sign-in/", {"email": "nobody@example.com"})
        known = browser.post("/patient/sign-in/", {"email": "known@example.com"})
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"]) \
        == (302, "/patient/code/")
    broker = get_broker()
    [(ack_id, payload)] = broker.dequeue()
    broker.acknowledge(ack_id)
    task = SignedPackage.loads(payload)
    assert task["func"] == "portal.tasks.pin_email"
    assert not any(re.search(r"(?<![0-9A-Za-z+/])\d{6}(?![0-9A-Za-z+/=])", str(arg)) for arg in task["args"])
    with pytest.raises(smtplib.SMTPServerDisconnected):  # the worker records the failure and retries
        pin_email(*task["args"])


def test_too_many_wrong_codes_pause_sign_in_for_a_day_and_tell_the_client(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    browser = host_client(alpha)
    wrong = 0
    while wrong < PIN_WRONG_TRIES_PER_DAY:
        cache.clear()  # a visitor changing addresses: the per-address limits do not stop this
        mail.outbox.clear()
        request_pin(browser, django_capture_on_commit_callbacks, email=client.email)
        pin = last_pin(client.email)
        for _ in range(min(4, PIN_WRONG_TRIES_PER_DAY - wrong)):
            browser.post("/patient/code/", {"pin": "000000" if pin != "000000" else "111111"})
            wrong += 1
    cache.clear()
    mail.outbox.clear()
    answer = request_pin(browser, django_capture_on_commit_callbacks, email=client.email)
    assert answer["Location"] == "/patient/code/"  # the same answer as ever
    [notice] = mail.outbox
    assert notice.to == [client.email] and "paused" in notice.subject and not any(
        part.isdigit() and len(part) == 3 for part in notice.body.split())
    with scopes_disabled():
        assert PortalPin.objects.filter(used_at__isnull=True, voided_at__isnull=True).count() <= 1
    later = timezone.now() + timedelta(days=1, minutes=1)
    with time_machine.travel(later):
        cache.clear()
        mail.outbox.clear()
        request_pin(browser, django_capture_on_commit_callbacks, email=client.email)
        assert last_pin(client.email)


def test_a_queued_pin_email_is_read_inside_its_organisation_only(alpha, beta):
    """The task reads the client in the organisation the queue names: a mismatched pair sends nothing."""
    client = make_client(alpha)
    sealed = base64.b64encode(crypto.seal(b"123456", context=f"portal-pin:{client.pk}".encode())).decode()
    mail.outbox.clear()
    pin_email(beta.pk, client.pk, sealed)
    assert mail.outbox == []
    pin_email(alpha.pk, client.pk, sealed)
    assert [m.to for m in mail.outbox] == [[client.email]] and "123 456" in mail.outbox[0].body
