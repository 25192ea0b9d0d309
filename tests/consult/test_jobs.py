"""Scheduled jobs (consult/jobs.py): reminders on the day, failed-delivery reports, anonymisation, schedules.

Covers F-APPT-2 (reminders), F-APPT-9 (failed emails are recorded and reported) and F-ORG-9 (old
appointments are anonymised).
"""

import io
import smtplib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django_q.models import Schedule

from consult import emails, jobs, links, services
from consult.models import (
    Appointment,
    AppointmentParticipant,
    AppointmentStatus,
    DeliveryStatus,
    EmailDelivery,
    EmailKind,
    RetiredLink,
)
from orgs.models import AuditEvent

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Europe/Amsterdam")
TODAY = date(2031, 3, 11)  # a Tuesday
YESTERDAY = TODAY - timedelta(days=1)


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def person(org, key):
    membership = org.people[key]
    membership.organization = org
    return membership


def configure(org, **settings):
    for field, value in settings.items():
        setattr(org, field, value)
    org.save()
    for membership in org.people.values():
        membership.organization = org


def new_client(org, last_name, department=None, **fields):
    return services.client_create(
        member=person(org, "admin"), initials="X.", last_name=last_name, email=f"{last_name.lower()}@example.test",
        language="en", department=department, **fields,
    )


def book(org, client, practitioner_key, starts_at, **kwargs):
    return services.appointment_create(member=person(org, "admin"), client=client,
                                       practitioner=person(org, practitioner_key), starts_at=starts_at, **kwargs)


def run_at(moment):
    with time_machine.travel(moment, tick=False):
        return jobs.send_due_reminders()


def reminders():
    return list(EmailDelivery.objects.with_scopes_disabled().filter(kind=EmailKind.REMINDER))


def reminder_mails():
    return [m for m in mail.outbox if m.subject.startswith("Reminder")]


def reminded_addresses():
    return sorted(m.to[0] for m in reminder_mails())


@pytest.fixture
def day(alpha):
    """Appointments booked yesterday at noon for today, plus the ones that must not get a reminder."""
    gp, physio = alpha.departments_by_name["gp"], alpha.departments_by_name["physio"]
    with time_machine.travel(local(YESTERDAY, 12), tick=False):
        jansen = new_client(alpha, "Jansen", department=gp)
        daughter = new_client(alpha, "Daughter", is_external=True)
        pietersen = new_client(alpha, "Pietersen", department=physio)
        early = new_client(alpha, "Early", department=gp)
        later = new_client(alpha, "Later", department=gp)
        cancelled_client = new_client(alpha, "Cancelled", department=gp)
        appointments = {
            "gp": book(alpha, jansen, "gp", local(TODAY, 14), guests=[daughter]),      # two participants
            "physio": book(alpha, pietersen, "physio", local(TODAY, 15)),               # one participant
            "early": book(alpha, early, "gp", local(TODAY, 7, 30)),                     # over by 08:00
            "tomorrow": book(alpha, later, "gp", local(TODAY + timedelta(days=1), 10)),  # not today
            "cancelled": book(alpha, cancelled_client, "physio", local(TODAY, 16)),
        }
        services.appointment_cancel(member=person(alpha, "admin"), appointment=appointments["cancelled"])
    with time_machine.travel(local(TODAY, 6, 30), tick=False):
        # Booked this morning for this afternoon: the confirmation is enough, no reminder.
        appointments["booked_today"] = book(alpha, new_client(alpha, "Sameday", department=gp), "gp",
                                            local(TODAY, 17))
    mail.outbox.clear()
    return appointments


EXPECTED_AT_8 = ["daughter@example.test", "jansen@example.test", "pietersen@example.test"]


# --- reminders (F-APPT-2) -----------------------------------------------------------------------

