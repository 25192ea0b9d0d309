"""Backup and restore of one deployment: the database and the private file trees, in one .tar.gz.

The archive holds the database dump (`database.pgdump`: pg_dump's custom format, or `database.sqlite3`: a copy
made with SQLite's backup API), every file under MEDIA_ROOT (`media/…`) and under the private storage's location
(`private/…`), and last `manifest.json`: format and version, when, the Django database engine, the migrations
applied (heads per app), file counts, and the size and sha256 of every other member. The manifest comes last so
that each member is hashed while it is written (a file that changes during the backup cannot leave a checksum
that does not match); a restore reads the whole archive once to verify before it changes anything.

Not in the archive: static files (collectstatic makes them again), the task queue of the demo's SQLite broker
file, the cache, and QUESTIONNAIRE_KEYS. Without those keys the sealed questionnaire answers, uploads and chat
messages in the dump cannot be read: they are backed up separately, on purpose (a stolen backup is not enough).

Everything streams: members are copied in chunks, never read whole into memory.
"""

import datetime
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader

FORMAT = "openconsult-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
DUMP_MEMBERS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
QUESTIONNAIRE_KEYS_NOTE = (
    "QUESTIONNAIRE_KEYS are not in the archive: without them the sealed questionnaire answers, uploads and chat "
    "messages cannot be read. Back the keys up separately."
)


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why for the operator."""


def file_trees():
    """{archive prefix: directory}: the files a restore must bring back. Static files are not among them."""
    return {
        "media": Path(settings.MEDIA_ROOT),
        "private": Path(settings.STORAGES["private"]["OPTIONS"]["location"]),
    }


# --- backup ---------------------------------------------------------------------------------------------


def create_backup(output=None, *, using="default"):
    """Write the archive; returns its path. `output`: a directory (the archive gets a dated name in it) or a file
    name. The archive is written under a temporary name next to its place and renamed when complete, so a failed
    backup never leaves something that looks like one."""
    connection = connections[using]
    created = datetime.datetime.now(datetime.UTC)
    target = _output_path(output, created)
    for tree in file_trees().values():
        if target.resolve().is_relative_to(tree.resolve()):
            raise BackupError(f"The archive would be inside a directory it backs up ({tree}); choose another place.")
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.fchmod(descriptor, 0o600)  # patients' data: readable by the owner only
    members, counts = {}, {}
    try:
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            with tempfile.TemporaryDirectory(prefix="openconsult-backup-") as scratch:
                dump_name = _dump_member(connection)
                dump_path = Path(scratch) / dump_name
                _dump_database(connection, dump_path)
                members[dump_name] = _add_file(archive, dump_path, dump_name)
            for prefix, root in file_trees().items():
                counts[prefix] = 0
                for path, name in _tree_files(root, prefix):
                    try:
                        members[name] = _add_file(archive, path, name)
                    except FileNotFoundError:
                        continue  # deleted while we walked (a consult's shared file at the consult's end)
                    counts[prefix] += 1
            manifest = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": created.isoformat(),
                "engine": connection.settings_dict["ENGINE"],
                "vendor": connection.vendor,
                "database": dump_name,
                "migrations": migration_heads(connection),
                "files": counts,
                "members": members,
                "not_included": ["QUESTIONNAIRE_KEYS", "static files", "cache", "task queue broker"],
            }
            payload = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(payload), int(created.timestamp()), 0o600
            archive.addfile(info, io.BytesIO(payload))
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return target


def _output_path(output, created):
    name = f"openconsult-backup-{created:%Y%m%dT%H%M%SZ}.tar.gz"
    if output is None:
        return Path(settings.BASE_DIR) / "var" / "backups" / name
    as_directory = str(output).endswith(("/", os.sep))  # Path() drops the trailing slash
    output = Path(output)
    if output.is_dir() or as_directory:
        return output / name
    return output


def _dump_member(connection):
    try:
        return DUMP_MEMBERS[connection.vendor]
    except KeyError:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.") from None


def _dump_database(connection, path):
    if connection.vendor == "sqlite":
        # The backup API copies a consistent snapshot through Django's own connection: a file database with
        # writers in other processes, and the in-memory database of a test run, alike.
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return
    _run_pg("pg_dump", connection, ["--format=custom", "--no-password", f"--file={path}"])


def _pg_arguments(connection):
    config = connection.settings_dict
    arguments = []
    if config.get("HOST"):
        arguments.append(f"--host={config['HOST']}")
    if config.get("PORT"):
        arguments.append(f"--port={config['PORT']}")
    if config.get("USER"):
        arguments.append(f"--username={config['USER']}")
    environment = {**os.environ}
    if config.get("PASSWORD"):
        environment["PGPASSWORD"] = str(config["PASSWORD"])  # never on the command line (ps shows it)
    return arguments, environment


def _run_pg(program, connection, options, *, database=True):
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed (Debian: apt install postgresql-client-15).")
    arguments, environment = _pg_arguments(connection)
    name = [f"--dbname={connection.settings_dict['NAME']}"] if database else []
    command = [program, *arguments, *options, *name]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{program} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")
    return result.stdout


def _tree_files(root, prefix):
    """(path, member name) of every regular file under root, in a stable order. Symbolic links are not followed:
    a link to elsewhere would put files outside the tree into the archive."""
    if not root.is_dir():
        return
    for directory, subdirectories, names in os.walk(root):
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory) / name
            try:
                if not stat.S_ISREG(path.lstat().st_mode):
                    continue
            except FileNotFoundError:
                continue
            yield path, str(PurePosixPath(prefix, path.relative_to(root).as_posix()))


class _HashingReader:
    """The file as tarfile reads it, hashed on the way: the checksum is of exactly the bytes archived."""

    def __init__(self, handle):
        self.handle, self.sha256, self.size = handle, hashlib.sha256(), 0

    def read(self, size=-1):
        data = self.handle.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _add_file(archive, path, name):
    with open(path, "rb") as handle:
        status = os.fstat(handle.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = status.st_size, int(status.st_mtime), 0o600
        reader = _HashingReader(handle)
        archive.addfile(info, reader)
    return {"sha256": reader.sha256.hexdigest(), "size": reader.size}


def migration_heads(connection):
    """{app: [latest applied migrations]} known to this code: what the dump's schema is."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = {key for key in loader.applied_migrations if key in loader.graph.nodes}
    heads = {}
    for key in sorted(applied):
        children = loader.graph.node_map[key].children
        if not any(child.key[0] == key[0] and child.key in applied for child in children):
            heads.setdefault(key[0], []).append(key[1])
    return heads


