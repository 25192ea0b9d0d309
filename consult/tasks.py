"""django-q2 entry points: thin, idempotent, they only call the jobs."""

from . import jobs


def send_due_reminders():
    return jobs.send_due_reminders()


def anonymise_old_appointments():
    return jobs.anonymise_old_appointments()


def cleanup_consults():
    """End abandoned consults and delete shared files that outlived theirs (after a crash)."""
    from .room import consults_cleanup

    return consults_cleanup()