def test_reminders_go_out_once_per_participant_on_the_day(alpha, day):
    """covers F-APPT-2"""
    assert run_at(local(TODAY, 8)) == 3
    assert reminded_addresses() == EXPECTED_AT_8
    assert len(mail.outbox) == 3
    deliveries = reminders()
    assert sorted(d.to for d in deliveries) == EXPECTED_AT_8
    assert {d.status for d in deliveries} == {DeliveryStatus.SENT}
    assert {d.once_key for d in deliveries} == {jobs.reminder_key(d.participant) for d in deliveries}
    # The reminder carries the participant's own personal link (the same one as the confirmation).
    for message in mail.outbox:
        participant = next(d.participant for d in deliveries if d.to == message.to[0])
        assert links.link_url(alpha, links.token_for(participant.token_nonce)) in message.body

    # Running again now, an hour later and in the evening sends nothing more.
    assert run_at(local(TODAY, 8)) == 0
    assert run_at(local(TODAY, 9)) == 0
    assert run_at(local(TODAY, 13, 55)) == 0
    assert len(mail.outbox) == 3 and len(reminders()) == 3


def test_no_reminders_before_seven_local(alpha, day):
    """covers F-APPT-2"""
    assert run_at(local(TODAY, 6, 59)) == 0
    assert run_at(local(TODAY, 0, 5)) == 0
    assert mail.outbox == [] and reminders() == []
    # 07:00 local (06:00 UTC in winter): the 07:30 appointment is still ahead, so it gets one too.
    assert run_at(local(TODAY, 7)) == 4
    assert reminded_addresses() == sorted(EXPECTED_AT_8 + ["early@example.test"])


def test_no_reminders_for_todays_bookings_cancelled_or_other_days(alpha, day):
    """covers F-APPT-2"""
    run_at(local(TODAY, 8))
    reminded = {d.appointment_id for d in reminders()}
    assert reminded == {day["gp"].pk, day["physio"].pk}
    for key in ("early", "tomorrow", "cancelled", "booked_today"):
        assert day[key].pk not in reminded
    # Tomorrow's appointment is reminded tomorrow.
    mail.outbox.clear()
    assert run_at(local(TODAY + timedelta(days=1), 8)) == 1
    assert reminded_addresses() == ["later@example.test"]


def test_no_reminders_when_the_organisation_sends_no_emails(alpha, day):
    """covers F-APPT-2"""
    configure(alpha, do_not_send_emails=True)
    assert run_at(local(TODAY, 8)) == 0
    assert run_at(local(TODAY, 12)) == 0
    assert mail.outbox == [] and reminders() == []


