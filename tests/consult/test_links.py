"""The personal appointment link: its opening window, replacement, cancellation, tenancy and secrecy.

Covers F-APPT-3 (the link opens a set time before the start and closes a set time after it; it is
personal, unguessable and bound to its organisation) and F-APPT-2 (a rescheduled appointment's old link
tells the visitor to use the new email; a cancelled appointment says so).
"""

import base64
import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection

from consult import services
from consult.models import AppointmentParticipant, RetiredLink
from orgs.scoping import organization_scope
from tests.conftest import host_client
from tests.test_translations import LOCALE, entries

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
T = datetime(2027, 6, 15, 14, 0, tzinfo=AMS)  # summer time: 12:00 UTC
BOOKED_ON = datetime(2027, 6, 1, 10, 0, tzinfo=AMS)
LINK = re.compile(r"https?://[^\s/]+(/c/([A-Za-z0-9_-]+)/)")


def link_in(message):
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1), match.group(2)  # path, token


@pytest.fixture
def booked(alpha, django_capture_on_commit_callbacks):
    """An appointment of alpha's GP at T, booked two weeks before; returns (appointment, path, token)."""
    gp = alpha.people["gp"]
    with time_machine.travel(BOOKED_ON, tick=False):
        client = services.client_create(member=gp, initials="A", first_name="Anna", last_name="Jansen",
                                        email="anna@example.test", language="en")
        with django_capture_on_commit_callbacks(execute=True):
            appointment = services.appointment_create(member=gp, client=client, practitioner=gp, starts_at=T)
    [message] = mail.outbox
    path, token = link_in(message)
    return appointment, path, token


def visit(organization, path, at, **headers):
    """GET the personal link at `at` and follow it to the page the visitor ends on."""
    with time_machine.travel(at, tick=False):
        return host_client(organization).get(path, follow=True, **headers)


def page_of(response):
    assert response.status_code == 200, response.status_code
    # The token was exchanged for a session and left the address bar.
    assert response.redirect_chain == [("/c/", 302)]
    assert response.request["PATH_INFO"] == "/c/"
    return response.content.decode()


def state_of(html):
    states = {
        "too_early": "You are early",
        "open": "You are on time. The practitioner will call you in.",
        "too_late": "This link is no longer valid",
        "cancelled": "This appointment has been cancelled",
    }
    found = [state for state, text in states.items() if text in html]
    assert len(found) == 1, found
    return found[0]


# --- F-APPT-3: the window -----------------------------------------------------------------------

@pytest.mark.parametrize("minutes, state", [(-61, "too_early"), (-59, "open"), (59, "open"), (61, "too_late")])
def test_the_link_opens_an_hour_before_and_closes_an_hour_after_the_start(alpha, booked, minutes, state):
    """covers F-APPT-3: T−61 too early (opens at 13:00), T−59 and T+59 open, T+61 too late (closed at 15:00)."""
    _, path, _ = booked
    html = page_of(visit(alpha, path, T + timedelta(minutes=minutes)))
    assert state_of(html) == state
    assert "Anna Jansen" in html and "14:00" in html  # whose appointment, and when (local time)
    if state == "too_early":
        assert "The waiting room opens at 13:00." in html
    if state == "too_late":
        assert "closed at 15:00" in html


def test_the_opening_time_follows_the_organisations_setting(alpha, booked):
    """covers F-APPT-3: with consult_link_opens_minutes = 15, T−16 is too early and T−14 is open."""
    alpha.consult_link_opens_minutes = 15
    alpha.save()
    _, path, _ = booked
    html = page_of(visit(alpha, path, T - timedelta(minutes=16)))
    assert state_of(html) == "too_early"
    assert "The waiting room opens at 13:45." in html
    assert state_of(page_of(visit(alpha, path, T - timedelta(minutes=14)))) == "open"
    assert state_of(page_of(visit(alpha, path, T - timedelta(minutes=59)))) == "too_early"