# --- verify -----------------------------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"^(media|private)/[^\x00]+$")


def _safe_member_name(name, dump_names):
    if name == MANIFEST or name in dump_names:
        return True
    path = PurePosixPath(name)
    return bool(_SAFE_NAME.match(name)) and not path.is_absolute() and ".." not in path.parts and len(path.parts) > 1


def _open_stream(path):
    """(gzip file, tarfile in stream mode): one pass, chunk by chunk, never the whole archive in memory."""
    compressed = gzip.open(path, "rb")
    return compressed, tarfile.open(fileobj=compressed, mode="r|")


def _drain(compressed):
    # tarfile stops at the end-of-archive blocks; reading on to the end makes gzip check its CRC and length.
    while compressed.read(CHUNK):
        pass


READ_ERRORS = (tarfile.TarError, zlib.error, EOFError, gzip.BadGzipFile, OSError, UnicodeDecodeError)


def verify_archive(path, *, using="default"):
    """The archive's manifest when the archive is whole, ours, of this database engine and not newer than this
    code's migrations; BackupError saying what is wrong otherwise. Reads the archive once, changes nothing."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    seen, manifest = {}, None
    dump_names = set(DUMP_MEMBERS.values())
    try:
        compressed, archive = _open_stream(path)
        with compressed, archive:
            for member in archive:
                if member.name in seen:
                    raise BackupError(f"The archive holds {member.name} twice: it is not one of our backups.")
                if not member.isfile() or not _safe_member_name(member.name, dump_names):
                    raise BackupError(f"Unexpected member {member.name!r}: this is not an OpenConsult backup.")
                handle = archive.extractfile(member)
                if member.name == MANIFEST:
                    if member.size > 64 * 1024 * 1024:
                        raise BackupError("The manifest is implausibly large: this is not an OpenConsult backup.")
                    manifest = json.loads(handle.read().decode())
                    continue
                digest, size = hashlib.sha256(), 0
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                seen[member.name] = {"sha256": digest.hexdigest(), "size": size}
            _drain(compressed)
    except BackupError:
        raise
    except (*READ_ERRORS, json.JSONDecodeError) as error:
        raise BackupError(f"The archive is damaged or not a .tar.gz ({type(error).__name__}: {error}).") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("The archive has no OpenConsult manifest: it is not one of our backups.")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(f"The archive's format version is {manifest.get('version')}; this code reads "
                          f"{FORMAT_VERSION}.")
    listed = manifest.get("members") or {}
    if set(listed) != set(seen):
        missing, extra = sorted(set(listed) - set(seen)), sorted(set(seen) - set(listed))
        raise BackupError(f"The archive does not match its manifest (missing: {missing[:5]}, not listed: "
                          f"{extra[:5]}): it is damaged.")
    for name, found in seen.items():
        if found != listed[name]:
            raise BackupError(f"Checksum mismatch for {name}: the archive is damaged.")
    connection = connections[using]
    if manifest.get("engine") != connection.settings_dict["ENGINE"] or manifest.get("vendor") != connection.vendor:
        raise BackupError(f"The backup is of a {manifest.get('engine')} database; this deployment uses "
                          f"{connection.settings_dict['ENGINE']}. Restore it into the same kind of database.")
    if manifest.get("database") != DUMP_MEMBERS.get(connection.vendor) or manifest["database"] not in seen:
        raise BackupError("The archive's database dump is missing.")
    unknown = _unknown_migrations(manifest.get("migrations") or {}, connection)
    if unknown:
        raise BackupError("The backup was made by newer code: these migrations are unknown here: "
                          f"{', '.join(unknown[:10])}. Deploy that version (or newer) first, then restore.")
    return manifest


def _unknown_migrations(heads, connection):
    nodes = MigrationLoader(connection, ignore_no_migrations=True, load=True).graph.nodes
    return [f"{app}.{name}" for app, names in sorted(heads.items()) for name in names if (app, name) not in nodes]


def pending_migrations(manifest, *, using="default"):
    """Migrations this code has that the restored database lacks (`manage.py migrate` brings it up to date)."""
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    return sorted(set(loader.graph.leaf_nodes()) - {(app, name) for app, names in manifest["migrations"].items()
                                                    for name in names})


# --- restore -----------------------------------------------------------------------------------------------


def restore_archive(path, manifest, *, using="default", log=lambda line: None):
    """Replace the database and the file trees with the (verified) archive's. The members are extracted first,
    each checked against the manifest again as it is written (the file may have changed since verify_archive):
    the database dump to a temporary file, each tree to a temporary directory next to its target. Only then is
    the database restored, and then the directories swapped in, so a failure up to the database restore leaves
    everything as it was."""
    connection = connections[using]
    trees = file_trees()
    staging = {}
    scratch = Path(tempfile.mkdtemp(prefix="openconsult-restore-"))
    try:
        for prefix, target in trees.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging[prefix] = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
            # mkdtemp's directory is the owner's only: swapped in as MEDIA_ROOT, nginx (another user) could no
            # longer serve the public media. It takes the mode the tree had.
            staging[prefix].chmod(_tree_mode(target))
        dump_path = scratch / manifest["database"]
        _extract(path, manifest, dump_path, staging)
        log(f"Restoring the database ({connection.vendor}) …")
        _restore_database(connection, dump_path)
        for prefix, target in trees.items():
            _swap(staging.pop(prefix), target)
            log(f"Replaced {target} ({manifest['files'].get(prefix, 0)} files).")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for leftover in staging.values():
            shutil.rmtree(leftover, ignore_errors=True)


def _extract(path, manifest, dump_path, staging):
    members = manifest["members"]
    dump_names = set(DUMP_MEMBERS.values())
    try:
        compressed, archive = _open_stream(path)
        with compressed, archive:
            for member in archive:
                if member.name == MANIFEST:
                    continue
                if member.name not in members or not member.isfile() or not _safe_member_name(member.name,
                                                                                                dump_names):
                    raise BackupError(f"The archive changed since it was verified ({member.name}).")
                if member.name == manifest["database"]:
                    destination = dump_path
                else:
                    prefix, _, relative = member.name.partition("/")
                    destination = staging[prefix].joinpath(*PurePosixPath(relative).parts)
                    if not destination.resolve().is_relative_to(staging[prefix].resolve()):
                        raise BackupError(f"Unsafe member name {member.name!r}.")
                    destination.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                source = archive.extractfile(member)
                with open(destination, "xb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                os.utime(destination, (member.mtime, member.mtime))
                if digest.hexdigest() != members[member.name]["sha256"]:
                    raise BackupError(f"Checksum mismatch for {member.name}: the archive changed since it was "
                                      "verified.")
            _drain(compressed)
    except BackupError:
        raise
    except READ_ERRORS as error:
        raise BackupError(f"The archive could not be read ({type(error).__name__}: {error}).") from error


def _restore_database(connection, dump_path):
    if connection.vendor == "sqlite":
        # Page by page into Django's own connection (the in-memory test database included); it must not be in a
        # transaction.
        connection.ensure_connection()
        source = sqlite3.connect(dump_path)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    _drop_tables_not_in_dump(connection, dump_path)
    # pg_restore needs the tables to itself: our own connections (this thread's) are closed first. Workers that
    # still hold connections make it wait on their locks: stop the web and task workers before a restore.
    connection.close()
    _run_pg("pg_restore", connection, ["--clean", "--if-exists", "--no-owner", "--single-transaction",
                                       "--exit-on-error", "--no-password", str(dump_path)])


_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) ")


def _drop_tables_not_in_dump(connection, dump_path):
    """Tables a newer schema added since the backup (the dump is older than the database): --clean drops only
    what the dump holds, and a foreign key from such a table would stop it from dropping the tables it points
    at. They have no place in the restored database (its django_migrations does not know them): dropped first."""
    listing = _run_pg("pg_restore", connection, ["--list", str(dump_path)], database=False)
    dumped = {match.group(2) for line in listing.splitlines() if (match := _TOC_TABLE.match(line))}
    with connection.cursor() as cursor:
        live = set(connection.introspection.table_names(cursor))
    extra = sorted(live - dumped)
    if not extra:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS " + ", ".join(quote(name) for name in extra) + " CASCADE")


def _tree_mode(target):
    """The permissions of the directory a restore replaces; for one that does not exist yet, those a directory
    made by this process gets (the umask's)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o777 & ~umask


def _swap(staged, target):
    """staged becomes target; the old target is removed only after. A target that cannot be renamed (a mount
    point) has its contents replaced instead."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        try:
            os.replace(target, old)
        except OSError:
            _replace_contents(staged, target)
            return
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)


def _replace_contents(staged, target):
    for child in list(target.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    for child in list(staged.iterdir()):
        shutil.move(str(child), target / child.name)
    staged.rmdir()
