"""Client-side error reports (issue #10): who may report on which host, what is stored, the rate limits."""

import json
import re

import pytest
from django.core.cache import cache
from django.test import Client

from consult.models import AppointmentParticipant
from orgs.scoping import scopes_disabled
from tests.conftest import host_client, signed_in_client
from tests.consult.test_room_services import appointment_now, client_participant, patient_client, switch
from usage import client_errors
from usage.models import ClientError

URL = "/usage/client-errors/"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # the rate-limit counters
    yield
    cache.clear()


def post(browser, body=None, *, raw=None, url=URL, **headers):
    data = raw if raw is not None else json.dumps(body if body is not None else
                                                  {"kind": "js_error", "source": "room", "message": "boom"})
    return browser.post(url, data=data, content_type="application/json", **headers)


def rows(**filters):
    return list(ClientError.objects.with_scopes_disabled().filter(**filters).order_by("pk"))


def guest_client(org, appointment):
    with scopes_disabled():
        guest = AppointmentParticipant.objects.select_related("appointment").get(appointment=appointment, role="guest")
    return patient_client(org, guest)


def test_a_patient_report_is_stored_cut_and_cleaned_with_the_appointment_of_the_session(alpha):
    appointment = appointment_now(alpha)
    other = appointment_now(alpha, minutes=30, last_name="Other")
    patient = patient_client(alpha, client_participant(appointment))

    response = post(patient, {"kind": "permission_denied", "source": "waiting_room",
                              "message": "Not\x00Allowed\u202eError\nline two" + "x" * 600,
                              "detail": "d" * 1500, "appointment": other.pk},
                    HTTP_USER_AGENT="Mozilla/5.0 " + "U" * 400)
    assert response.status_code == 204
    [row] = rows()
    assert row.organization_id == alpha.pk
    assert row.appointment_id == appointment.pk  # the session's, never the body's
    assert (row.kind, row.source, row.role) == ("permission_denied", "waiting_room", "client")
    assert row.message.startswith("NotAllowedError line two") and len(row.message) == 500
    assert len(row.detail) == 1000 and len(row.user_agent) == 300 and row.user_agent.startswith("Mozilla/5.0 U")


def test_roles_extra_participant_and_employees(alpha, beta):
    appointment = appointment_now(alpha, guests=1)
    assert post(guest_client(alpha, appointment)).status_code == 204
    assert rows()[-1].role == "guest" and rows()[-1].appointment_id == appointment.pk

    gp = signed_in_client(alpha.people["gp"].user, alpha)
    # The staff waiting room names no appointment.
    assert post(gp, {"kind": "socket_failed", "source": "waiting_room"}).status_code == 204
    assert (rows()[-1].role, rows()[-1].appointment_id) == ("staff", None)
    # The staff room names its appointment in the report URL; it counts only for an employee who may hold it.
    in_room = post(gp, {"kind": "ice_failed", "source": "room"}, url=f"{URL}?appointment={appointment.pk}")
    assert in_room.status_code == 204
    assert (rows()[-1].role, rows()[-1].appointment_id) == ("staff", appointment.pk)

    count = len(rows())
    foreign = appointment_now(beta)
    switch(alpha, strict_departments=True)
    physio = signed_in_client(alpha.people["physio"].user, alpha)
    patient = patient_client(alpha, client_participant(appointment))
    for who, browser, url in [
        ("another organisation's appointment", gp, f"{URL}?appointment={foreign.pk}"),
        ("no such appointment", gp, f"{URL}?appointment=999999"),
        ("not a number", gp, f"{URL}?appointment=1%2B1"),
        ("a department the physio may not see", physio, f"{URL}?appointment={appointment.pk}"),
        ("a patient naming an appointment", patient, f"{URL}?appointment={appointment.pk}"),
    ]:
        assert post(browser, url=url).status_code == 404, who
    assert len(rows()) == count