def test_a_session_without_a_link_is_told_to_open_the_link(alpha, booked):
    """covers F-APPT-3: /c/ itself, without having opened a link, shows no appointment."""
    with time_machine.travel(T, tick=False):
        response = host_client(alpha).get("/c/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Open the link from your email" in html and "Anna Jansen" not in html


# --- F-APPT-2: rescheduled and cancelled ------------------------------------------------------------

def test_after_a_reschedule_the_old_link_is_replaced_and_the_new_one_works(
    alpha, booked, django_capture_on_commit_callbacks
):
    """covers F-APPT-2, F-APPT-3: the old link answers 410 "This link has been replaced"; the new link opens."""
    appointment, old_path, old_token = booked
    new_start = T + timedelta(days=1)
    with time_machine.travel(BOOKED_ON, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(member=alpha.people["gp"], appointment=appointment, starts_at=new_start)
    new_path, new_token = link_in(mail.outbox[-1])
    assert new_token != old_token

    with time_machine.travel(new_start - timedelta(minutes=30), tick=False):
        old = host_client(alpha).get(old_path)
    assert old.status_code == 410
    assert "This link has been replaced" in old.content.decode()
    assert "Anna Jansen" not in old.content.decode()  # a dead link tells nothing about the appointment

    html = page_of(visit(alpha, new_path, new_start - timedelta(minutes=30)))
    assert state_of(html) == "open"
    # The new link follows the new time: at the old start it is too early.
    assert state_of(page_of(visit(alpha, new_path, T))) == "too_early"


def test_after_a_cancel_the_link_says_the_appointment_is_cancelled(
    alpha, booked, django_capture_on_commit_callbacks
):
    """covers F-APPT-2: the link page of a cancelled appointment says so, even inside the window."""
    appointment, path, _ = booked
    with time_machine.travel(BOOKED_ON, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(member=alpha.people["gp"], appointment=appointment)
    html = page_of(visit(alpha, path, T - timedelta(minutes=10)))
    assert state_of(html) == "cancelled"
    assert "Your appointment is open." not in html


# --- F-APPT-3: tenancy and secrecy -------------------------------------------------------------------

def test_the_link_does_not_work_on_another_organisations_host(alpha, beta, booked, django_capture_on_commit_callbacks):
    """covers F-APPT-3: alpha's link on beta's host is a 404 (also once retired); so is a made-up token."""
    appointment, path, _ = booked
    response = visit(beta, path, T)
    assert response.status_code == 404 and response.redirect_chain == []
    assert host_client(None).get(path).status_code == 404  # nor on the platform's own host
    made_up = f"/c/{secrets.token_urlsafe(32)}/"
    assert visit(alpha, made_up, T).status_code == 404
    assert visit(alpha, "/c/x/", T).status_code == 404

    with time_machine.travel(BOOKED_ON, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(member=alpha.people["gp"], appointment=appointment,
                                        starts_at=T + timedelta(hours=2))
    assert visit(alpha, path, T).status_code == 410
    assert visit(beta, path, T).status_code == 404  # the "replaced" page is alpha's too


def test_the_database_holds_no_token_and_tokens_are_long(alpha, booked, django_capture_on_commit_callbacks):
    """covers F-APPT-3: only a nonce and the token's hash are stored; tokens carry ≥ 128 bits (they are 256)."""
    appointment, path, token = booked
    with time_machine.travel(BOOKED_ON, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(member=alpha.people["gp"], appointment=appointment,
                                        starts_at=T + timedelta(hours=2))
    _, new_token = link_in(mail.outbox[-1])
    page_of(visit(alpha, f"/c/{new_token}/", T + timedelta(hours=2)))  # a visit stores no token either

    for value in (token, new_token):
        assert len(value) >= 22 and len(value) == 43
        assert len(base64.urlsafe_b64decode(value + "=")) * 8 == 256

    with organization_scope(alpha):
        rows = list(AppointmentParticipant.objects.values()) + list(RetiredLink.objects.values())
    assert len(rows) == 2  # the client's participant row and the retired old link
    for row in rows:
        for column, value in row.items():
            for secret in (token, new_token):
                assert secret not in str(value), column
    # Nor anywhere else in the database (audit log, deliveries, sessions, ...).
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names come from introspection
            for row in cursor.fetchall():
                for value in row:
                    text = value.decode(errors="ignore") if isinstance(value, (bytes, memoryview)) else str(value)
                    assert token not in text and new_token not in text, table


# --- F-APPT-3: the visitor's language ---------------------------------------------------------------

def dutch(msgid):
    """The Dutch msgstr for `msgid` in locale/nl/LC_MESSAGES/django.po ("" when it is not there)."""
    for found, strings in entries(LOCALE / "nl/LC_MESSAGES/django.po"):
        if found == msgid:
            return strings[0]
    return ""


def test_the_link_page_is_in_the_visitors_language(alpha, booked):
    """covers F-APPT-3: Accept-Language: nl gets the Dutch page (alpha's default language is English)."""
    _, path, _ = booked
    html = page_of(visit(alpha, path, T - timedelta(minutes=61), HTTP_ACCEPT_LANGUAGE="nl"))
    assert '<html lang="nl">' in html
    heading = dutch("You are early")
    assert heading, 'locale/nl/LC_MESSAGES/django.po has no Dutch text for "You are early"'
    assert heading in html
    assert "You are early" not in html
    opens = dutch("The waiting room opens at %(time)s.")
    assert opens, 'locale/nl/LC_MESSAGES/django.po has no Dutch text for "The waiting room opens at %(time)s."'
    assert opens.replace("%(time)s", "13:00") in html
    # The same link in English for an English browser.
    english = page_of(visit(alpha, path, T - timedelta(minutes=61), HTTP_ACCEPT_LANGUAGE="en"))
    assert "You are early" in english and '<html lang="en">' in english
