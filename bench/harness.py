"""What the live benches share: a throwaway database, the data they need, uvicorn in a subprocess, Redis.

The server is the real ASGI app (config.asgi:application) under uvicorn on 127.0.0.1 and an ephemeral port,
dev settings with DEBUG off; the database is a temporary SQLite file, or a new PostgreSQL database next to
DATABASE_URL when that is a PostgreSQL URL (dropped at the end). The bench process itself writes the rows
with the ORM (bulk inserts, sessions made as a signed-in browser or an opened link leaves them), so the
load it then measures is only the servers'.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))  # nearest rank
    return ordered[index]


# --- the database and the data -------------------------------------------------------------------


class Database:
    """A throwaway database: a temp SQLite file, or a new PostgreSQL database beside DATABASE_URL."""

    def __init__(self, workdir, tag="bench"):
        given = os.environ.get("DATABASE_URL", "")
        self.admin_url = None
        if given.startswith(("postgres://", "postgresql://", "pgsql://")):
            parts = urlsplit(given)
            self.name = f"{parts.path.lstrip('/') or 'postgres'}_{tag}_{os.getpid()}"
            self.admin_url = given
            self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
            self._admin(f'CREATE DATABASE "{self.name}"')
        else:
            self.url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        self.label = "PostgreSQL" if self.admin_url else "SQLite"

    def _admin(self, sql):
        import psycopg

        parts = urlsplit(self.admin_url)
        dsn = urlunsplit(parts._replace(scheme="postgresql"))
        try:
            connection = psycopg.connect(dsn, autocommit=True)
        except psycopg.OperationalError:
            # The named database need not exist: the server's maintenance database will do for CREATE/DROP.
            connection = psycopg.connect(urlunsplit(parts._replace(scheme="postgresql", path="/postgres")),
                                         autocommit=True)
        with connection:
            connection.execute(sql)

    def drop(self):
        if self.admin_url:
            from django.db import connections

            connections.close_all()
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def server_env(database, workdir):
    """The environment of the bench process and its servers: dev settings, DEBUG off, no Redis (the caller
    adds REDIS_URL for a server that should use it), emails written to files in `workdir`."""
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50), "DATABASE_URL": database.url, "PYTHONWARNINGS": "ignore",
        "EMAIL_URL": f"filemail://{workdir / 'mail'}", "MEDIA_ROOT": str(workdir / "media"),
    }
    env.pop("REDIS_URL", None)
    return env


def setup_django(env):
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)  # this process only writes rows; the servers get their layer
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def create_organisation(subdomain, practitioners=1):
    """An organisation with a department and `practitioners` practitioners in it, and each one's signed-in
    session on the organisation's host: (org, department, [membership], [session key])."""
    from django.conf import settings
    from django.test import Client as TestClient

    from orgs.middleware import SESSION_ORG_KEY, session_binding
    from orgs.models import Role
    from orgs.scoping import scopes_disabled
    from orgs.services import department_create, employee_create, org_create

    org = org_create(name="Bench Practice", subdomain=subdomain, max_users=max(10, practitioners + 5),
                     default_language="en")
    members, keys = [], []
    with scopes_disabled():
        gp = department_create(organization=org, actor=None, name="General practice")
        for i in range(practitioners):
            member = employee_create(
                organization=org, actor=None, email=f"gp{i or ''}@bench.test", first_name="Gp",
                last_name=f"Bench {i}" if i else "Bench", role=Role.PRACTITIONER, departments=[gp],
                send_invitation=False,
            )
            browser = TestClient(HTTP_HOST=org.hostname)
            browser.force_login(member.user)
            session = browser.session
            session[SESSION_ORG_KEY] = session_binding(org)
            session.save()
            members.append(member)
            keys.append(browser.cookies[settings.SESSION_COOKIE_NAME].value)
    return org, gp, members, keys


_starts = iter(range(10**9))