def test_nobody_else_may_report_and_nothing_is_stored(alpha, beta):
    appointment = appointment_now(alpha)
    participant = client_participant(appointment)
    patient = patient_client(alpha, participant)
    # The same browser (its alpha session cookie) on beta's host: not a participant of beta.
    patient.defaults["HTTP_HOST"] = beta.hostname
    assert post(patient).status_code == 403
    # An alpha employee's session on beta's host, and a beta employee on alpha's host.
    alpha_gp = signed_in_client(alpha.people["gp"].user, alpha)
    alpha_gp.defaults["HTTP_HOST"] = beta.hostname
    assert post(alpha_gp).status_code == 403
    assert post(signed_in_client(beta.people["gp"].user, beta), url=URL).status_code == 204  # on its own host: fine
    beta_rows = rows(organization=beta)
    assert len(beta_rows) == 1 and beta_rows[0].role == "staff"
    # No session at all; the platform host.
    assert post(host_client(alpha)).status_code == 403
    assert post(host_client(None)).status_code == 404
    # A stale session: the link was replaced (a moved appointment gives new links).
    stale = patient_client(alpha, participant)
    AppointmentParticipant.objects.with_scopes_disabled().filter(pk=participant.pk).update(token_hash="0" * 64)
    assert post(stale).status_code == 403
    assert rows(organization=alpha) == []
    # Only POST.
    assert host_client(alpha).get(URL).status_code == 405


@pytest.mark.parametrize("body, status", [
    ({"kind": "made_up", "source": "room"}, 400),
    ({"kind": "js_error", "source": "kitchen"}, 400),
    ({"source": "room"}, 400),
    ({"kind": "js_error", "source": "room", "message": {"nested": 1}}, 400),
    ({"kind": "js_error", "source": "room", "detail": 5}, 400),
    (["js_error", "room"], 400),
    ("{not json", 400),
    (b"\xff\xfe", 400),
    ({"kind": "js_error", "source": "room", "message": "x" * 5000}, 413),
])
def test_invalid_reports_are_refused_and_nothing_is_stored(alpha, body, status):
    patient = patient_client(alpha, client_participant(appointment_now(alpha)))
    raw = body if isinstance(body, str | bytes) else None
    assert post(patient, body if raw is None else None, raw=raw).status_code == status
    assert rows() == []


def test_the_21st_report_of_a_session_is_refused_another_session_is_not(alpha):
    first = patient_client(alpha, client_participant(appointment_now(alpha)))
    second = patient_client(alpha, client_participant(appointment_now(alpha, minutes=30, last_name="Other")))
    for number in range(client_errors.SESSION_LIMIT):
        assert post(first, {"kind": "js_error", "source": "room", "message": f"error {number}"}).status_code == 204
    assert post(first).status_code == 429
    assert len(rows()) == client_errors.SESSION_LIMIT
    assert post(second).status_code == 204  # same address, another session
    assert len(rows()) == client_errors.SESSION_LIMIT + 1


def test_one_address_is_limited_over_all_its_sessions(alpha, monkeypatch):
    monkeypatch.setattr(client_errors, "ADDRESS_LIMIT", 3)
    browsers = [patient_client(alpha, client_participant(appointment_now(alpha, minutes=m, last_name=f"P{m}")))
                for m in (1, 30, 60, 90)]
    assert [post(b, REMOTE_ADDR="203.0.113.9").status_code for b in browsers] == [204, 204, 204, 429]
    assert post(browsers[3], REMOTE_ADDR="203.0.113.10").status_code == 204  # another address
    assert len(rows()) == 4


def test_the_pages_carry_the_script_and_its_csrf_token_which_the_endpoint_checks(alpha):
    appointment = appointment_now(alpha)
    browser = Client(HTTP_HOST=alpha.hostname, enforce_csrf_checks=True)
    from consult import services

    browser.get(services.participant_link(client_participant(appointment)).split(":8000", 1)[1])
    page = browser.get("/c/").content.decode()
    tag = re.search(r'<script src="[^"]*usage/error-report\.js"[^>]*>', page).group(0)
    assert 'data-source="waiting_room"' in tag and f'data-endpoint="{URL}"' in tag and 'nonce="' in tag
    token = re.search(r'data-csrf-token="([^"]+)"', tag).group(1)

    assert post(browser).status_code == 403  # no token: CSRF refuses it
    assert rows() == []
    assert post(browser, HTTP_X_CSRFTOKEN=token).status_code == 204
    assert len(rows()) == 1

    gp = signed_in_client(alpha.people["gp"].user, alpha)
    staff_page = gp.get("/portal/waiting-room/").content.decode()
    assert re.search(r'<script src="[^"]*usage/error-report\.js"[^>]*data-source="waiting_room"', staff_page)
