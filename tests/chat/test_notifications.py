"""Unread-message emails (F-CHAT): a client (or a visitor who left an address) hears about a message from the
practice that waited unread longer than the organisation's setting; never its text, once per waiting message,
nothing when the organisation sends no emails."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from chat import services, tasks
from chat.models import Channel
from portal.patient_links import client_id_from_link
from tests.chat.core_helpers import book, channel_of, make_client, member, reload, switch

SECRET = "Your results are fine"


@pytest.fixture
def waiting(alpha):
    """Rosa has a message from gp, sent at T0; the organisation emails after 60 minutes (the default)."""
    rosa = make_client(alpha)
    book(alpha, rosa, minutes=600)
    channel = channel_of(alpha, rosa)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        services.message_post(channel=channel, text=SECRET, member=member(alpha, "gp"))
    mail.outbox.clear()
    return rosa, channel, t0


def run_at(moment):
    with time_machine.travel(moment, tick=False):
        return services.unread_notifications_send()


def test_one_email_after_the_delay_without_the_text(alpha, waiting):
    rosa, channel, t0 = waiting
    assert run_at(t0 + timedelta(minutes=59)) == 0 and mail.outbox == []
    assert run_at(t0 + timedelta(minutes=61)) == 1
    [email] = mail.outbox
    html = email.alternatives[0][0]
    assert email.to == [rosa.email] and "Alpha Practice" in email.subject
    for part in (email.subject, email.body, html):
        assert SECRET not in part and "results" not in part
    for part in (email.body, html):  # the client's own portal link (read back: its signature carries a time)
        value = re.search(r"/patient/start/([^/\s\"]+)/", part).group(1)
        assert client_id_from_link(alpha, value) == rosa.pk
    assert "Gp Alpha" in email.body
    assert 'lang="en"' in html
    # Once per waiting message: later runs send nothing more.
    assert run_at(t0 + timedelta(minutes=66)) == 0 and run_at(t0 + timedelta(hours=5)) == 0
    assert len(mail.outbox) == 1
    assert reload(channel).client_notified_at is not None


def test_a_newer_message_is_emailed_about_again(alpha, waiting):
    rosa, channel, t0 = waiting
    run_at(t0 + timedelta(minutes=61))
    with time_machine.travel(t0 + timedelta(minutes=70), tick=False):
        services.message_post(channel=channel, text="Another one", member=member(alpha, "gp"))
    assert run_at(t0 + timedelta(minutes=100)) == 0
    assert run_at(t0 + timedelta(minutes=131)) == 1 and len(mail.outbox) == 2


def test_nothing_when_the_client_read_it_or_answered(alpha, waiting):
    rosa, channel, t0 = waiting
    with time_machine.travel(t0 + timedelta(minutes=10), tick=False):
        services.channel_mark_read_by_client(channel=channel)
    assert run_at(t0 + timedelta(minutes=61)) == 0
    with time_machine.travel(t0 + timedelta(minutes=62), tick=False):
        services.message_post(channel=channel, text="Later", member=member(alpha, "gp"))
    with time_machine.travel(t0 + timedelta(minutes=63), tick=False):
        services.message_post(channel=reload(channel), text="Thanks", client=rosa)
    assert run_at(t0 + timedelta(minutes=200)) == 0 and mail.outbox == []


def test_client_messages_are_not_emailed_about(alpha):
    rosa = make_client(alpha)
    book(alpha, rosa, minutes=600)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        services.message_post(channel=channel_of(alpha, rosa), text="Hello", client=rosa)
    Channel.objects.with_scopes_disabled().filter(pk=channel_of(alpha, rosa).pk).update(client_read_at=None)
    assert run_at(t0 + timedelta(hours=3)) == 0


@pytest.mark.parametrize("settings_change", [
    {"do_not_send_emails": True},
    {"chat_unread_email_minutes": 0},
    {"is_active": False},
])
def test_nothing_when_the_organisation_says_so(alpha, waiting, settings_change):
    _rosa, _channel, t0 = waiting
    switch(alpha, **settings_change)
    assert run_at(t0 + timedelta(hours=3)) == 0 and mail.outbox == []


def test_the_organisations_delay_counts(alpha, waiting):
    _rosa, _channel, t0 = waiting
    switch(alpha, chat_unread_email_minutes=5)
    assert run_at(t0 + timedelta(minutes=6)) == 1


def test_nothing_for_a_revoked_client(alpha, waiting):
    _rosa, channel, t0 = waiting
    services.chat_access_set(member=member(alpha, "admin"), channel=channel, allowed=False)
    assert run_at(t0 + timedelta(hours=3)) == 0


def test_the_email_is_in_the_clients_language(alpha, waiting):
    rosa, _channel, t0 = waiting
    type(rosa).objects.with_scopes_disabled().filter(pk=rosa.pk).update(language="nl")
    run_at(t0 + timedelta(minutes=61))
    assert 'lang="nl"' in mail.outbox[0].alternatives[0][0]


def test_visitors_with_an_address_get_their_conversation_link(alpha):
    switch(alpha, public_chat_widget=True)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        with_email, _token = services.public_conversation_start(
            organization=alpha, name="Vera", email="vera@example.test", text="Hi", language="en")
        without_email, _token = services.public_conversation_start(
            organization=alpha, name="Wim", email="", text="Hi", language="en")
    with time_machine.travel(t0 + timedelta(seconds=30), tick=False):
        for channel in (with_email, without_email):
            services.message_post(channel=reload(channel), text=SECRET, member=member(alpha, "admin"))
    assert run_at(t0 + timedelta(minutes=61)) == 1
    [email] = mail.outbox
    assert email.to == ["vera@example.test"] and SECRET not in email.body
    assert f"{alpha.base_url}/widgets/chat/" in email.body


def test_a_failing_address_does_not_stop_the_others(alpha, waiting, monkeypatch):
    rosa, _channel, t0 = waiting
    piet = make_client(alpha, "Piet")
    book(alpha, piet, minutes=700)
    with time_machine.travel(t0, tick=False):
        services.message_post(channel=channel_of(alpha, piet), text=SECRET, member=member(alpha, "gp"))
    from chat import emails

    real = emails.unread_email_send

    def flaky(*, channel):
        if channel.client_id == rosa.pk:
            raise ConnectionError("mail server down")
        return real(channel=channel)

    monkeypatch.setattr(emails, "unread_email_send", flaky)
    assert run_at(t0 + timedelta(minutes=61)) == 1
    assert [m.to for m in mail.outbox] == [[piet.email]]


def test_the_scheduled_task_runs_the_service(alpha, waiting):
    _rosa, _channel, t0 = waiting
    with time_machine.travel(t0 + timedelta(minutes=61), tick=False):
        assert tasks.send_unread_notifications() == 1


def test_no_visitor_email_once_the_widget_is_off(alpha):
    switch(alpha, public_chat_widget=True)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        channel, _token = services.public_conversation_start(
            organization=alpha, name="Vera", email="vera@example.test", text="Hi", language="en")
    with time_machine.travel(t0 + timedelta(seconds=30), tick=False):
        services.message_post(channel=reload(channel), text="Answer", member=member(alpha, "admin"))
    switch(alpha, public_chat_widget=False)  # its conversation pages are gone: a link would lead nowhere
    assert run_at(t0 + timedelta(hours=2)) == 0