def create_appointments(org, department, practitioners, n):
    """N appointments starting in 10 minutes (link window open), spread over `practitioners`, each with a
    client participant: [(participant, personal link token)]."""
    from datetime import timedelta

    from django.utils import timezone

    from consult import links
    from consult.models import Appointment, AppointmentParticipant, Client, ParticipantRole
    from orgs.scoping import scopes_disabled

    base = timezone.now().replace(microsecond=0) + timedelta(minutes=10)
    nonces = [links.new_nonce() for _ in range(n)]
    tokens = [links.token_for(nonce) for nonce in nonces]
    with scopes_disabled():
        clients = Client.objects.bulk_create([
            Client(organization=org, initials="B.", last_name=f"Patient {i}", email=f"p{i}@bench.test",
                   department=department, language="en") for i in range(n)
        ])
        appointments = Appointment.objects.bulk_create([
            # distinct starts (unique per practitioner), microseconds apart: all within the window
            Appointment(organization=org, practitioner=practitioners[i % len(practitioners)], department=department,
                        client=client, starts_at=base + timedelta(microseconds=next(_starts)))
            for i, client in enumerate(clients)
        ])
        participants = AppointmentParticipant.objects.bulk_create([
            AppointmentParticipant(organization=org, appointment=appointment, person=client,
                                   role=ParticipantRole.CLIENT, token_nonce=nonce, token_hash=links.token_hash(token))
            for appointment, client, nonce, token in zip(appointments, clients, nonces, tokens, strict=True)
        ])
    return list(zip(participants, tokens, strict=True))


def create_patients(org, department, practitioner, n):
    """N appointments as create_appointments makes them, each with a patient session as the personal link
    leaves it (SESSION_PARTICIPANT, SESSION_TOKEN): their session keys."""
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from consult import views

    store = SessionStore()

    def contents(participant):
        # What the personal link (and, where the organisation asks for one, the accepted disclaimer) leaves.
        data = {views.SESSION_PARTICIPANT: participant.pk, views.SESSION_TOKEN: participant.token_hash}
        if hasattr(views, "SESSION_DISCLAIMER"):
            data[views.SESSION_DISCLAIMER] = [participant.pk]
        return data

    expires = timezone.now() + timedelta(hours=12)
    sessions = [
        Session(session_key=secrets.token_hex(16), expire_date=expires, session_data=store.encode(contents(p)))
        for p, _token in create_appointments(org, department, [practitioner], n)
    ]
    Session.objects.bulk_create(sessions)
    return [s.session_key for s in sessions]


# --- the server -----------------------------------------------------------------------------------


class Server:
    """uvicorn with config.asgi:application in a subprocess on 127.0.0.1 (one worker unless extra_args say
    --workers)."""

    def __init__(self, env, log_path, extra_args=()):
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port",
             str(self.port), "--lifespan", "off", "--log-level", "warning", *extra_args],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise SystemExit(f"the server did not start; see {log_path}:\n{log_path.read_text()}") from None
                time.sleep(0.2)

    def rss(self):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def cpu(self):
        """CPU seconds (user + system) the server process has used so far (not its workers' with --workers)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def errors(self):
        """Tracebacks the server has logged so far."""
        self.log.flush()
        return self.log_path.read_text().count("Traceback (most recent call last)")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.log.closed:
            self.log.close()


# --- clients and Redis ----------------------------------------------------------------------------


def ws_connect(port, host_name, path, session_key, **kwargs):
    """A websockets client connection to `path` on the organisation host `host_name`, with a session cookie."""
    from websockets.asyncio.client import connect

    host = f"{host_name}:{port}"
    return connect(
        f"ws://{host}{path}", host="127.0.0.1", port=port, proxy=None, open_timeout=None,
        origin=f"http://{host}", additional_headers={"Cookie": f"sessionid={session_key}"},
        ping_interval=None, max_queue=None, **kwargs,
    )


def redis_connections(url):
    """Client connections on the bench's Redis database (the server's channel-layer and cache pools)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        db = client.connection_pool.connection_kwargs.get("db", 0)
        return sum(1 for c in client.client_list() if int(c.get("db", -1)) == db) - 1  # minus this one
    finally:
        client.close()


def flush_redis(url):
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
