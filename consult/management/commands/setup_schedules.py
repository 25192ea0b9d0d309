from django.core.management.base import BaseCommand
from django_q.models import Schedule

SCHEDULES = [
    # name, function, kind, extra
    ("openconsult: reminders", "consult.tasks.send_due_reminders", Schedule.MINUTES, {"minutes": 5}),
    ("openconsult: anonymise old appointments", "consult.tasks.anonymise_old_appointments", Schedule.CRON,
     {"cron": "15 3 * * *"}),
    ("openconsult: clean up consults and shared files", "consult.tasks.cleanup_consults", Schedule.MINUTES,
     {"minutes": 15}),
    # A refund the provider could not take (down, refused) is retried with its idempotency key: never twice.
    ("openconsult: retry failed refunds", "payments.tasks.retry_failed_refunds", Schedule.MINUTES, {"minutes": 30}),
    # Checkouts the client left open end here too (a later confirmation by the provider still applies).
    ("openconsult: expire stale checkouts", "payments.tasks.expire_stale_checkouts", Schedule.MINUTES,
     {"minutes": 15}),
    ("openconsult: retry stuck receipts", "payments.tasks.retry_stuck_receipts", Schedule.MINUTES, {"minutes": 15}),
    # Clients (and visitors) hear by email, without the text, about chat messages waiting unread (F-CHAT).
    ("openconsult: unread chat emails", "chat.tasks.send_unread_notifications", Schedule.MINUTES, {"minutes": 5}),
    # The usage reports' roll-ups of the days up to yesterday (F-USAGE-1), at night when little else runs.
    ("openconsult: usage roll-ups", "usage.tasks.nightly_rollup", Schedule.CRON, {"cron": "30 2 * * *"}),
]


class Command(BaseCommand):
    help = "Create or update the recurring background jobs (safe to run again)."

    def handle(self, *args, **options):
        for name, func, schedule_type, extra in SCHEDULES:
            Schedule.objects.update_or_create(
                name=name, defaults={"func": func, "schedule_type": schedule_type, "repeats": -1, **extra}
            )
        self.stdout.write(f"{len(SCHEDULES)} schedules are in place.")
