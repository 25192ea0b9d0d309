"""manage.py backup / restore: the round trip on this run's database (SQLite or PostgreSQL), and every refusal
leaving the database and the files as they were."""

import io
import json
import tarfile

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ops import backup
from orgs.models import Department, Organization
from orgs.scoping import scopes_disabled
from orgs.services import department_create

# Restore replaces the whole database (pg_restore runs in its own connection): no test transaction around it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def trees(settings, tmp_path):
    """MEDIA_ROOT (tests/conftest.py puts it under tmp_path) and a private root of this test's own, with files,
    and a static root that must stay out of the archive."""
    private = tmp_path / "private"
    settings.STORAGES = {**settings.STORAGES, "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(private), "base_url": None}}}
    settings.STATIC_ROOT = tmp_path / "static"
    media = tmp_path / "media"
    (media / "original_images").mkdir(parents=True)
    (media / "original_images" / "logo.png").write_bytes(b"\x89PNG logo" * 1000)
    (media / "documents").mkdir()
    (media / "documents" / "leaflet.pdf").write_bytes(b"%PDF leaflet")
    (private / "room-files" / "7").mkdir(parents=True)
    (private / "room-files" / "7" / "scan.jpg").write_bytes(bytes(range(256)) * 64)
    settings.STATIC_ROOT.mkdir()
    (settings.STATIC_ROOT / "app.css").write_text("body{}")
    return {"media": media, "private": private, "root": tmp_path}


def snapshot(path):
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def make_backup(tmp_path):
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / "backups") + "/", stdout=out)
    archives = list((tmp_path / "backups").glob("openconsult-backup-*.tar.gz"))
    assert len(archives) == 1
    return archives[0], out.getvalue()


def change_everything(org, trees):
    """What happens after the backup: rows changed, added and deleted, files changed, added and deleted."""
    with scopes_disabled():
        Organization.objects.filter(pk=org.pk).update(name="Renamed after the backup")
        department_create(organization=org, actor=None, name="Dermatology")
        Department.objects.filter(organization=org, name="Physiotherapy").delete()
    (trees["media"] / "documents" / "leaflet.pdf").unlink()
    (trees["media"] / "new.txt").write_text("added after the backup")
    (trees["private"] / "room-files" / "7" / "scan.jpg").write_bytes(b"overwritten")


def state(org):
    with scopes_disabled():
        return (Organization.objects.get(pk=org.pk).name,
                sorted(Department.objects.filter(organization=org).values_list("name", flat=True)))


