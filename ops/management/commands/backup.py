"""`manage.py backup [--output DIR_OR_FILE]`: the database and the private files in one .tar.gz (ops/backup.py)."""

from django.core.management.base import BaseCommand, CommandError

from ops import backup


class Command(BaseCommand):
    help = "Write a backup archive: database dump, MEDIA_ROOT and the private files, with a checksummed manifest."

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="DIR_OR_FILE",
                            help="A directory (the archive gets a dated name) or a file name; default var/backups/.")

    def handle(self, *args, output=None, **options):
        try:
            path = backup.create_backup(output)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        size = path.stat().st_size
        self.stdout.write(self.style.SUCCESS(f"Backup written: {path} ({_human(size)}, {size} bytes)."))
        self.stdout.write(self.style.WARNING(backup.QUESTIONNAIRE_KEYS_NOTE))


def _human(size):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} bytes"
