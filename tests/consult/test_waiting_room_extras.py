"""The waiting room's extras: the organisation's texts with placeholders (F-TEXT-3), the disclaimer, explainer
video and "more information" page (F-ORG-6, F-WAIT-1), and the practitioner's count badge (F-WAIT-2)."""

import zoneinfo
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from django.utils import timezone

from consult import services, waiting
from consult.models import AppointmentParticipant
from consult.room_texts import RoomTexts, explainer_video, room_texts
from orgs.models import Membership, Organization
from orgs.scoping import scopes_disabled
from tests.conftest import host_client, signed_in_client
from tests.consult.test_waiting_consumers import book, socket


def fresh(org):
    return Organization.objects.get(pk=org.pk)


def local_time(org, appointment):
    return appointment.starts_at.astimezone(zoneinfo.ZoneInfo(org.time_zone)).strftime("%H:%M")


def update(org, **fields):
    Organization.objects.filter(pk=org.pk).update(**fields)
    org.refresh_from_db()


def booked(org):
    """An appointment with its participant, loaded afresh (with the organisation as it is now)."""
    _appointment, participant = book(org)
    participant = AppointmentParticipant.objects.with_scopes_disabled().select_related(
        "appointment__organization", "person").get(pk=participant.pk)
    return participant.appointment, participant


def open_link(org, participant, client=None):
    """Open the personal link like a browser does; returns the browser (a test client) on the waiting-room page."""
    browser = client or host_client(org)
    browser.get(services.participant_link(participant).split(":8000", 1)[1])
    return browser


# --- texts with placeholders -----------------------------------------------------------------------

def test_room_texts_fill_the_email_placeholders_in_the_visitors_language(alpha):
    update(alpha, waiting_room_text_en="Hello *|client_name|*,\n*|appointment_welcome_from|* sees you at "
                                       "*|appointment_time|*. *|no_such_code|*",
           waiting_room_text_nl="Hallo *|client_name|*", after_consult_text_en="Call *|organisation_name|*.")
    appointment, participant = booked(alpha)
    with scopes_disabled():
        texts = room_texts(appointment, participant, "en")
        dutch = room_texts(appointment, participant, "nl")
    assert isinstance(texts, RoomTexts)
    assert texts.waiting_room == (f"Hello J. Jansen,\nDr. Alpha sees you at {local_time(alpha, appointment)}. "
                                  "*|no_such_code|*")  # unknown codes stay visible, never evaluated
    assert texts.after_consult == "Call Alpha Practice."
    assert dutch.waiting_room == "Hallo J. Jansen"


def test_room_texts_fall_back_to_the_default_language_then_to_the_standard_text(alpha):
    update(alpha, default_language="nl", waiting_room_text_nl="Welkom bij *|organisation_name|*")
    appointment, participant = booked(alpha)
    with scopes_disabled():
        assert room_texts(appointment, participant, "de").waiting_room == "Welkom bij Alpha Practice"
        assert room_texts(appointment, participant, "xx").waiting_room == "Welkom bij Alpha Practice"
        update(appointment.organization, waiting_room_text_nl="  ")
        standard = room_texts(appointment, participant, "en")
    assert standard.waiting_room == "Welcome. Dr. Alpha will call you in shortly."
    assert "Dr. Alpha" in standard.after_consult and "*|" not in standard.after_consult


def test_the_waiting_room_shows_the_text_escaped_with_line_breaks(alpha):
    _appointment, participant = book(alpha)
    update(alpha, waiting_room_text_en="<b>Hi</b> *|client_name|*\nsee you")
    html = open_link(alpha, participant).get("/c/").content.decode()
    assert "&lt;b&gt;Hi&lt;/b&gt; J. Jansen<br>see you" in html
    assert "<b>Hi</b>" not in html


# --- the settings screen -----------------------------------------------------------------------------

def settings_data(admin):
    form = admin.get("/admin/organisation/").context["form"]
    return {k: ("on" if v is True else v) for k, v in form.initial.items()
            if v is not None and v is not False and k in form.fields}