def test_a_worker_killed_mid_run_leaves_no_participant_without_and_none_with_two_reminders(
        alpha, day, monkeypatch):
    """covers F-APPT-2: the run dies (KeyboardInterrupt) while sending the second reminder"""
    original_send = emails.EmailMultiAlternatives.send
    calls = []

    def dying_send(message, *args, **kwargs):
        calls.append(message.to[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original_send(message, *args, **kwargs)

    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", dying_send)
    with pytest.raises(KeyboardInterrupt):
        run_at(local(TODAY, 8))
    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", original_send)
    killed = calls[1]
    assert reminded_addresses() == [calls[0]]
    claim = EmailDelivery.objects.with_scopes_disabled().get(kind=EmailKind.REMINDER, to=killed)
    assert claim.status == DeliveryStatus.SENDING

    # A new run at once sends the rest, but not the claimed one: its worker might still be sending it.
    assert run_at(local(TODAY, 8)) == 1
    assert killed not in reminded_addresses() and len(reminder_mails()) == 2
    assert run_at(local(TODAY, 8, 10)) == 0
    assert killed not in reminded_addresses()
    # Once the claim is older than STALE_CLAIM it is taken over and sent, once.
    assert run_at(local(TODAY, 8) + jobs.STALE_CLAIM + timedelta(minutes=1)) == 1
    assert run_at(local(TODAY, 8, 30)) == 0
    assert run_at(local(TODAY, 9)) == 0

    assert reminded_addresses() == EXPECTED_AT_8  # each exactly once
    deliveries = reminders()
    assert sorted(d.to for d in deliveries) == EXPECTED_AT_8
    assert {d.status for d in deliveries} == {DeliveryStatus.SENT}


def test_a_stale_claim_is_not_resent_after_the_appointment_started(alpha, day, monkeypatch):
    """covers F-APPT-2"""
    original_send = emails.EmailMultiAlternatives.send

    def dying_send(message, *args, **kwargs):
        if message.to[0] == "pietersen@example.test":
            raise KeyboardInterrupt
        return original_send(message, *args, **kwargs)

    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", dying_send)
    try:
        run_at(local(TODAY, 14, 50))
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", original_send)
    assert "pietersen@example.test" not in reminded_addresses()
    # 15:20: the claim is stale but the 15:00 appointment has begun; nobody is reminded of the past.
    assert run_at(local(TODAY, 15, 20)) == 0
    assert "pietersen@example.test" not in reminded_addresses()


# --- failed deliveries (F-APPT-9) ---------------------------------------------------------------

def failing_for(addresses):
    original_send = emails.EmailMultiAlternatives.send

    def send(message, *args, **kwargs):
        if message.to and message.to[0] in addresses:
            raise addresses[message.to[0]]
        return original_send(message, *args, **kwargs)

    return send


def test_a_failed_reminder_is_recorded_and_reported_to_the_department_admin_else_the_org_admins(
        alpha, day, monkeypatch):
    """covers F-APPT-9"""
    refused = smtplib.SMTPRecipientsRefused({"jansen@example.test": (550, b"5.1.1 mailbox unavailable")})
    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", failing_for({
        "jansen@example.test": refused,                            # gp appointment: GP has a department admin
        "pietersen@example.test": OSError("Connection refused"),   # physio: no department admin there
    }))
    assert run_at(local(TODAY, 8)) == 1  # only the daughter's went out
    assert reminded_addresses() == ["daughter@example.test"]

    by_address = {d.to: d for d in reminders()}
    assert by_address["jansen@example.test"].status == DeliveryStatus.FAILED
    assert "mailbox unavailable" in by_address["jansen@example.test"].error
    assert by_address["pietersen@example.test"].status == DeliveryStatus.FAILED
    assert by_address["pietersen@example.test"].error == "Connection refused"
    assert by_address["daughter@example.test"].status == DeliveryStatus.SENT

    reports = [m for m in mail.outbox if m.subject == "An appointment email could not be delivered"]
    assert sorted(m.to[0] for m in reports) == ["admin@alpha.test", "deptadmin@alpha.test"]
    to_deptadmin = next(m for m in reports if m.to == ["deptadmin@alpha.test"])
    assert "jansen@example.test" in to_deptadmin.body and "mailbox unavailable" in to_deptadmin.body
    assert "pietersen" not in to_deptadmin.body
    to_admin = next(m for m in reports if m.to == ["admin@alpha.test"])
    assert "pietersen@example.test" in to_admin.body and "Connection refused" in to_admin.body
    assert "jansen" not in to_admin.body
    assert f"/portal/appointments/{day['physio'].pk}/" in to_admin.body

    # A failed reminder is not retried behind the admin's back, nor reported twice.
    count = len(mail.outbox)
    assert run_at(local(TODAY, 9)) == 0
    assert run_at(local(TODAY, 10)) == 0
    assert len(mail.outbox) == count


def test_a_failed_confirmation_is_recorded_and_reported(alpha, monkeypatch, django_capture_on_commit_callbacks):
    """covers F-APPT-9"""
    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", failing_for({
        "jansen@example.test": smtplib.SMTPRecipientsRefused({"jansen@example.test": (550, b"no such user")}),
    }))
    client = new_client(alpha, "Jansen", department=alpha.departments_by_name["gp"])
    with time_machine.travel(local(YESTERDAY, 12), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            appointment = book(alpha, client, "gp", local(TODAY, 14))
    delivery = EmailDelivery.objects.with_scopes_disabled().get(appointment=appointment)
    assert (delivery.kind, delivery.status) == (EmailKind.CONFIRMATION, DeliveryStatus.FAILED)
    assert "no such user" in delivery.error
    assert [m.to for m in mail.outbox] == [["deptadmin@alpha.test"]]
    assert "jansen@example.test" in mail.outbox[0].body and "no such user" in mail.outbox[0].body


def test_failed_emails_are_not_reported_when_the_organisation_turned_reports_off(alpha, day, monkeypatch):
    """covers F-APPT-9: the "report bounced appointment emails" setting (notify_bounces) off means no report"""
    configure(alpha, notify_bounces=False)
    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", failing_for({
        "jansen@example.test": OSError("Connection refused"),
    }))
    run_at(local(TODAY, 8))
    failed = EmailDelivery.objects.with_scopes_disabled().get(kind=EmailKind.REMINDER, to="jansen@example.test")
    assert failed.status == DeliveryStatus.FAILED  # still recorded
    assert reminded_addresses() == ["daughter@example.test", "pietersen@example.test"]
    assert [m.to for m in mail.outbox if not m.subject.startswith("Reminder")] == []