def rewrite(archive, target, *, change_member=None, manifest_update=None):
    """A copy of the (small, test-sized) archive with one member's bytes or the manifest changed."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == change_member:
                data = bytes([data[0] ^ 1]) + data[1:]
            if member.name == backup.MANIFEST and manifest_update:
                manifest = json.loads(data)
                manifest_update(manifest)
                data = json.dumps(manifest).encode()
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return target


def test_round_trip_brings_back_rows_and_files(alpha, trees):
    before_rows = state(alpha)
    before_media, before_private = snapshot(trees["media"]), snapshot(trees["private"])
    archive, output = make_backup(trees["root"])
    assert str(archive) in output and "bytes" in output
    assert "QUESTIONNAIRE_KEYS are not in the archive" in output
    assert archive.stat().st_mode & 0o077 == 0  # the owner's only

    with tarfile.open(archive, "r:gz") as opened:
        names = opened.getnames()
        manifest = json.loads(opened.extractfile(backup.MANIFEST).read())
    dump = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}[connection.vendor]
    assert names[-1] == backup.MANIFEST and dump in names
    assert sorted(n for n in names if n.startswith(("media/", "private/"))) == [
        "media/documents/leaflet.pdf", "media/original_images/logo.png", "private/room-files/7/scan.jpg"]
    assert not any("app.css" in n or n.startswith("static") for n in names)  # collectstatic's, not ours
    assert manifest["format"] == "openconsult-backup" and manifest["version"] == 1
    assert manifest["engine"] == connection.settings_dict["ENGINE"]
    assert manifest["files"] == {"media": 2, "private": 1}
    assert "orgs" in manifest["migrations"] and manifest["migrations"]["orgs"]
    assert set(manifest["members"]) == set(names) - {backup.MANIFEST}
    assert all(len(m["sha256"]) == 64 for m in manifest["members"].values())

    change_everything(alpha, trees)
    assert state(alpha) != before_rows

    out = io.StringIO()
    call_command("restore", str(archive), "--yes", stdout=out)
    assert "Restored the backup" in out.getvalue()
    assert state(alpha) == before_rows
    assert snapshot(trees["media"]) == before_media
    assert snapshot(trees["private"]) == before_private
    # The staging directories are gone: only what was there before (and the archive) is left.
    assert sorted(p.name for p in trees["root"].iterdir()) == ["backups", "media", "private", "static"]
    # The restored database is usable through the ORM again (pg_restore ran in a connection of its own).
    with scopes_disabled():
        assert Organization.objects.filter(subdomain="beta").exists()


def assert_untouched(org, trees, rows, media, private):
    assert state(org) == rows
    assert snapshot(trees["media"]) == media
    assert snapshot(trees["private"]) == private
    assert not [p for p in trees["root"].iterdir() if p.name.startswith(".")]  # no staging left behind


def refused(archive, message):
    with pytest.raises(CommandError) as error:
        call_command("restore", str(archive), "--yes", stdout=io.StringIO())
    assert message in str(error.value) and "Nothing was changed" in str(error.value)


def test_a_damaged_archive_is_refused_and_nothing_changes(alpha, trees):
    archive, _ = make_backup(trees["root"])
    change_everything(alpha, trees)
    after = state(alpha), snapshot(trees["media"]), snapshot(trees["private"])

    # One byte of the compressed file changed: gzip, tar or our checksum notices.
    damaged = trees["root"] / "backups" / "damaged.tar.gz"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    refused(damaged, "damaged")
    assert_untouched(alpha, trees, *after)

    # A well-formed archive whose member no longer matches the manifest's checksum.
    for member in ("private/room-files/7/scan.jpg", backup.DUMP_MEMBERS[connection.vendor]):
        tampered = rewrite(archive, trees["root"] / "backups" / "tampered.tar.gz", change_member=member)
        refused(tampered, f"Checksum mismatch for {member}")
        assert_untouched(alpha, trees, *after)


@pytest.mark.django_db  # refused before anything is written: no transactional flush needed
def test_foreign_archives_are_refused(alpha, trees):
    after = state(alpha), snapshot(trees["media"]), snapshot(trees["private"])
    foreign = trees["root"] / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as archive:
        archive.add(trees["media"] / "documents" / "leaflet.pdf", arcname="media/leaflet.pdf")
    refused(foreign, "no OpenConsult manifest")
    not_gzip = trees["root"] / "notes.tar.gz"
    not_gzip.write_text("just text")
    refused(not_gzip, "damaged or not a .tar.gz")
    assert_untouched(alpha, trees, *after)


def test_engine_mismatch_and_newer_migrations_are_refused(alpha, trees):
    archive, _ = make_backup(trees["root"])
    change_everything(alpha, trees)
    after = state(alpha), snapshot(trees["media"]), snapshot(trees["private"])
    other = {"sqlite": ("django.db.backends.postgresql", "postgresql"),
             "postgresql": ("django.db.backends.sqlite3", "sqlite")}[connection.vendor]

    def other_engine(manifest):
        manifest["engine"], manifest["vendor"] = other

    refused(rewrite(archive, trees["root"] / "engine.tar.gz", manifest_update=other_engine), "same kind of database")
    assert_untouched(alpha, trees, *after)

    def newer(manifest):
        manifest["migrations"]["orgs"] = ["9999_from_the_future"]

    refused(rewrite(archive, trees["root"] / "newer.tar.gz", manifest_update=newer), "orgs.9999_from_the_future")
    assert_untouched(alpha, trees, *after)


def test_restore_asks_first_and_no_changes_nothing(alpha, trees, monkeypatch):
    archive, _ = make_backup(trees["root"])
    change_everything(alpha, trees)
    after = state(alpha), snapshot(trees["media"]), snapshot(trees["private"])
    questions = []
    monkeypatch.setattr("builtins.input", lambda prompt: questions.append(prompt) or "no")
    out = io.StringIO()
    call_command("restore", str(archive), stdout=out)
    assert len(questions) == 1 and "replaces the whole database" in questions[0]
    assert "cancelled" in out.getvalue()
    assert_untouched(alpha, trees, *after)

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("restore", str(archive), stdout=io.StringIO())
    assert state(alpha)[0] == "Alpha Practice"
