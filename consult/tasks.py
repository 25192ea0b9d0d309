"""django-q2 entry points: thin, idempotent, they only call the jobs."""

from . import jobs


def send_due_reminders():
    return jobs.send_due_reminders()


def anonymise_old_appointments():
    return jobs.anonymise_old_appointments()
