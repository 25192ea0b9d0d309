"""manage.py restore against hostile or odd archives (review of #10): members that would land outside the file
trees (../, an absolute path, a link) are refused before anything changes, and the restored trees keep the
permissions they had (nginx reads MEDIA_ROOT as another user)."""

import hashlib
import io
import json
import os
import stat
import tarfile

import pytest
from django.core.management import call_command

from ops import backup
from tests.ops.test_backup import assert_untouched, change_everything, make_backup, refused, snapshot, state

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The `trees` fixture of test_backup.py, shared by name.
from tests.ops.test_backup import trees  # noqa: E402,F401


def with_extra_member(archive, target, info, data=b"", *, listed=True):
    """A copy of the archive with one more member before the manifest, listed in the manifest with its true
    checksum: only the name or type can make a restore refuse it."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as copy:
        members = source.getmembers()
        manifest = json.loads(source.extractfile(backup.MANIFEST).read())
        for member in members:
            if member.name != backup.MANIFEST:
                copy.addfile(member, source.extractfile(member))
        info.size = len(data) if info.isfile() else 0
        copy.addfile(info, io.BytesIO(data) if info.isfile() else None)
        if listed:
            manifest["members"][info.name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        payload = json.dumps(manifest).encode()
        head = tarfile.TarInfo(backup.MANIFEST)
        head.size = len(payload)
        copy.addfile(head, io.BytesIO(payload))
    return target


def regular(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.REGTYPE
    return info


def link(name, to, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, to
    return info


@pytest.mark.parametrize("member", [
    regular("media/../../escaped.txt"),
    regular("private/room-files/../../../escaped.txt"),
    regular("/tmp/escaped.txt"),
    regular("../escaped.txt"),
    regular("static/escaped.txt"),
    link("media/escaped", "../../escaped.txt"),
    link("media/escaped", "/etc/passwd"),
    link("media/escaped", "media/original_images/logo.png", tarfile.LNKTYPE),
], ids=["dotdot-media", "dotdot-private", "absolute", "dotdot-top", "other-prefix", "symlink", "symlink-abs",
        "hardlink"])
def test_members_outside_the_trees_are_refused_and_nothing_is_written(alpha, trees, member):  # noqa: F811
    archive, _ = make_backup(trees["root"])
    change_everything(alpha, trees)
    after = state(alpha), snapshot(trees["media"]), snapshot(trees["private"])
    hostile = with_extra_member(archive, trees["root"] / "backups" / "hostile.tar.gz", member, b"owned")
    refused(hostile, "not an OpenConsult backup")
    assert_untouched(alpha, trees, *after)
    assert not list(trees["root"].rglob("escaped*"))
    assert not os.path.exists("/tmp/escaped.txt")


def test_restored_trees_keep_their_permissions(alpha, trees):  # noqa: F811
    trees["media"].chmod(0o755)  # served by nginx, another user
    trees["private"].chmod(0o700)
    archive, _ = make_backup(trees["root"])
    call_command("restore", str(archive), "--yes", stdout=io.StringIO())
    assert stat.S_IMODE(trees["media"].stat().st_mode) == 0o755
    assert stat.S_IMODE(trees["private"].stat().st_mode) == 0o700
    # Inside the trees, files and directories get the process's usual modes, as when the site writes them.
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((trees["media"] / "original_images").stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((trees["media"] / "original_images" / "logo.png").stat().st_mode) == 0o666 & ~umask