# --- anonymisation (F-ORG-9) --------------------------------------------------------------------

NOW = local(date(2031, 5, 1), 12)


@pytest.fixture
def history(alpha, beta, django_capture_on_commit_callbacks):
    """Alpha: an appointment 41 days ago (moved once, emails sent), one 20 days ago, one tomorrow.
    Beta (no anonymisation): one 41 days ago."""
    configure(alpha, anonymise_after_days=30)
    gp = alpha.departments_by_name["gp"]
    result = {}
    with time_machine.travel(local(date(2031, 3, 20), 9), tick=False):
        client = new_client(alpha, "Jansen", department=gp, client_number="C-1")
        guest = new_client(alpha, "Daughter", is_external=True)
        with django_capture_on_commit_callbacks(execute=True):
            old = book(alpha, client, "gp", local(date(2031, 3, 21), 10), guests=[guest], client_number="C-1",
                       personal_message="About the knee.")
        services.appointment_reschedule(member=person(alpha, "admin"), appointment=old,
                                        starts_at=local(date(2031, 3, 21), 11))
        services.client_record_viewed(member=person(alpha, "gp"), client=client)
        result["old"] = old
        result["beta_old"] = book(beta, new_client(beta, "Beta"), "gp", local(date(2031, 3, 21), 10),
                                  personal_message="Beta's message.")
    with time_machine.travel(local(date(2031, 4, 10), 9), tick=False):
        result["recent"] = book(alpha, client, "gp", local(date(2031, 4, 11), 10), personal_message="Recent.")
    with time_machine.travel(NOW - timedelta(hours=1), tick=False):
        result["future"] = book(alpha, client, "gp", NOW + timedelta(days=1), personal_message="Future.")
    result["client"], result["guest"] = client, guest
    return result


def snapshot(appointment):
    saved = Appointment.objects.with_scopes_disabled().get(pk=appointment.pk)
    people = sorted(AppointmentParticipant.objects.with_scopes_disabled().filter(appointment=saved)
                    .values_list("person_id", flat=True), key=str)
    return (saved.client_id, saved.client_number, saved.personal_message, saved.starts_at, saved.duration_minutes,
            saved.practitioner_id, saved.department_id, saved.status, saved.anonymised_at, people)


def audit_rows(org):
    return list(AuditEvent.objects.with_scopes_disabled().filter(organization=org).order_by("id").values_list(
        "id", "action", "actor_id", "target_id", "target_label", "changes", "created_at"))


def test_anonymise_old_appointments(alpha, beta, history):
    """covers F-ORG-9"""
    old, recent, future = history["old"], history["recent"], history["future"]
    before = {key: snapshot(history[key]) for key in ("old", "recent", "future", "beta_old")}
    assert before["old"][:3] == (history["client"].pk, "C-1", "About the knee.")
    assert RetiredLink.objects.with_scopes_disabled().filter(appointment=old).exists()
    assert EmailDelivery.objects.with_scopes_disabled().filter(appointment=old).exists()
    audit_before = audit_rows(alpha)
    beta_audit_before = audit_rows(beta)

    with time_machine.travel(NOW, tick=False):
        assert jobs.anonymise_old_appointments() == 1

    after = snapshot(old)
    gp = alpha.people["gp"]
    assert after == (None, "", "", local(date(2031, 3, 21), 11), 20, gp.pk,
                     alpha.departments_by_name["gp"].pk, AppointmentStatus.SCHEDULED, NOW, [None, None])
    assert not RetiredLink.objects.with_scopes_disabled().filter(appointment=old).exists()
    assert not EmailDelivery.objects.with_scopes_disabled().filter(appointment=old).exclude(to="").exists()
    # Newer appointments and other organisations are untouched.
    assert snapshot(recent) == before["recent"] and snapshot(future) == before["future"]
    assert snapshot(history["beta_old"]) == before["beta_old"]

    # Earlier audit rows stay as they were; one row records the run.
    audit_after = audit_rows(alpha)
    assert audit_after[:len(audit_before)] == audit_before
    new_rows = audit_after[len(audit_before):]
    assert [(row[1], row[2], row[5]) for row in new_rows] == [
        ("appointments.anonymise", None, {"count": [None, 1], "before": [None, "2031-04-01"]})]
    assert audit_rows(beta) == beta_audit_before

    # Idempotent: later runs change nothing and record nothing.
    with time_machine.travel(NOW + timedelta(hours=6), tick=False):
        assert jobs.anonymise_old_appointments() == 0
    assert snapshot(old) == after
    assert snapshot(recent) == before["recent"]
    assert audit_rows(alpha) == audit_after


