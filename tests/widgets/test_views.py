"""The public widget pages over HTTP, as a browser in a cross-site frame would use them: no cookies."""

import re
from datetime import time, timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.utils import timezone

from consult.models import Appointment, AppointmentKind, Availability, AvailabilityKind, Client
from consult.selectors import zone_of
from orgs.scoping import scopes_disabled
from tests.conftest import host_client
from tests.widgets.conftest import make_booking, make_walk_in
from widgets import selectors, tokens
from widgets.models import IntakeChoice

pytestmark = pytest.mark.django_db


def token_in(response):
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def open_walk_in(alpha, widget=None):
    gp = alpha.people["gp"]
    with scopes_disabled():
        gp.walk_in_open = True
        gp.save()
    widget = widget or make_walk_in(alpha)
    client = host_client(alpha)
    page = client.get(widget.get_absolute_url())
    return widget, gp, client, page


def walk_in_post(alpha, gp, token, **extra):
    return {"token": token, "practitioner": f"{alpha.departments_by_name['gp'].pk}:{gp.pk}", "given_name": "Jan",
            "last_name": "de Boer", "email": "", **extra}


def appointments():
    with scopes_disabled():
        return Appointment.objects.count()


# --- walk-in ------------------------------------------------------------------------------------

def test_walk_in_page_lists_who_is_available_and_sets_no_cookie(alpha):
    _widget, _gp, _client, page = open_walk_in(alpha)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Gp Alpha" in body and "General practice" in body and "Walk in now" in body
    assert 'lang="en"' in body and '<main id="main"' in body
    assert not page.cookies  # nothing a browser blocking third-party cookies would lose
    assert "no-store" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]


def test_nobody_available_shows_the_absent_text_cleaned(alpha):
    widget = make_walk_in(alpha, absent_text='<p>Closed now.<script>alert(1)</script></p>')
    page = host_client(alpha).get(widget.get_absolute_url())
    body = page.content.decode()
    assert "Closed now." in body and "<script>alert" not in body
    assert 'id="walk-in-details" hidden' in body


def test_walk_in_in_a_frame_confirms_and_opens_the_waiting_room_in_a_new_tab(alpha):
    widget, gp, client, page = open_walk_in(alpha)
    response = client.post(widget.get_absolute_url(), walk_in_post(alpha, gp, token_in(page)),
                           HTTP_SEC_FETCH_DEST="iframe")
    assert response.status_code == 200
    body = response.content.decode()
    link = re.search(r'href="(http[^"]+/c/[^"]+)" target="_blank" rel="noopener"', body).group(1)
    assert "camera" in body  # the one sentence saying why a new tab
    with scopes_disabled():
        appointment = Appointment.objects.get()
    assert appointment.kind == AppointmentKind.WALK_IN and appointment.practitioner == gp
    # The link opens the waiting room (top level, first-party).
    assert link.startswith("http://alpha.localhost/c/")
    waiting = client.get(urlsplit(link).path, follow=True)
    assert waiting.status_code == 200
    assert not response.cookies


def test_walk_in_opened_top_level_goes_straight_to_the_waiting_room(alpha):
    widget, gp, client, page = open_walk_in(alpha)
    response = client.post(widget.get_absolute_url(), walk_in_post(alpha, gp, token_in(page)),
                           HTTP_SEC_FETCH_DEST="document")
    assert response.status_code == 302
    # On the host the visitor used (not the configured public port): the waiting room is the same site.
    assert re.match(r"^http://alpha\.localhost/c/[A-Za-z0-9_-]+/$", response["Location"])


def test_walk_in_after_the_switch_went_off_says_so_and_writes_nothing(alpha):
    widget, gp, client, page = open_walk_in(alpha)
    with scopes_disabled():
        gp.walk_in_open = False
        gp.save()
    response = client.post(widget.get_absolute_url(), walk_in_post(alpha, gp, token_in(page)))
    assert response.status_code == 409
    assert "no longer available for walk-ins" in response.content.decode()
    assert appointments() == 0
    with scopes_disabled():
        assert Client.objects.count() == 0


