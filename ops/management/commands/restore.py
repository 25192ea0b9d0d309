"""`manage.py restore ARCHIVE [--yes]`: put back what `manage.py backup` saved (ops/backup.py).

The archive is verified whole first (checksums, format, database engine, migrations not newer than this code);
a damaged or foreign archive changes nothing. Stop the web and task workers before restoring: the database and
the files are replaced under them.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from cms.page_cache import site_cache_clear
from ops import backup
from orgs.models import Organization


class Command(BaseCommand):
    help = "Replace the database and the private files with a backup archive's (after verifying it)."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="A .tar.gz written by `manage.py backup`.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, archive, yes=False, **options):
        self.stdout.write(f"Verifying {archive} …")
        try:
            manifest = backup.verify_archive(archive)
        except backup.BackupError as error:
            raise CommandError(f"{error} Nothing was changed.") from error
        files = ", ".join(f"{count} {prefix}" for prefix, count in sorted(manifest["files"].items()))
        self.stdout.write(f"The archive is whole: made {manifest['created_at']}, {manifest['engine']}, files: {files}.")
        self.stdout.write(self.style.WARNING(backup.QUESTIONNAIRE_KEYS_NOTE))
        if not yes:
            trees = ", ".join(str(path) for path in backup.file_trees().values())
            answer = input(f"This replaces the whole database and {trees}. Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                self.stdout.write("Restore cancelled; nothing was changed.")
                return
        try:
            backup.restore_archive(archive, manifest, log=self.stdout.write)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Restored the backup of {manifest['created_at']}."))
        try:
            for organization in Organization.objects.only("pk", "subdomain"):
                site_cache_clear(organization)  # cached published pages would show the pre-restore sites
        except DatabaseError:
            pass  # an older schema (migrate follows); cached pages expire within PAGE_CACHE_TIMEOUT
        pending = backup.pending_migrations(manifest)
        if pending:
            self.stdout.write(self.style.WARNING(
                f"The backup is older than this code ({len(pending)} newer migrations): run `manage.py migrate`."))
        self.stdout.write("Start the web and task workers again.")
