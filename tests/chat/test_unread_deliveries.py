"""Unread-message emails are recorded as email deliveries (kind chat_unread): sent ones as "sent", a transport
failure as "failed" with its reason (so the usage report counts it in the failed emails), nothing when the
organisation sends no emails. A failure is not raised, and the waiting message is not emailed about again."""

import smtplib
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from chat import emails, services
from consult.models import DeliveryStatus, EmailDelivery, EmailKind
from tests.chat.core_helpers import book, channel_of, make_client, member, reload, switch
from usage.services import rollup_day


@pytest.fixture
def waiting(alpha):
    """Rosa has a message from gp, sent at T0; the organisation emails after 60 minutes (the default)."""
    rosa = make_client(alpha)
    book(alpha, rosa, minutes=600)
    channel = channel_of(alpha, rosa)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        services.message_post(channel=channel, text="Hello", member=member(alpha, "gp"))
    mail.outbox.clear()
    return rosa, channel, t0


def run_at(moment):
    with time_machine.travel(moment, tick=False):
        return services.unread_notifications_send()


def chat_deliveries():
    return list(EmailDelivery.objects.with_scopes_disabled().filter(kind=EmailKind.CHAT_UNREAD).order_by("pk"))


def smtp_down_for(address, monkeypatch):
    """The mail server refuses `address` (the locmem backend would otherwise accept anything)."""
    real = EmailMultiAlternatives.send

    def send(message, fail_silently=False):
        if address in message.to:
            raise smtplib.SMTPRecipientsRefused({address: (550, b"mailbox unavailable")})
        return real(message, fail_silently=fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)


def test_a_sent_email_is_recorded_as_sent(alpha, beta, waiting):
    rosa, _channel, t0 = waiting
    assert chat_deliveries() == []
    assert run_at(t0 + timedelta(minutes=61)) == 1
    [delivery] = chat_deliveries()
    assert (delivery.status, delivery.to, delivery.organization_id) == (DeliveryStatus.SENT, rosa.email, alpha.pk)
    assert delivery.appointment_id is None and delivery.participant_id is None and delivery.error == ""
    assert [m.to for m in mail.outbox] == [[rosa.email]]
    assert run_at(t0 + timedelta(hours=3)) == 0 and len(chat_deliveries()) == 1  # once per waiting message


def test_a_visitors_email_is_recorded_with_their_address(alpha):
    switch(alpha, public_chat_widget=True)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        channel, _token = services.public_conversation_start(
            organization=alpha, name="Vera", email="vera@example.test", text="Hi", language="en")
    with time_machine.travel(t0 + timedelta(seconds=30), tick=False):
        services.message_post(channel=reload(channel), text="Answer", member=member(alpha, "admin"))
    assert run_at(t0 + timedelta(minutes=61)) == 1
    [delivery] = chat_deliveries()
    assert (delivery.status, delivery.to, delivery.organization_id) == (
        DeliveryStatus.SENT, "vera@example.test", alpha.pk)


def test_a_failed_email_is_recorded_and_counted_in_the_usage_report(alpha, waiting, monkeypatch, caplog):
    rosa, _channel, t0 = waiting
    piet = make_client(alpha, "Piet")
    book(alpha, piet, minutes=700)
    with time_machine.travel(t0, tick=False):
        services.message_post(channel=channel_of(alpha, piet), text="Hello", member=member(alpha, "gp"))
    smtp_down_for(rosa.email, monkeypatch)
    moment = t0 + timedelta(minutes=61)
    with caplog.at_level("WARNING", logger="chat.emails"):
        assert run_at(moment) == 1  # Piet's went out; Rosa's failed and is not counted as sent
    assert [m.to for m in mail.outbox] == [[piet.email]]
    by_address = {d.to: d for d in chat_deliveries()}
    assert set(by_address) == {rosa.email, piet.email}
    failed = by_address[rosa.email]
    assert failed.status == DeliveryStatus.FAILED and failed.organization_id == alpha.pk
    assert "mailbox unavailable" in failed.error
    assert by_address[piet.email].status == DeliveryStatus.SENT
    assert any(r.levelname == "WARNING" and r.name == "chat.emails" for r in caplog.records)
    # The failure is on record, not retried every five minutes (the waiting message stays claimed).
    assert run_at(t0 + timedelta(minutes=66)) == 0 and len(chat_deliveries()) == 2
    day = moment.astimezone(ZoneInfo(alpha.time_zone)).date()
    assert rollup_day(organization=alpha, day=day).failed_emails == 1


def test_a_failure_is_returned_not_raised(alpha, waiting, monkeypatch):
    rosa, channel, _t0 = waiting
    smtp_down_for(rosa.email, monkeypatch)
    assert emails.unread_email_send(channel=reload(channel)) is False
    [delivery] = chat_deliveries()
    assert delivery.status == DeliveryStatus.FAILED and delivery.error


def test_a_long_error_is_cut(alpha, waiting, monkeypatch):
    _rosa, channel, _t0 = waiting

    def send(message, fail_silently=False):
        raise smtplib.SMTPException("x" * 5000)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    assert emails.unread_email_send(channel=reload(channel)) is False
    assert len(chat_deliveries()[0].error) == 1000


def test_nothing_is_recorded_when_emails_are_off(alpha, waiting):
    _rosa, channel, t0 = waiting
    switch(alpha, do_not_send_emails=True)
    assert run_at(t0 + timedelta(hours=3)) == 0
    assert emails.unread_email_send(channel=reload(channel)) is False
    assert chat_deliveries() == [] and mail.outbox == []