def test_anonymise_blanks_old_chat_email_addresses_too(alpha, beta, history):
    """covers F-ORG-9: a chat notification's delivery row belongs to no appointment, and keeps its address only as
    long as an appointment would."""
    from orgs.scoping import organization_scope

    def delivery(org, days_ago):
        with organization_scope(org):
            row = EmailDelivery.objects.create(organization=org, kind=EmailKind.CHAT_UNREAD, to="jan@example.org",
                                               status=DeliveryStatus.SENT)
            EmailDelivery.objects.filter(pk=row.pk).update(created_at=NOW - timedelta(days=days_ago))
        return row.pk

    old, recent, other = delivery(alpha, 31), delivery(alpha, 29), delivery(beta, 31)
    with time_machine.travel(NOW, tick=False):
        jobs.anonymise_old_appointments()
    addresses = dict(EmailDelivery.objects.with_scopes_disabled().filter(pk__in=[old, recent, other])
                     .values_list("pk", "to"))
    assert addresses == {old: "", recent: "jan@example.org", other: "jan@example.org"}  # beta has no limit


def test_anonymise_does_nothing_without_a_limit(alpha, history):
    """covers F-ORG-9"""
    configure(alpha, anonymise_after_days=None)
    before = snapshot(history["old"])
    with time_machine.travel(NOW, tick=False):
        assert jobs.anonymise_old_appointments() == 0
    assert snapshot(history["old"]) == before
    assert not AuditEvent.objects.with_scopes_disabled().filter(action="appointments.anonymise").exists()


# --- schedules ----------------------------------------------------------------------------------

def test_setup_schedules_is_idempotent(db):
    """covers F-APPT-2 and F-ORG-9 (the jobs are scheduled)"""
    output = io.StringIO()
    call_command("setup_schedules", stdout=output)
    assert Schedule.objects.count() == 8
    Schedule.objects.filter(func="consult.tasks.send_due_reminders").update(minutes=60)
    call_command("setup_schedules", stdout=output)
    schedules = {s.func: s for s in Schedule.objects.all()}
    assert Schedule.objects.count() == 8
    assert set(schedules) == {"consult.tasks.send_due_reminders", "consult.tasks.anonymise_old_appointments",
                              "consult.tasks.cleanup_consults", "payments.tasks.retry_failed_refunds",
                              "payments.tasks.expire_stale_checkouts", "payments.tasks.retry_stuck_receipts",
                              "chat.tasks.send_unread_notifications", "usage.tasks.nightly_rollup"}
    reminders_schedule = schedules["consult.tasks.send_due_reminders"]
    assert (reminders_schedule.schedule_type, reminders_schedule.minutes, reminders_schedule.repeats) == (
        Schedule.MINUTES, 5, -1)
    anonymise_schedule = schedules["consult.tasks.anonymise_old_appointments"]
    assert (anonymise_schedule.schedule_type, anonymise_schedule.cron) == (Schedule.CRON, "15 3 * * *")
    rollup_schedule = schedules["usage.tasks.nightly_rollup"]
    assert (rollup_schedule.schedule_type, rollup_schedule.cron) == (Schedule.CRON, "30 2 * * *")
    # The scheduled functions exist and run.
    from consult import tasks

    assert tasks.send_due_reminders() == 0 and tasks.anonymise_old_appointments() == 0
