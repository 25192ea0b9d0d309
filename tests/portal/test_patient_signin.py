"""Patient portal sign-in with an emailed PIN (F-PORTAL-1,2): the portal link, the same answer whatever
was typed, PIN expiry / single use / lockout / replacement, rate limits, the idle timeout and logout."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from orgs.scoping import scopes_disabled
from portal import services
from portal.models import PIN_MAX_ATTEMPTS, PortalPin
from portal.patient_links import portal_path
from tests.conftest import host_client, signed_in_client
from tests.portal.patient_helpers import last_pin, make_client, request_pin, signed_in_patient

pytestmark = pytest.mark.django_db


def _page_text(response):
    """The page without what differs per request anyway (CSRF tokens, nonces)."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'nonce="[^"]+"', "", html)


def test_sign_in_by_email_and_pin_opens_the_portal(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    browser = host_client(alpha)
    page = browser.get("/patient/")
    assert page.status_code == 200 and "Email me a code" in page.content.decode()
    assert 'name="date_of_birth"' not in page.content.decode()  # only with a portal link
    response = request_pin(browser, django_capture_on_commit_callbacks, email="ROSA@example.com")
    assert response.status_code == 302 and response["Location"] == "/patient/code/"
    message = mail.outbox[-1]
    assert message.to == ["rosa@example.com"] and "Alpha Practice" in message.subject
    assert message.alternatives and last_pin() in message.alternatives[0][0]
    code_page = browser.get("/patient/code/").content.decode()
    assert "If these details are ours, we have emailed a 6-digit code to ROSA@example.com" in code_page
    response = browser.post("/patient/code/", {"pin": last_pin()})
    assert response["Location"] == "/patient/"
    home = browser.get("/patient/")
    assert "Your patient portal" in home.content.decode() and "R. Verhoeven" in home.content.decode()
    assert "no-store" in home["Cache-Control"]
    assert browser.session["patient_portal"]["clients"] == [client.pk]
    # The PIN is never stored in clear.
    with scopes_disabled():
        stored = PortalPin.objects.get()
    assert last_pin() not in stored.pin_hash and len(stored.pin_hash) == 64


def test_the_answer_is_the_same_for_unknown_address_wrong_birth_date_and_a_match(
        alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    answers = []
    for data in ({"email": "nobody@example.com"}, {"email": "rosa@example.com"}):
        browser = host_client(alpha)
        response = request_pin(browser, django_capture_on_commit_callbacks, **data)
        page = _page_text(browser.get(response["Location"])).replace(data["email"], "ADDRESS")
        answers.append((response.status_code, response["Location"], page))
    assert answers[0] == answers[1]
    assert "we have emailed a 6-digit code to ADDRESS" in answers[0][2]
    # With a portal link: wrong and right date of birth answer alike too.
    linked = []
    for date_of_birth in ("1999-01-01", "1980-04-05"):
        browser = host_client(alpha)
        browser.get(portal_path(client))
        response = request_pin(browser, django_capture_on_commit_callbacks, date_of_birth=date_of_birth)
        linked.append((response.status_code, response["Location"], _page_text(browser.get(response["Location"]))))
    assert linked[0] == linked[1]
    assert "the email address we have for you" in linked[0][2]
    assert len(mail.outbox) == 2  # one for the known address, one for the right date of birth


def test_portal_link_leaves_the_address_bar_and_allows_date_of_birth(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    browser = host_client(alpha)
    response = browser.get(portal_path(client))
    assert response.status_code == 302 and response["Location"] == "/patient/"
    page = browser.get("/patient/").content.decode()
    assert 'name="date_of_birth"' in page and "I already have a code" in page
    request_pin(browser, django_capture_on_commit_callbacks, date_of_birth="1980-04-05")
    assert browser.post("/patient/code/", {"pin": last_pin()})["Location"] == "/patient/"


def test_a_link_value_of_another_organisation_or_forged_is_refused(alpha, beta):
    beta_client = make_client(beta)
    browser = host_client(alpha)
    assert browser.get(portal_path(beta_client)).status_code == 404
    assert browser.get("/patient/start/forged-value/").status_code == 404
    assert "patient_hint" not in browser.session


def test_the_pin_expires(alpha, django_capture_on_commit_callbacks):
    alpha.portal_pin_minutes = 10
    alpha.save()
    client = make_client(alpha)
    browser = host_client(alpha)
    request_pin(browser, django_capture_on_commit_callbacks, email=client.email)
    pin = last_pin()
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = browser.post("/patient/code/", {"pin": pin})
    assert response.status_code == 200 and "no longer valid" in response.content.decode()
    assert "patient_portal" not in browser.session


def test_the_pin_is_single_use(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    browser = host_client(alpha)
    request_pin(browser, django_capture_on_commit_callbacks, email=client.email)
    pin = last_pin()
    assert browser.post("/patient/code/", {"pin": pin})["Location"] == "/patient/"
    other = host_client(alpha)
    request_pin(other, django_capture_on_commit_callbacks, email="someone@example.com")  # a pending request
    other.session.save()
    session = other.session
    session["patient_pending"] = {**session["patient_pending"], "client": client.pk, "scope": "email"}
    session.save()
    assert other.post("/patient/code/", {"pin": pin}).status_code == 200
    assert "patient_portal" not in other.session


def test_five_wrong_tries_void_the_pin(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    browser = host_client(alpha)
    request_pin(browser, django_capture_on_commit_callbacks, email=client.email)
    pin = last_pin()
    wrong = "000000" if pin != "000000" else "111111"
    for _ in range(PIN_MAX_ATTEMPTS):
        assert browser.post("/patient/code/", {"pin": wrong}).status_code == 200
    with scopes_disabled():
        record = PortalPin.objects.get()
    assert record.attempts == PIN_MAX_ATTEMPTS and record.voided_at is not None
    assert browser.post("/patient/code/", {"pin": pin}).status_code == 200  # the right one no longer works
    assert "patient_portal" not in browser.session


def test_a_new_pin_voids_the_older_one(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    browser = host_client(alpha)
    request_pin(browser, django_capture_on_commit_callbacks, email=client.email)
    first = last_pin()
    request_pin(browser, django_capture_on_commit_callbacks, email=client.email)
    second = last_pin()
    if first != second:
        assert browser.post("/patient/code/", {"pin": first}).status_code == 200
    assert browser.post("/patient/code/", {"pin": second})["Location"] == "/patient/"
    with scopes_disabled():
        assert PortalPin.objects.filter(voided_at__isnull=False).count() == 1


def test_pin_requests_are_limited_per_client(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    for number in range(services.PIN_REQUESTS_PER_CLIENT):
        browser = host_client(alpha)
        browser.defaults["REMOTE_ADDR"] = f"10.0.0.{number + 1}"  # different addresses: the client limit counts
        assert request_pin(browser, django_capture_on_commit_callbacks, email=client.email).status_code == 302
    browser = host_client(alpha)
    browser.defaults["REMOTE_ADDR"] = "10.0.1.1"
    response = request_pin(browser, django_capture_on_commit_callbacks, email=client.email)
    assert response.status_code == 429 and "try again after" in response.content.decode()
    assert len(mail.outbox) == services.PIN_REQUESTS_PER_CLIENT
    # An unknown address is refused the same way after as many requests (nothing tells them apart).
    unknown = []
    for number in range(services.PIN_REQUESTS_PER_CLIENT + 1):
        browser = host_client(alpha)
        browser.defaults["REMOTE_ADDR"] = f"10.0.2.{number + 1}"
        unknown.append(request_pin(browser, django_capture_on_commit_callbacks, email="nobody@example.com"))
    assert [r.status_code for r in unknown] == [302] * services.PIN_REQUESTS_PER_CLIENT + [429]


def test_pin_requests_and_tries_are_limited_per_address(alpha, django_capture_on_commit_callbacks):
    browser = host_client(alpha)
    for number in range(services.PIN_REQUESTS_PER_ADDRESS):
        response = request_pin(browser, django_capture_on_commit_callbacks, email=f"person{number}@example.com")
        assert response.status_code == 302
    response = request_pin(browser, django_capture_on_commit_callbacks, email="another@example.com")
    assert response.status_code == 429 and "try again after" in response.content.decode()
    for _ in range(services.PIN_TRIES_PER_ADDRESS):
        assert browser.post("/patient/code/", {"pin": "123456"}).status_code == 200
    response = browser.post("/patient/code/", {"pin": "123456"})
    assert response.status_code == 429


def test_one_pin_opens_every_client_record_with_that_address(alpha, django_capture_on_commit_callbacks):
    parent = make_client(alpha, email="family@example.com", last_name="Parent")
    child = make_client(alpha, email="family@example.com", last_name="Child", date_of_birth="2015-01-01")
    make_client(alpha, email="other@example.com", last_name="Other")
    browser = signed_in_patient(alpha, parent, django_capture_on_commit_callbacks)
    assert browser.session["patient_portal"]["clients"] == sorted([parent.pk, child.pk])
    assert len(mail.outbox) == 1


def test_the_session_ends_after_inactivity(alpha, django_capture_on_commit_callbacks):
    alpha.patient_session_minutes = 20
    alpha.save()
    client = make_client(alpha)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    with time_machine.travel(timezone.now() + timedelta(minutes=15)):
        assert "Your patient portal" in browser.get("/patient/").content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=36)):
        page = browser.get("/patient/").content.decode()
    assert "signed out because nothing happened for 20 minutes" in page
    assert "patient_portal" not in browser.session


def test_logout(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    assert browser.get("/patient/sign-out/").status_code == 405
    response = browser.post("/patient/sign-out/")
    assert response["Location"] == "/patient/"
    assert "You have signed out" in browser.get("/patient/").content.decode()
    assert "Email me a code" in browser.get("/patient/").content.decode()


def test_a_patient_session_never_signs_in_staff_and_does_not_mix_with_one(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    assert browser.get("/portal/").status_code == 302  # staff portal: asked to sign in
    staff = signed_in_client(alpha.people["gp"].user, alpha)
    assert "Email me a code" in staff.get("/patient/").content.decode()


def test_a_session_of_another_organisation_does_not_open_this_one(alpha, beta, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    browser = signed_in_patient(alpha, client, django_capture_on_commit_callbacks)
    cookie = browser.cookies["sessionid"].value
    other = host_client(beta)
    other.cookies["sessionid"] = cookie
    assert "Email me a code" in other.get("/patient/").content.decode()
