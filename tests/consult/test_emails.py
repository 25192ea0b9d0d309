"""Appointment emails: placeholders, default texts, languages, HTML + text + iCalendar.

Covers F-TEXT-1 (email texts with *|placeholder|* codes, never evaluated, validated in the editor),
F-TEXT-2 (a default email set in nl, en, de and es; the client's language) and F-APPT-2 (the
confirmation, reschedule, cancellation and invitation emails with their calendar invitation).
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from icalendar import Calendar

from consult import services
from consult.forms import EmailTemplateForm
from consult.models import FIXED_TEXT_KINDS, EmailDelivery, EmailKind, EmailSet, EmailTemplate
from consult.placeholders import PLACEHOLDERS, fill
from orgs.models import Membership
from orgs.scoping import organization_scope

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
STARTS_AT = datetime(2027, 6, 15, 14, 0, tzinfo=AMS)
LINK = re.compile(r"https?://[^\s/]+/c/([A-Za-z0-9_-]+)/")
XSS = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2027, 6, 1, 10, 0, tzinfo=AMS), tick=True):
        yield


@pytest.fixture
def gp(alpha):
    return alpha.people["gp"]


def new_client(member, *, language="en", last_name="Jansen", first_name="Anna", email="anna@example.test", **fields):
    return services.client_create(member=member, initials=first_name[:1], first_name=first_name, last_name=last_name,
                                  email=email, language=language, **fields)


def book(member, client, callbacks, *, starts_at=STARTS_AT, **kwargs):
    with callbacks(execute=True):
        return services.appointment_create(member=member, client=client, practitioner=member, starts_at=starts_at,
                                           **kwargs)


def html_of(message):
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def invitation_of(message):
    [attachment] = [a for a in message.attachments if a[0] == "invite.ics"]
    filename, content, mimetype = attachment
    assert mimetype.startswith("text/calendar")
    if isinstance(content, bytes):
        content = content.decode()
    return Calendar.from_ical(content), mimetype


def event_of(calendar):
    [event] = calendar.walk("VEVENT")
    return event


# --- F-TEXT-1: placeholders ----------------------------------------------------------------------

def test_fill_replaces_known_codes_and_leaves_unknown_ones_visible():
    """covers F-TEXT-1"""
    values = {"client_name": "Anna Jansen", "appointment_time": "14:00"}
    text = "Dear *|client_name|*, at *|appointment_time|* (*|not_a_code|*, *|practitioner_name|*)."
    assert fill(text, values) == "Dear Anna Jansen, at 14:00 (*|not_a_code|*, )."
    assert fill("*|client_name|**|client_name|*", values) == "Anna JansenAnna Jansen"
    assert fill("", values) == "" and fill(None, values) == ""


def test_fill_escapes_values_in_html_mode_only():
    """covers F-TEXT-1"""
    values = {"client_name": XSS, "personal_message": 'Tom & "Jerry"'}
    html = fill("<p>*|client_name|* / *|personal_message|*</p>", values, html=True)
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; / Tom &amp; &quot;Jerry&quot;</p>"
    assert fill("*|client_name|*", values) == XSS  # the text part is plain text


def test_fill_never_evaluates_attribute_or_template_syntax():
    """covers F-TEXT-1: *|__class__|*, {{ ... }} and {% ... %} are text, not code."""
    values = {"client_name": "Anna"}
    text = "*|__class__|* *|client_name.__class__|* {{ settings.SECRET_KEY }} {% debug %} *|client_name|*"
    assert fill(text, values) == text.replace("*|client_name|*", "Anna")
    assert fill(text, values, html=True) == text.replace("*|client_name|*", "Anna")


def test_client_name_with_markup_is_escaped_in_the_html_part_of_a_real_email(
    alpha, gp, django_capture_on_commit_callbacks
):
    """covers F-TEXT-1, F-APPT-2: a client called <script>alert(1)</script> never reaches the HTML unescaped."""
    client = new_client(gp, first_name=XSS, last_name="Jansen")
    book(gp, client, django_capture_on_commit_callbacks, personal_message='<img src=x onerror="alert(2)">')
    [message] = mail.outbox
    html = html_of(message)
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Jansen" in html
    assert "&lt;img src=x onerror=" in html
    assert f"{XSS} Jansen" in message.body  # plain text keeps the name as it is


def test_code_like_text_in_an_organisations_template_is_not_evaluated(alpha, gp, django_capture_on_commit_callbacks):
    """covers F-TEXT-1: a template body with *|__class__|* or {{ settings.SECRET_KEY }} is sent as written."""
    with organization_scope(alpha):
        template = EmailTemplate.objects.get(email_set__is_default=True, kind=EmailKind.CONFIRMATION, language="en")
        template.subject = "Hello *|__class__|* {{ settings.SECRET_KEY }}"
        template.body = ("Dear *|client_name|*, *|__class__|* *|client_name.__dict__|* {{ settings.SECRET_KEY }} "
                         "{% debug %} {{ request }} ${7*7} *|consult_deeplink|*")
        template.save()
    book(gp, new_client(gp), django_capture_on_commit_callbacks)
    [message] = mail.outbox
    html = html_of(message)
    assert message.subject == "Hello *|__class__|* {{ settings.SECRET_KEY }}"
    for literal in ("*|__class__|*", "*|client_name.__dict__|*", "{{ settings.SECRET_KEY }}", "{% debug %}",
                    "{{ request }}", "${7*7}"):
        assert literal in message.body
        assert literal in html
    assert "Dear Anna Jansen," in message.body
    for part in (message.subject, message.body, html):
        assert settings.SECRET_KEY not in part
        assert "<class" not in part
    assert LINK.search(message.body)


def test_the_email_text_editor_does_not_offer_fixed_text_emails(alpha):
    """Receipts and chat notifications are written by code: the editor offers no text for them, and refuses one."""
    with organization_scope(alpha):
        email_set = EmailSet.objects.create(organization=alpha, name="Texts")
        form = EmailTemplateForm(data={"email_set": email_set.pk, "kind": EmailKind.CHAT_UNREAD, "language": "en",
                                       "subject": "New message", "body": "Hello"})
        offered = {value for value, _label in form.fields["kind"].choices}
        assert EmailKind.CONFIRMATION in offered and not offered & set(FIXED_TEXT_KINDS)
        assert not form.is_valid() and "kind" in form.errors


def test_the_email_text_editor_refuses_unknown_codes_and_lists_the_known_ones(alpha):
    """covers F-TEXT-1"""
    with organization_scope(alpha):
        email_set = EmailSet.objects.create(organization=alpha, name="Physiotherapy texts")
        form = EmailTemplateForm(data={
            "email_set": email_set.pk, "kind": EmailKind.CONFIRMATION, "language": "en",
            "subject": "Your appointment with *|practitionr_name|*",
            "body": "Dear *|client_name|*, *|__class__|* *|client_nam|*",
        })
        assert not form.is_valid()
        [body_error] = form.errors["body"]
        [subject_error] = form.errors["subject"]
        assert "*|__class__|*" in body_error and "*|client_nam|*" in body_error
        assert "*|client_name|*, " not in body_error.split("Known codes")[0]  # a known code is not called unknown
        assert "*|practitionr_name|*" in subject_error
        for code in PLACEHOLDERS:
            assert f"*|{code}|*" in body_error
            assert f"*|{code}|*" in str(form.fields["body"].help_text)

        good = EmailTemplateForm(data={
            "email_set": email_set.pk, "kind": EmailKind.CONFIRMATION, "language": "en",
            "subject": "Your appointment on *|appointment_date|*",
            "body": "Dear *|client_name|*, see you at *|appointment_time|*: *|consult_deeplink|*",
        })
        assert good.is_valid(), good.errors


# --- F-TEXT-2: the default set and the client's language ------------------------------------------

def test_a_new_organisation_has_a_default_email_set_in_four_languages(alpha):
    """covers F-TEXT-2: confirmation, reminder, reschedule, cancellation and invitation in nl, en, de, es."""
    with organization_scope(alpha):
        [email_set] = EmailSet.objects.filter(is_default=True)
        templates = list(EmailTemplate.objects.filter(email_set=email_set))
    found = {(t.kind, t.language) for t in templates}
    kinds = {"confirmation", "reminder", "reschedule", "cancellation", "invitation", "questionnaire"}
    assert kinds == set(EmailKind.values) - set(FIXED_TEXT_KINDS)  # receipts and chat notifications: fixed texts
    assert found == {(kind, language) for kind in kinds for language in ("nl", "en", "de", "es")}
    assert all(t.subject.strip() and t.body.strip() for t in templates)
    assert all(t.organization_id == alpha.pk for t in templates)
    # Every link-carrying text has the link code, and none uses an unknown code.
    for template in templates:
        assert re.findall(r"\*\|(\w+)\|\*", template.subject + template.body)
        assert set(re.findall(r"\*\|(\w+)\|\*", template.subject + template.body)) <= set(PLACEHOLDERS)
        if template.kind == "questionnaire":  # no appointment needed: the portal link instead
            assert "*|portal_deeplink|*" in template.body and "*|questionnaire_titles|*" in template.body
        elif template.kind != "cancellation":
            assert "*|consult_deeplink|*" in template.body
    with organization_scope(alpha):
        assert EmailSet.objects.count() == 1  # created once, not once per signal or language


@pytest.mark.parametrize("language, subject_start, date_text, time_text", [
    ("de", "Ihre Videosprechstunde am ", "15. Juni 2027", "14:00"),
    ("es", "Su videoconsulta el ", "15 de junio de 2027", "14:00"),
    ("nl", "Uw videoconsult op ", "15 juni 2027", "14:00"),
    ("en", "Your video consultation on ", "June 15, 2027", "14:00"),
])
def test_the_email_goes_out_in_the_clients_language(
    alpha, gp, django_capture_on_commit_callbacks, language, subject_start, date_text, time_text
):
    """covers F-TEXT-2: texts, date and time in the client's language (alpha's default is English)."""
    book(gp, new_client(gp, language=language), django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.subject.startswith(subject_start)
    assert date_text in message.subject and time_text in message.subject
    assert f'<html lang="{language}">' in html_of(message)


# --- F-APPT-2: the emails and their calendar invitations ------------------------------------------

def test_confirmation_has_text_html_and_a_calendar_request(alpha, gp, django_capture_on_commit_callbacks):
    """covers F-APPT-2: text part, HTML part, invite.ics with METHOD:REQUEST, UID, TZID, VTIMEZONE, SEQUENCE 0."""
    client = new_client(gp)
    appointment = book(gp, client, django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.to == ["anna@example.test"]
    assert message.subject == "Your video consultation on June 15, 2027 at 14:00"
    link = LINK.search(message.body)
    assert link and "Dear Anna Jansen," in message.body
    html = html_of(message)
    assert link.group(0) in html and f'href="{link.group(0)}"' in html
    assert "Alpha Practice" in html

    calendar, mimetype = invitation_of(message)
    assert "method=REQUEST" in mimetype
    assert calendar["METHOD"] == "REQUEST"
    event = event_of(calendar)
    assert str(event["UID"]) == f"{appointment.ical_uid}@{alpha.hostname}"
    assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert event.decoded("DTSTART") == STARTS_AT
    assert event.decoded("DTSTART").utcoffset().total_seconds() == 2 * 3600  # 14:00 summer time
    assert event.decoded("DTEND") == datetime(2027, 6, 15, 14, 20, tzinfo=AMS)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert link.group(0) in str(event["URL"])
    with organization_scope(alpha):
        [delivery] = EmailDelivery.objects.all()
    assert (delivery.kind, delivery.to, delivery.status) == (EmailKind.CONFIRMATION, "anna@example.test", "sent")


@pytest.mark.parametrize("contact_email, address", [
    ("", "no-reply@openconsult.localhost"),  # settings.DEFAULT_FROM_EMAIL's address
    ("desk@alpha.test", "desk@alpha.test"),
])
def test_calendar_organizer_is_a_plain_mailto_address(alpha, gp, django_capture_on_commit_callbacks, settings,
                                                      contact_email, address):
    """covers F-APPT-2: ORGANIZER is a valid mailto: URI (RFC 5545 CAL-ADDRESS), with the name in CN."""
    settings.DEFAULT_FROM_EMAIL = "OpenConsult <no-reply@openconsult.localhost>"
    alpha.contact_email = contact_email
    alpha.save()
    member = Membership.objects.with_scopes_disabled().select_related("organization", "user").get(pk=gp.pk)
    book(member, new_client(member), django_capture_on_commit_callbacks)
    organizer = event_of(invitation_of(mail.outbox[-1])[0])["ORGANIZER"]
    assert str(organizer) == f"mailto:{address}"
    assert str(organizer.params["CN"]) == "Alpha Practice"


def test_reschedule_keeps_the_uid_and_raises_the_sequence_then_cancel_cancels(
    alpha, gp, django_capture_on_commit_callbacks
):
    """covers F-APPT-2: same UID, SEQUENCE 1, new time and new link; then METHOD:CANCEL and STATUS:CANCELLED."""
    appointment = book(gp, new_client(gp), django_capture_on_commit_callbacks)
    first = mail.outbox[-1]
    first_uid = str(event_of(invitation_of(first)[0])["UID"])

    new_start = datetime(2027, 6, 16, 9, 30, tzinfo=AMS)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(member=gp, appointment=appointment, starts_at=new_start)
    assert len(mail.outbox) == 2
    moved = mail.outbox[-1]
    assert moved.subject.startswith("Changed: your video consultation is now on June 16, 2027")
    calendar, mimetype = invitation_of(moved)
    event = event_of(calendar)
    assert calendar["METHOD"] == "REQUEST" and "method=REQUEST" in mimetype
    assert str(event["UID"]) == first_uid
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == new_start and event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert LINK.search(moved.body).group(1) != LINK.search(first.body).group(1)  # a new personal link

    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(member=gp, appointment=appointment, message="The doctor is ill.")
    assert len(mail.outbox) == 3
    cancelled = mail.outbox[-1]
    assert cancelled.subject.startswith("Cancelled: your video consultation on June 16, 2027")
    assert "The doctor is ill." in cancelled.body
    calendar, mimetype = invitation_of(cancelled)
    event = event_of(calendar)
    assert calendar["METHOD"] == "CANCEL" and "method=CANCEL" in mimetype
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == first_uid
    assert int(event["SEQUENCE"]) == 2
    assert "URL" not in event  # a cancelled appointment carries no link
    assert html_of(cancelled) and cancelled.body


def test_extra_participants_get_the_invitation_text(alpha, gp, django_capture_on_commit_callbacks):
    """covers F-APPT-2: guests (external participants) get "invitation", the client the confirmation."""
    client = new_client(gp)
    guest = services.client_create(member=gp, is_external=True, initials="P", first_name="Piet", last_name="Jansen",
                                   email="piet@example.test", language="nl")
    appointment = book(gp, client, django_capture_on_commit_callbacks, guests=[guest])
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"anna@example.test", "piet@example.test"}
    assert by_address["anna@example.test"].subject.startswith("Your video consultation on")
    invitation = by_address["piet@example.test"]
    assert invitation.subject.startswith("Uitnodiging: videoconsult op 15 juni 2027")
    assert "U bent uitgenodigd" in invitation.body and "Beste Piet Jansen," in invitation.body
    assert LINK.search(invitation.body).group(1) != LINK.search(by_address["anna@example.test"].body).group(1)
    assert event_of(invitation_of(invitation)[0])["UID"] == f"{appointment.ical_uid}@{alpha.hostname}"
    with organization_scope(alpha):
        kinds = {d.to: d.kind for d in EmailDelivery.objects.all()}
    assert kinds == {"anna@example.test": EmailKind.CONFIRMATION, "piet@example.test": EmailKind.INVITATION}


def test_an_organisation_that_sends_no_emails_sends_none(alpha, gp, django_capture_on_commit_callbacks):
    """covers F-APPT-2: with do_not_send_emails nothing goes out for create, reschedule or cancel."""
    alpha.do_not_send_emails = True
    alpha.save()
    member = Membership.objects.with_scopes_disabled().select_related("organization", "user").get(pk=gp.pk)
    assert member.organization.do_not_send_emails
    guest = services.client_create(member=member, is_external=True, initials="P", last_name="Jansen",
                                   email="piet@example.test")
    appointment = book(member, new_client(member), django_capture_on_commit_callbacks, guests=[guest])
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(member=member, appointment=appointment,
                                        starts_at=datetime(2027, 6, 16, 9, 30, tzinfo=AMS))
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(member=member, appointment=appointment)
    assert mail.outbox == []
    with organization_scope(alpha):
        assert not EmailDelivery.objects.exists()
