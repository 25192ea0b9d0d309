"""Re-seal every questionnaire answer and upload, and every chat message, under the newest key, while the site
runs (F-FORM-5; chat messages are sealed with the same QUESTIONNAIRE_KEYS, chat/sealing.py).

Rotation: put a new key in front of QUESTIONNAIRE_KEYS (`--new-key ID` prints one), restart the web and
task workers so new answers are sealed with it, run this command, and drop an old key once `--status`
shows nothing left under it. Each response is re-sealed in its own short transaction with its row locked,
so a client saving answers at the same moment waits a moment and loses nothing; chat messages are re-sealed
by chat.services.messages_reseal the same way (their channel locked).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from chat import services as chat_services
from formbuilder import crypto
from formbuilder.models import QuestionnaireResponse, ResponseUpload
from formbuilder.services import response_reseal


class Command(BaseCommand):
    help = ("Re-encrypt all questionnaire answers, uploads and chat messages under the newest key in "
            "QUESTIONNAIRE_KEYS.")

    def add_arguments(self, parser):
        parser.add_argument("--status", action="store_true", help="Only count what each key still seals.")
        parser.add_argument("--new-key", metavar="ID", help="Print a fresh key entry to put in front; change nothing.")
        parser.add_argument("--batch", type=int, default=200, help="Responses read per batch (default 200).")

    def handle(self, *args, status=False, new_key=None, batch=200, **options):
        if new_key:
            try:
                self.stdout.write(crypto.new_key_text(new_key))
            except ValueError as error:
                raise CommandError(str(error)) from error
            return
        newest = crypto.newest_key_id()
        responses = QuestionnaireResponse.objects.with_scopes_disabled()
        uploads = ResponseUpload.objects.with_scopes_disabled()
        if status:
            self._status(responses, uploads, newest)
            return
        stale = (responses.filter(answers__isnull=False).exclude(key_id=newest)
                 .values_list("pk", flat=True).order_by("pk"))
        stale_by_upload = uploads.exclude(key_id=newest).values_list("response_id", flat=True)
        todo = sorted(set(stale) | set(stale_by_upload))
        total = len(todo)
        self.stdout.write(f"Newest key: {newest}. Responses to re-seal: {total}.")
        done = 0
        for start in range(0, total, batch):
            for response_id in todo[start:start + batch]:
                try:
                    if response_reseal(response_id):
                        done += 1
                except QuestionnaireResponse.DoesNotExist:
                    continue  # deleted meanwhile
            self.stdout.write(f"  {min(start + batch, total)}/{total}")
        self.stdout.write(self.style.SUCCESS(f"Re-sealed {done} responses under key {newest}."))
        messages = chat_services.messages_reseal(batch=max(batch, 1))
        self.stdout.write(self.style.SUCCESS(f"Re-sealed {messages} chat messages under key {newest}."))
        self._status(responses, uploads, newest)

    def _status(self, responses, uploads, newest):
        answer_counts = dict(responses.filter(answers__isnull=False).values_list("key_id").annotate(n=Count("pk"))
                             .values_list("key_id", "n"))
        upload_counts = dict(uploads.values_list("key_id").annotate(n=Count("pk")).values_list("key_id", "n"))
        message_counts = chat_services.messages_by_key()
        in_use = set(answer_counts) | set(upload_counts) | set(message_counts)
        for key_id in sorted(in_use | {newest}):
            marker = " (newest)" if key_id == newest else ""
            self.stdout.write(f"{key_id}{marker}: {answer_counts.get(key_id, 0)} answers, "
                              f"{upload_counts.get(key_id, 0)} uploads, {message_counts.get(key_id, 0)} chat messages")
        listed = set(crypto.keyring()[1])
        missing = in_use - listed
        if missing:
            raise CommandError("Answers or chat messages are sealed under keys not in QUESTIONNAIRE_KEYS: "
                               f"{', '.join(sorted(missing))}")