def test_settings_list_the_placeholders_and_refuse_unknown_ones(alpha):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    html = admin.get("/admin/organisation/").content.decode()
    assert "*|appointment_welcome_from|*" in html and 'name="waiting_room_text_en"' in html
    data = settings_data(admin)
    data.update({"waiting_room_text_en": "Hi *|client_nam|* and *|whoever|*", "after_consult_text_de": "*|oops|*"})
    response = admin.post("/admin/organisation/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "*|client_nam|*, *|whoever|*" in errors["waiting_room_text_en"][0]
    assert "*|oops|*" in errors["after_consult_text_de"][0]
    assert fresh(alpha).waiting_room_text_en == ""

    data.update({"waiting_room_text_en": "Hi *|client_name|*", "after_consult_text_de": "Danke"})
    assert admin.post("/admin/organisation/", data).status_code == 302
    assert fresh(alpha).waiting_room_text_en == "Hi *|client_name|*"
    assert fresh(alpha).after_consult_text_de == "Danke"


# --- the disclaimer ----------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_waiting_room_is_entered_only_after_the_disclaimer_is_accepted():
    from tests.conftest import make_org

    alpha = make_org("alpha", "Alpha Practice")
    update(alpha, disclaimer_enabled=True, disclaimer_text="Video is not for emergencies.\nCall 112.")
    _appointment, participant = book(alpha)
    browser = open_link(alpha, participant)
    html = browser.get("/c/").content.decode()
    assert "Video is not for emergencies.<br>Call 112." in html
    assert "data-waiting-room" not in html and "waiting-room.js" not in html  # no socket before accepting
    key = browser.cookies["sessionid"].value

    async def closed_code():
        communicator = socket("/ws/waiting/patient/", "alpha.localhost", key)
        connected, _ = await communicator.connect()
        assert connected
        message = await communicator.receive_output(timeout=2)
        await communicator.wait()
        return message.get("code")

    assert async_to_sync(closed_code)() == 4403
    assert not waiting.WaitingEntry.objects.with_scopes_disabled().exists()

    assert browser.get("/c/disclaimer/").status_code == 405
    strict = Client(HTTP_HOST=alpha.hostname, enforce_csrf_checks=True)
    strict.cookies = browser.cookies
    assert strict.post("/c/disclaimer/").status_code == 403  # CSRF
    response = browser.post("/c/disclaimer/")
    assert response.status_code == 302 and response["Location"] == "/c/"
    html = browser.get("/c/").content.decode()
    assert "data-waiting-room" in html and "Video is not for emergencies." not in html

    async def enters():
        communicator = socket("/ws/waiting/patient/", "alpha.localhost", browser.cookies["sessionid"].value)
        connected, _ = await communicator.connect()
        assert connected
        assert await communicator.receive_json_from(timeout=2) == {"type": "status", "state": "on_time"}
        await communicator.disconnect()

    async_to_sync(enters)()
    assert waiting.WaitingEntry.objects.with_scopes_disabled().filter(participant=participant).exists()

    # Acceptance is per participant: another link opened in the same browser asks again.
    with scopes_disabled():
        client = services.client_create(member=alpha.people["admin"], initials="P.", last_name="Peters",
                                        email="peters@example.test", date_of_birth="1980-01-01", language="en")
        other = services.appointment_create(
            member=alpha.people["admin"], client=client, practitioner=alpha.people["physio"],
            starts_at=timezone.now().replace(microsecond=0) + timedelta(minutes=15),
        ).participants.get()
    html = open_link(alpha, other, browser).get("/c/").content.decode()
    assert "data-disclaimer" in html and "data-waiting-room" not in html


def test_without_the_disclaimer_switch_the_waiting_room_opens_at_once(alpha):
    update(alpha, disclaimer_text="Not asked while the switch is off.")
    _appointment, participant = book(alpha)
    html = open_link(alpha, participant).get("/c/").content.decode()
    assert "data-waiting-room" in html and "Not asked while the switch is off." not in html


# --- explainer video and "more information" ----------------------------------------------------------

@pytest.mark.parametrize(("url", "kind", "src"), [
    ("https://media.example.org/uitleg.MP4", "file", "https://media.example.org/uitleg.MP4"),
    ("https://example.org/v/intro.webm?x=1", "file", "https://example.org/v/intro.webm?x=1"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3", "embed", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
    ("https://youtu.be/dQw4w9WgXcQ", "embed", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
    ("https://m.youtube.com/shorts/dQw4w9WgXcQ", "embed", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
    ("https://vimeo.com/76979871", "embed", "https://player.vimeo.com/video/76979871?dnt=1"),
    ("https://player.vimeo.com/video/76979871", "embed", "https://player.vimeo.com/video/76979871?dnt=1"),
    ("https://www.youtube.com/watch?v=<script>", "link", "https://www.youtube.com/watch?v=<script>"),
    ("https://example.org/how-it-works", "link", "https://example.org/how-it-works"),
])
def test_explainer_video_kinds(url, kind, src):
    video = explainer_video(url)
    assert (video.kind, video.src) == (kind, src)


def test_explainer_video_without_a_usable_url():
    assert explainer_video("") is None
    assert explainer_video("javascript:alert(1)") is None


def test_the_page_frames_exactly_the_organisations_video_and_page(alpha):
    _appointment, participant = book(alpha)
    update(alpha, explainer_video_url="https://youtu.be/dQw4w9WgXcQ",
           more_info_iframe_url="https://info.example.org/wachtkamer")
    browser = open_link(alpha, participant)
    response = browser.get("/c/")
    html = response.content.decode()
    assert '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in html
    assert 'data-src="https://info.example.org/wachtkamer"' in html and "<dialog" in html
    policy = response["Content-Security-Policy"]
    assert "frame-src 'self' https://www.youtube-nocookie.com https://info.example.org;" in policy
    assert "media-src 'self' blob:;" in policy

    update(alpha, explainer_video_url="https://cdn.example.net:8443/intro.mp4", more_info_iframe_url="")
    response = browser.get("/c/")
    assert '<video controls preload="metadata" playsinline src="https://cdn.example.net:8443/intro.mp4"' in \
        response.content.decode()
    assert "media-src 'self' blob: https://cdn.example.net:8443;" in response["Content-Security-Policy"]
    assert "frame-src 'self';" in response["Content-Security-Policy"]
    # Other pages never frame or play anything from elsewhere.
    assert "frame-src 'self';" in browser.get("/c/check/")["Content-Security-Policy"]


# --- the practitioner's count badge ------------------------------------------------------------------

def count_for(org, key, host_org=None):
    client = signed_in_client(org.people[key].user, host_org or org)
    response = client.get("/portal/waiting-room/count/")
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    return response.json()["count"]


def test_the_count_covers_only_who_waits_for_this_member(alpha, beta):
    _appointment, participant = book(alpha)  # with alpha's GP
    update(alpha, strict_departments=True)  # appointments with a department (F-ORG-7)
    with scopes_disabled():
        waiting.waiting_enter(participant=participant)
        admin = Membership.objects.select_related("organization", "user").get(pk=alpha.people["admin"].pk)
        client = services.client_create(member=admin, initials="D.", last_name="Dept", email="dept@example.test",
                                        date_of_birth="1990-01-01", language="en",
                                        department=alpha.departments_by_name["gp"])
        department_appointment = services.appointment_create(
            member=admin, client=client, department=alpha.departments_by_name["gp"],
            starts_at=timezone.now().replace(microsecond=0) + timedelta(minutes=20),
        )
        waiting.waiting_enter(participant=department_appointment.participants.get())
        beta_appointment, beta_participant = book(beta)
        waiting.waiting_enter(participant=beta_participant)
    assert count_for(alpha, "gp") == 2  # their own client and their department's
    assert count_for(alpha, "deptadmin") == 1  # the department's only
    assert count_for(alpha, "physio") == 0  # another department
    assert count_for(beta, "gp") == 1  # beta's own patient, never alpha's
    assert count_for(beta, "physio") == 0
    assert host_client(alpha).get("/portal/waiting-room/count/").status_code == 302  # signed out: to sign in


def test_the_portal_navigation_carries_the_live_badge(alpha):
    html = signed_in_client(alpha.people["gp"].user, alpha).get("/portal/").content.decode()
    assert 'data-count-url="/portal/waiting-room/count/"' in html and "portal/waiting-badge.js" in html
    assert 'data-doorbell="on"' in html and "data-doorbell-toggle" in html
    update(alpha, doorbell_sound=False)
    html = signed_in_client(alpha.people["gp"].user, alpha).get("/portal/").content.decode()
    assert 'data-doorbell="off"' in html and "data-doorbell-toggle" not in html