def test_intake_fields_follow_the_widget_and_are_validated_in_the_visitors_language(alpha):
    widget = make_walk_in(alpha, ask_date_of_birth=IntakeChoice.REQUIRED, ask_email=IntakeChoice.OFF,
                          ask_phone=IntakeChoice.OPTIONAL, ask_accept_terms=True,
                          terms_text="I accept the terms of use", terms_url="https://example.com/terms")
    widget, gp, client, page = open_walk_in(alpha, widget)
    body = page.content.decode()
    assert 'name="date_of_birth"' in body and 'name="phone"' in body and 'name="email"' not in body
    assert 'name="client_number"' not in body and "I accept the terms of use" in body
    assert 'href="https://example.com/terms" target="_blank" rel="noopener"' in body
    response = client.post(widget.get_absolute_url(), walk_in_post(alpha, gp, token_in(page), given_name=""),
                           HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'lang="nl"' in body
    assert body.count("Dit is een verplicht veld.") >= 3  # name, date of birth, terms: in Dutch
    assert appointments() == 0


def test_a_visitor_must_choose_someone(alpha):
    widget, gp, client, page = open_walk_in(alpha)
    response = client.post(widget.get_absolute_url(), walk_in_post(alpha, gp, token_in(page), practitioner=""))
    assert response.status_code == 400 and "Choose who you would like to see." in response.content.decode()


def test_available_fragment_follows_the_switch(alpha):
    widget, gp, client, _page = open_walk_in(alpha)
    url = widget.get_absolute_url() + "available/"
    assert 'data-count="1"' in client.get(url).content.decode()
    with scopes_disabled():
        gp.walk_in_open = False
        gp.save()
    fragment = client.get(url)
    assert 'data-count="0"' in fragment.content.decode() and "Nobody is here now" in fragment.content.decode()
    assert "frame-ancestors *" in fragment["Content-Security-Policy"]


# --- form token and throttle --------------------------------------------------------------------

def test_a_missing_forged_expired_or_other_widgets_token_is_refused(alpha, monkeypatch):
    widget, gp, client, page = open_walk_in(alpha)
    other = make_walk_in(alpha, name="Other")
    expired = signing.TimestampSigner(salt=tokens.SALT).sign(widget.key)
    for bad in ("", "nonsense", tokens.form_token(other), token_in(page) + "x"):
        response = client.post(widget.get_absolute_url(), walk_in_post(alpha, gp, bad))
        assert response.status_code == 400
        assert "open for a long time" in response.content.decode()
    monkeypatch.setattr(tokens, "MAX_AGE_SECONDS", -1)
    assert client.post(widget.get_absolute_url(), walk_in_post(alpha, gp, expired)).status_code == 400
    assert appointments() == 0


def test_token_is_bound_to_the_widget_key():
    class W:
        key = "abc"

    class V:
        key = "abd"

    assert tokens.token_is_valid(W, tokens.form_token(W))
    assert not tokens.token_is_valid(V, tokens.form_token(W))


def test_submissions_per_address_are_throttled(alpha):
    widget, gp, client, page = open_walk_in(alpha)
    token = token_in(page)
    statuses = [client.post(widget.get_absolute_url(), walk_in_post(alpha, gp, token, given_name=""),
                            REMOTE_ADDR="203.0.113.5").status_code for _ in range(tokens.THROTTLE_LIMIT + 1)]
    assert statuses[:-1] == [400] * tokens.THROTTLE_LIMIT and statuses[-1] == 429
    refused = client.post(widget.get_absolute_url(), walk_in_post(alpha, gp, token), REMOTE_ADDR="203.0.113.5")
    assert refused.status_code == 429 and "too many attempts" in refused.content.decode()
    assert appointments() == 0
    # Another address is not affected.
    assert client.post(widget.get_absolute_url(), walk_in_post(alpha, gp, token),
                       REMOTE_ADDR="203.0.113.6").status_code == 200


# --- booking ------------------------------------------------------------------------------------

def booking_day(alpha):
    zone = zone_of(alpha)
    day = timezone.localdate(timezone=zone) + timedelta(days=1)
    with scopes_disabled():
        Availability.objects.create(organization=alpha, practitioner=alpha.people["gp"], kind=AvailabilityKind.BOOKING,
                                    date=day, start_time=time(9, 0), end_time=time(10, 0))
    return day


def test_booking_flow_from_slot_list_to_confirmation_email(alpha, django_capture_on_commit_callbacks):
    booking_day(alpha)
    widget = make_booking(alpha)
    client = host_client(alpha)
    listing = client.get(widget.get_absolute_url())
    assert listing.status_code == 200
    slot_ids = re.findall(r'href="\?slot=([0-9-]+)"', listing.content.decode())
    assert len(slot_ids) == 3
    details = client.get(widget.get_absolute_url(), {"slot": slot_ids[0]})
    body = details.content.decode()
    assert details.status_code == 200 and "09:00" in body
    # Booking always asks the date of birth and the email address.
    assert re.search(r'name="date_of_birth"[^>]*required', body) and re.search(r'name="email"[^>]*required', body)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(widget.get_absolute_url(), {
            "token": token_in(details), "slot": slot_ids[0], "given_name": "Lotte", "last_name": "Mulder",
            "date_of_birth": "1990-07-02", "email": "lotte@example.com",
        })
    assert done.status_code == 200
    assert "Your appointment is booked" in done.content.decode() and "lotte@example.com" in done.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["lotte@example.com"]
    with scopes_disabled():
        appointment = Appointment.objects.get()
        assert appointment.client.last_name == "Mulder"
    assert not done.cookies


def test_booking_a_slot_taken_meanwhile_shows_fresh_slots_and_writes_nothing(alpha):
    booking_day(alpha)
    widget = make_booking(alpha)
    client = host_client(alpha)
    listing = client.get(widget.get_absolute_url())
    first = re.findall(r'href="\?slot=([0-9-]+)"', listing.content.decode())[0]
    details = client.get(widget.get_absolute_url(), {"slot": first})
    from widgets import services

    services.booking_make(widget=widget, slot_value=first, details={  # someone else was quicker
        "given_name": "A", "last_name": "B", "date_of_birth": None, "email": "b@example.com"})
    with scopes_disabled():
        before = (Client.objects.count(), Appointment.objects.count())
    response = client.post(widget.get_absolute_url(), {
        "token": token_in(details), "slot": first, "given_name": "Lotte", "last_name": "Mulder",
        "date_of_birth": "1990-07-02", "email": "lotte@example.com",
    })
    assert response.status_code == 409
    body = response.content.decode()
    assert "This time was just booked; pick another." in body
    fresh = re.findall(r'href="\?slot=([0-9-]+)"', body)
    assert first not in fresh and len(fresh) == 2
    with scopes_disabled():
        assert (Client.objects.count(), Appointment.objects.count()) == before
    # Opening a taken slot's details says so too.
    assert client.get(widget.get_absolute_url(), {"slot": first}).status_code == 409


def test_booking_with_no_free_times_says_what_to_do(alpha):
    widget = make_booking(alpha, days_ahead=7)
    body = host_client(alpha).get(widget.get_absolute_url()).content.decode()
    assert "There are no free times in the next 7 days. Please contact us." in body


# --- scoping ------------------------------------------------------------------------------------

def test_another_organisations_widget_key_is_a_404(alpha, beta):
    theirs_walk_in, theirs_booking = make_walk_in(beta), make_booking(beta)
    client = host_client(alpha)
    for url in (theirs_walk_in.get_absolute_url(), theirs_walk_in.get_absolute_url() + "available/",
                theirs_booking.get_absolute_url(), "/widgets/walk-in/unknown/"):
        assert client.get(url).status_code == 404
    # …and on the platform host.
    assert host_client(None).get(make_walk_in(alpha).get_absolute_url()).status_code == 404
    # A booking widget's key does not open as a walk-in widget.
    assert client.get(f"/widgets/walk-in/{make_booking(alpha, name='B2').key}/").status_code == 404


def test_keys_are_random_and_unique(alpha):
    a, b = make_walk_in(alpha, name="A"), make_walk_in(alpha, name="B")
    assert a.key != b.key and len(a.key) >= 22
    with scopes_disabled():
        assert selectors.widget_by_key(type(a), a.key) == a


# --- language -----------------------------------------------------------------------------------

def test_the_embedding_page_chooses_the_language_and_the_widget_keeps_it(alpha):
    """A framed widget has no cookie to remember a language: `?lang=` from the page carries it through its links,
    its form and its polling, and standard texts follow it when the admin left them empty."""
    widget, _gp, client, _page = open_walk_in(alpha, make_walk_in(alpha, title="", text=""))
    english = client.get(widget.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in english and "Walk-in consultation" in english
    page = client.get(widget.get_absolute_url() + "?lang=nl", HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert 'lang="nl"' in body and "Inloopconsult" in body
    assert f'action="{widget.get_absolute_url()}?lang=nl"' in body
    assert "?lang=nl" in re.search(r'data-poll="([^"]+)"', body).group(1)
    refused = client.post(widget.get_absolute_url() + "?lang=nl", {"token": token_in(page), "given_name": ""},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert 'lang="nl"' in refused.content.decode() and "Naar de wachtkamer" in refused.content.decode()
    ignored = client.get(widget.get_absolute_url() + "?lang=xx", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in ignored


def test_booking_slot_links_keep_the_language(alpha):
    widget = make_booking(alpha)
    with scopes_disabled():
        gp = alpha.people["gp"]
        Availability.objects.create(
            organization=alpha, practitioner=gp, kind=AvailabilityKind.BOOKING,
            date=timezone.localdate() + timedelta(days=1), start_time=time(9, 0), end_time=time(10, 0),
            consult_minutes=20,
        )
    body = host_client(alpha).get(widget.get_absolute_url() + "?lang=de").content.decode()
    links = re.findall(r'href="(\?slot=[^"]+)"', body)
    assert links and all(link.endswith("&amp;lang=de") for link in links)
