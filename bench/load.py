"""A realistic mix of traffic on loopback against the real ASGI app: throughput, latencies and errors per kind.

The set-up is bench/harness.py's: a throwaway SQLite file (or a new PostgreSQL database beside DATABASE_URL),
migrated, with an organisation that has practitioners with signed-in sessions, bookable hours, a walk-in and
a booking widget, a published web site (the demo's page set, Dutch and English, widgets on the main page)
and a pool of appointments whose personal links are open. Then uvicorn serves config.asgi:application on
127.0.0.1 (--workers N; with N > 1 the Redis channel layer and cache, which several processes need) while
--users virtual users, ramped up over --ramp seconds, each play one part until --duration ends:

- visitor: views the organisation's pages (the main page with its widget frames, follow-up pages, the other
  language) with --think seconds (on average) between views;
- patient: opens a personal link over HTTP (the link exchanges its token for a session and redirects to the
  waiting-room page), joins the waiting room's socket (/ws/waiting/patient/; joined = its first "status"
  message), stays --stay seconds, leaves, and opens the next free link;
- practitioner: keeps the staff waiting-room socket open, reloads the waiting list when it says "changed"
  (as the portal page does) and polls the portal's Today page every --today-every seconds;
- booker: opens the booking widget (the free times), picks a time no other virtual user has picked, opens its
  details form and books it. A taken time (409) counts as "refused", as the widget expects it; each booker
  comes from an address of its own (X-Forwarded-For, trusted from 127.0.0.1 as behind the TLS proxy), so
  the widget's per-address throttle applies per visitor as in real use.

The parts' shares of the users are --mix (default: most users view pages, then waiting-room users, few
bookings). Printed: the machine, then per kind of request count, requests/s, p50, p95, p99 (ms), errors (the
first few messages) and refusals, the overall throughput, and one JSON line with the same for machines.
Every step is timed from the request to the last byte of the answer (for a socket: to its first message),
connection set-up included. Throughput is over --duration, the ramp included. The client runs on the same
machine: its own CPU time is printed too, as on a small machine it competes with the server.

Run: .venv/bin/python bench/load.py [--duration 60] [--users 200] [--workers 1]
     [--mix visitor=70,patient=20,practitioner=5,booker=5] [--think 1] [--stay 5,20]
     DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/load.py --workers 2
The Redis database (--redis-url) is flushed before and after use; keep it for this script.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import harness

SUBDOMAIN = "benchload"
DEFAULT_MIX = "visitor=70,patient=20,practitioner=5,booker=5"
PARTS = ("visitor", "patient", "practitioner", "booker")
REQUEST_TIMEOUT = 30.0
KEEP_ALIVE = 4.0  # uvicorn closes idle connections after 5 s; a client opens a new one sooner, as browsers do
ERROR_SAMPLES = 3


def parse_mix(text):
    """'visitor=70,patient=20' → {"visitor": 70.0, "patient": 20.0, …} (parts not named: 0)."""
    weights = dict.fromkeys(PARTS, 0.0)
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _sep, value = item.partition("=")
        if name not in weights:
            raise argparse.ArgumentTypeError(f"unknown part {name!r}; the parts are {', '.join(PARTS)}")
        weights[name] = float(value)
        if weights[name] < 0:
            raise argparse.ArgumentTypeError(f"a negative share for {name}")
    if not sum(weights.values()):
        raise argparse.ArgumentTypeError("the mix is empty")
    return weights


def assign_parts(users, weights):
    """Which part each of `users` virtual users plays: shares as the weights (largest remainders), spread
    so that a ramp-up brings in every part from the start."""
    total = sum(weights.values())
    exact = {name: users * weight / total for name, weight in weights.items()}
    counts = {name: math.floor(share) for name, share in exact.items()}
    for name in sorted(exact, key=lambda n: exact[n] - counts[n], reverse=True)[:users - sum(counts.values())]:
        counts[name] += 1
    # Interleave: at each step take the part furthest behind its share.
    given = dict.fromkeys(counts, 0)
    order = []
    for i in range(users):
        name = max((n for n in counts if given[n] < counts[n]), key=lambda n: counts[n] * (i + 1) / users - given[n])
        given[name] += 1
        order.append(name)
    return order


# --- a minimal HTTP/1.1 client on asyncio streams (no dependency beyond the standard library) ------


class HttpError(Exception):
    pass


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        values = self.headers.get(name.lower())
        return values[-1] if values else None

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


async def read_response(reader, method="GET"):
    """Parse one HTTP/1.1 response from `reader`: Content-Length, chunked, or up to the end of the stream."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("connection closed before an answer")
    parts = status_line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise HttpError(f"bad status line {status_line[:80]!r}")
    status = int(parts[1])
    headers = defaultdict(list)
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _sep, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()].append(value.strip())
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body = b""
    elif "chunked" in ",".join(headers.get("transfer-encoding", [])).lower():
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"][-1]))
    else:
        body = await reader.read()
    return Response(status, dict(headers), body)


class Browser:
    """One virtual user's HTTP connection (kept alive) and cookies, on the organisation's host."""

    def __init__(self, port, host, forwarded_for=None):
        self.port, self.host = port, host
        self.cookies = {}
        self.forwarded_for = forwarded_for
        self.reader = self.writer = None
        self.last_used = 0.0

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(self, method, path, form=None, headers=None):
        if self.writer is not None and time.monotonic() - self.last_used > KEEP_ALIVE:
            await self.close()
        body = urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: text/html,*/*",
                 "Accept-Language: en", "User-Agent: openconsult-bench-load"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if self.forwarded_for:
            lines.append(f"X-Forwarded-For: {self.forwarded_for}")
        if form is not None:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}",
                      f"Origin: http://{self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (1, 2):
            reused = self.writer is not None
            if not reused:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**22)
            try:
                self.writer.write(raw)
                await self.writer.drain()
                response = await read_response(self.reader, method)
                break
            except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError):
                await self.close()
                if not reused or attempt == 2:  # a fresh connection that fails is a real failure
                    raise
        self.last_used = time.monotonic()
        for cookie in response.headers.get("set-cookie", []):
            name, _sep, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if "close" in ",".join(response.headers.get("connection", [])).lower():
            await self.close()
        return response


# --- recording --------------------------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.latencies = defaultdict(list)
        self.errors = defaultdict(int)
        self.refused = defaultdict(int)
        self.samples = defaultdict(list)
        self.stopping = False

    def ok(self, kind, seconds):
        self.latencies[kind].append(seconds)

    def error(self, kind, message):
        self.errors[kind] += 1
        if len(self.samples[kind]) < ERROR_SAMPLES:
            self.samples[kind].append(message)

    def refuse(self, kind, seconds):
        self.latencies[kind].append(seconds)
        self.refused[kind] += 1

    async def timed(self, kind, call, expect=(200,), refused=()):
        """Run `call()` (an HTTP request); record its time under `kind`; None when it failed."""
        started = time.perf_counter()
        try:
            response = await asyncio.wait_for(call(), REQUEST_TIMEOUT)
        except Exception as error:  # noqa: BLE001 (every way a request fails is counted)
            self.error(kind, f"{type(error).__name__}: {error}"[:200])
            return None
        seconds = time.perf_counter() - started
        if response.status in refused:
            self.refuse(kind, seconds)
            return response
        if response.status not in expect:
            self.error(kind, f"HTTP {response.status}: {response.text[:120]!r}")
            return None
        self.ok(kind, seconds)
        return response

    def summary(self, duration):
        rows = []
        for kind in sorted(set(self.latencies) | set(self.errors)):
            values = self.latencies[kind]
            rows.append({
                "kind": kind, "count": len(values) + self.errors[kind], "per_s": (len(values) + self.errors[kind])
                / duration, "p50_ms": harness.percentile(values, 50) * 1000,
                "p95_ms": harness.percentile(values, 95) * 1000, "p99_ms": harness.percentile(values, 99) * 1000,
                "errors": self.errors[kind], "refused": self.refused[kind], "error_samples": self.samples[kind],
            })
        return rows


# --- the virtual users --------------------------------------------------------------------------------


class Scenario:
    """What the users share: the server's address, the site's pages, the links, the slots already picked."""

    def __init__(self, port, setup, args, recorder, deadline):
        self.port = port
        self.host = f"{SUBDOMAIN}.localhost"
        self.setup = setup
        self.args = args
        self.recorder = recorder
        self.deadline = deadline
        self.links = asyncio.Queue()
        for token in setup["links"]:
            self.links.put_nowait(token)
        self.picked = set()
        self.addresses = (f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in itertools.count(1))
        self.sockets = set()

    def running(self):
        return time.monotonic() < self.deadline and not self.recorder.stopping

    async def think(self, scale=1.0):
        seconds = random.uniform(0.5, 1.5) * self.args.think * scale
        await asyncio.sleep(max(0.0, min(seconds, self.deadline - time.monotonic())))

    async def visitor(self, number):
        browser = Browser(self.port, self.host)
        pages = self.setup["pages"]
        try:
            while self.running():
                path = random.choice(pages)
                response = await self.recorder.timed("page", lambda p=path: browser.request("GET", p))
                for frame in frames_in(response.text if response is not None else ""):
                    kind = f"widget frame: {frame.split('/')[2]}"  # /widgets/<booking|walk-in>/…
                    await self.recorder.timed(kind, lambda f=frame: browser.request("GET", f))
                await self.think()
        finally:
            await browser.close()

    async def patient(self, number):
        from websockets.exceptions import ConnectionClosed

        while self.running():
            token = await self.links.get()
            browser = Browser(self.port, self.host)
            try:
                linked = await self.recorder.timed(
                    "patient: link", lambda b=browser, t=token: b.request("GET", f"/c/{t}/"), expect=(302,))
                if linked is None:
                    continue
                to = urlsplit(linked.header("location")).path
                page = await self.recorder.timed(
                    "patient: waiting-room page", lambda b=browser, p=to: b.request("GET", p))
                if page is None:
                    continue
                started = time.perf_counter()
                try:
                    websocket = await asyncio.wait_for(harness.ws_connect(
                        self.port, self.host, "/ws/waiting/patient/", browser.cookies.get("sessionid", "")),
                        REQUEST_TIMEOUT)
                except Exception as error:  # noqa: BLE001
                    self.recorder.error("patient: join socket", f"{type(error).__name__}: {error}"[:200])
                    continue
                self.sockets.add(websocket)
                try:
                    first = json.loads(await asyncio.wait_for(websocket.recv(), REQUEST_TIMEOUT))
                    if first.get("type") != "status":
                        raise RuntimeError(f"first message {first}")
                    self.recorder.ok("patient: join socket", time.perf_counter() - started)
                    stay_low, stay_high = self.args.stay
                    until = min(self.deadline, time.monotonic() + random.uniform(stay_low, stay_high))
                    while time.monotonic() < until and not self.recorder.stopping:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(websocket.recv(), until - time.monotonic())
                except (ConnectionClosed, RuntimeError, TimeoutError) as error:
                    self.recorder.error("patient: join socket", f"{type(error).__name__}: {error}"[:200])
                finally:
                    self.sockets.discard(websocket)
                    await websocket.close()
            finally:
                await browser.close()
                self.links.put_nowait(token)
            await self.think()

    async def practitioner(self, number):
        key = self.setup["staff_keys"][number % len(self.setup["staff_keys"])]
        # The page's polls and the list reloads run side by side, each on a connection of its own.
        browser, lister = Browser(self.port, self.host), Browser(self.port, self.host)
        browser.cookies["sessionid"] = lister.cookies["sessionid"] = key
        started = time.perf_counter()
        try:
            websocket = await asyncio.wait_for(harness.ws_connect(
                self.port, self.host, "/ws/waiting/staff/", browser.cookies["sessionid"]), REQUEST_TIMEOUT)
        except Exception as error:  # noqa: BLE001
            self.recorder.error("staff: socket", f"{type(error).__name__}: {error}"[:200])
            return
        self.recorder.ok("staff: socket", time.perf_counter() - started)
        self.sockets.add(websocket)
        changed = asyncio.Event()

        async def listen():
            with contextlib.suppress(Exception):
                async for text in websocket:
                    if json.loads(text).get("type") == "changed":
                        changed.set()

        async def reload_list():
            # One reload at a time; changes meanwhile make one more (the page's script coalesces them too).
            while self.running():
                await changed.wait()
                changed.clear()
                await self.recorder.timed("staff: waiting list", lambda: lister.request(
                    "GET", "/portal/waiting-room/list/", headers={"HX-Request": "true"}))

        async def poll_today():
            while self.running():
                await self.recorder.timed("staff: Today page", lambda: browser.request("GET", "/portal/today/"))
                await asyncio.sleep(max(0.0, min(self.args.today_every * random.uniform(0.8, 1.2),
                                                  self.deadline - time.monotonic())))

        tasks = [asyncio.ensure_future(job()) for job in (listen, reload_list, poll_today)]
        try:
            while self.running():
                await asyncio.sleep(min(0.5, max(0.0, self.deadline - time.monotonic())))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.sockets.discard(websocket)
            await websocket.close()
            await browser.close()
            await lister.close()

    async def booker(self, number):
        widget = self.setup["booking_path"]
        while self.running():
            browser = Browser(self.port, self.host, forwarded_for=next(self.addresses))
            try:
                listing = await self.recorder.timed("booking: free times", lambda b=browser: b.request("GET", widget))
                if listing is None:
                    await self.think()
                    continue
                free = [s for s in dict.fromkeys(re.findall(r"\?slot=(\d+-\d+)", listing.text)) if s not in self.picked]
                if not free:
                    self.recorder.error("booking: free times", "no free time left to pick")
                    await self.think()
                    continue
                slot = random.choice(free[:20])  # visitors pick among the first days
                self.picked.add(slot)
                await self.think()
                details = await self.recorder.timed("booking: details form",
                                                    lambda b=browser, s=slot: b.request("GET", f"{widget}?slot={s}"),
                                                    refused=(409,))
                if details is None or details.status == 409:
                    continue
                form = booking_form(details.text, slot, number)
                await self.think()
                await self.recorder.timed("booking: book", lambda b=browser, f=form: b.request("POST", widget, form=f),
                                          refused=(409,))
            finally:
                await browser.close()
            await self.think(2)


def frames_in(html):
    """Same-host paths of the page's frames (the widgets), as a browser loads them with the page."""
    paths = []
    for src in re.findall(r"<iframe[^>]*\ssrc=\"([^\"]+)\"", html):
        parts = urlsplit(src.replace("&amp;", "&"))
        paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def booking_form(html, slot, number):
    """The booking details form as a visitor fills it in: every field it asks, the hidden token and slot."""
    values = {"given_name": "Bench", "last_name": f"Booker {number}", "date_of_birth": "1980-05-17",
              "email": f"booker{number}-{slot}@bench.test", "phone": "+31 20 123 4567",
              "client_number": "", "accept_terms": "on", "slot": slot}
    form = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'\sname="([^"]+)"', tag)
        if not name:
            continue
        value = re.search(r'\svalue="([^"]*)"', tag)
        form[name.group(1)] = values.get(name.group(1), value.group(1) if value else "")
    form["slot"] = slot
    return form


async def run_load(port, setup, args, recorder):
    parts = assign_parts(args.users, args.mix)
    started = time.monotonic()
    deadline = started + args.duration
    scenario = Scenario(port, setup, args, recorder, deadline)
    counters = defaultdict(int)

    async def user(i, part):
        await asyncio.sleep(args.ramp * i / max(1, len(parts)))
        number = counters[part]
        counters[part] += 1
        if scenario.running():
            await getattr(scenario, part)(number)

    users = [asyncio.ensure_future(user(i, part)) for i, part in enumerate(parts)]
    try:
        await asyncio.wait(users, timeout=args.duration + REQUEST_TIMEOUT + 10)
    finally:
        recorder.stopping = True
        for task in users:
            task.cancel()
        await asyncio.gather(*users, return_exceptions=True)
        await asyncio.gather(*(s.close() for s in list(scenario.sockets)), return_exceptions=True)
    return time.monotonic() - started, dict(zip(PARTS, (parts.count(p) for p in PARTS), strict=True))


# --- the data --------------------------------------------------------------------------------------


def build(args):
    """The organisation, its site, widgets, bookable hours and open links: what the users need to know."""
    from datetime import time as day_time

    from django.test import Client as TestClient
    from django.utils import timezone

    from cms.demo import demo_site
    from consult.models import Availability, AvailabilityKind
    from consult.selectors import zone_of
    from orgs.scoping import organization_scope
    from widgets.demo import demo_widgets

    parts = assign_parts(args.users, args.mix)
    practitioners = max(1, min(parts.count("practitioner"), 50))
    org, department, members, keys = harness.create_organisation(SUBDOMAIN, practitioners=max(practitioners, 2))
    # A link per patient user and some spare: a patient leaves and another opens a free link.
    links = [token for _p, token in harness.create_appointments(
        org, department, members, max(1, parts.count("patient")) * 3)]
    walk_in, booking = demo_widgets(org)
    bookable = members[:4]
    # Enough free times for every booker to book one every few seconds, on as few days as that takes.
    needed = parts.count("booker") * args.duration / max(1.0, args.think * 3) * 2 + 50
    per_day = len(bookable) * 30  # 08:00–18:00, 20-minute consults
    days = min(90, math.ceil(needed / per_day) + 1)
    today = timezone.localdate(timezone=zone_of(org))
    with organization_scope(org):
        booking.days_ahead = days
        booking.save(update_fields=["days_ahead"])
        Availability.objects.bulk_create([
            Availability(organization=org, practitioner=member, kind=AvailabilityKind.BOOKING, date=today,
                         start_time=day_time(8), end_time=day_time(18), rrule="FREQ=DAILY", consult_minutes=20,
                         break_minutes=0)
            for member in bookable
        ])
        # The walk-in switch on for one, so the walk-in frame lists someone as on a working day.
        members[0].walk_in_open = True
        members[0].save(update_fields=["walk_in_open"])
    demo_site(org, widgets=(walk_in, booking))

    # The site's pages as a visitor finds them: "/" redirects to the main page, which links the others.
    client = TestClient(HTTP_HOST=org.hostname)
    main = client.get("/")
    if main.status_code != 302:
        raise SystemExit(f"the site's / answered {main.status_code}")
    main_path = urlsplit(main["Location"]).path
    html = client.get(main_path).content.decode()
    others = sorted({path for path in re.findall(r'href="(/[a-z]{2}/[a-z0-9/-]*)"', html) if path != main_path})
    # The main page is the most viewed; the follow-ups and the other language's main page less.
    pages = [main_path] * max(1, len(others)) + others
    booking_path = urlsplit(booking.get_absolute_url()).path
    return {"pages": pages, "links": links, "staff_keys": keys, "booking_path": booking_path,
            "practitioners": len(members), "bookable_days": days}


# --- reporting ------------------------------------------------------------------------------------


def traceback_summary(text):
    """{(final exception line, last frame in our code): count} over the server log's tracebacks; a chain of
    "during handling" tracebacks counts once, by its last exception."""
    counts = defaultdict(int)
    pending = None  # the exception that ended the last traceback, until we know no chained one follows
    last_ours, in_traceback = "", False
    for line in [*text.splitlines(), "<end>"]:
        if line.startswith("Traceback (most recent call last)"):
            in_traceback, pending = True, None
        elif in_traceback:
            if line.startswith("  File ") and str(harness.ROOT) in line and "/.venv/" not in line:
                last_ours = line.strip()
            elif line and not line.startswith(" "):
                in_traceback, pending = False, (line.strip()[:200], last_ours)
        elif pending is not None and (not line.strip() or line.startswith(("The above exception", "During handl"))):
            continue
        elif pending is not None:
            counts[pending] += 1
            pending, last_ours = None, ""
    return counts


def tree_cpu(pid):
    """CPU seconds (user + system) used so far by process `pid` and its children (uvicorn's workers)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])))
    tree, total = {pid}, 0
    for _ in range(3):  # children, grandchildren (the worker processes' own helpers)
        tree |= {child for child, (parent, _cpu) in parents.items() if parent in tree}
    total = sum(parents[p][1] for p in tree if p in parents)
    return total / os.sysconf("SC_CLK_TCK")


def machine(database_label, layer, workers):
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        version = cursor.fetchone()[0].split()[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(ram / 2**30, 1) if ram else None,
            "python": platform.python_version(), "database": f"{database_label} {version}",
            "layer": layer, "workers": workers}


def report(facts, rows, elapsed, duration, users, server_errors, client_cpu):
    print(f"\nmachine: {facts['cpu']}, {facts['cores']} cores, {facts['ram_gib']} GiB RAM, Python {facts['python']}, "
          f"{facts['database']}, {facts['layer']} channel layer and cache, {facts['workers']} uvicorn worker(s); "
          f"1-minute load average {facts['load_average_before']} before, {facts['load_average_after']} after")
    print(f"load: {duration:.0f} s, {users} virtual users ({', '.join(f'{n} {p}' for p, n in facts['parts'].items())});"
          f" server CPU {facts['server_cpu_s']:.1f} s, client CPU {client_cpu:.1f} s")
    print(f"\n{'kind':28} {'count':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'refused':>8}")
    for row in rows:
        print(f"{row['kind']:28} {row['count']:7} {row['per_s']:7.1f} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} "
              f"{row['p99_ms']:8.1f} {row['errors']:7} {row['refused']:8}")
    total = sum(r["count"] for r in rows)
    errors = sum(r["errors"] for r in rows)
    print(f"{'all':28} {total:7} {total / duration:7.1f} {'':8} {'':8} {'':8} {errors:7} "
          f"{sum(r['refused'] for r in rows):8}")
    for row in rows:
        for sample in row["error_samples"]:
            print(f"  error ({row['kind']}): {sample}")
    if total:
        print(f"server CPU per request (socket opens included): {facts['server_cpu_s'] / total * 1000:.1f} ms")
    print(f"server tracebacks logged: {server_errors}")
    print(json.dumps({"bench": "load", **facts, "duration_s": duration, "users": users, "requests": total,
                      "requests_per_s": round(total / duration, 1), "errors": errors,
                      "server_tracebacks": server_errors, "client_cpu_s": round(client_cpu, 1),
                      "kinds": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in row.items()}
                                for row in rows]}))


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--users", type=int, default=200, help="virtual users (default 200)")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which the users start")
    parser.add_argument("--mix", type=parse_mix, default=parse_mix(DEFAULT_MIX),
                        help=f"shares of the users per part (default {DEFAULT_MIX})")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's steps")
    parser.add_argument("--stay", type=lambda t: tuple(float(x) for x in t.split(",")), default=(5.0, 20.0),
                        help="seconds a patient stays in the waiting room: low,high (default 5,20)")
    parser.add_argument("--today-every", type=float, default=5.0, help="seconds between Today page polls")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (> 1: the Redis layer)")
    parser.add_argument("--layer", choices=("memory", "redis"), help="default: memory for 1 worker, else redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7", help="a database it may flush")
    parser.add_argument("--server-args", default="--ws-per-message-deflate false",
                        help='more uvicorn options (default: as in production); "" for none')
    args = parser.parse_args(argv)
    args.layer = args.layer or ("memory" if args.workers == 1 else "redis")
    if args.layer == "memory" and args.workers > 1:
        parser.error("the in-memory channel layer cannot span several workers: use --layer redis")
    if args.users < 1 or args.duration <= 0:
        parser.error("--users and --duration must be positive")
    return args


def main():
    args = parse_args()
    # SIGTERM stops as Ctrl-C does: through the finally blocks that stop the server and drop the database.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # sockets on both sides; the server inherits it
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    server = database = None
    try:
        database = harness.Database(workdir, "bench_load")
        env = harness.server_env(database, workdir)
        print(f"setting up a throwaway {database.label} database …", file=sys.stderr)
        harness.setup_django(env)
        setup = build(args)
        server_env = dict(env)
        if args.layer == "redis":
            server_env["REDIS_URL"] = args.redis_url
            harness.flush_redis(args.redis_url)
        extra = [*args.server_args.split(), "--forwarded-allow-ips", "127.0.0.1"]
        if args.workers > 1:
            extra += ["--workers", str(args.workers)]
        server = harness.Server(server_env, workdir / "server.log", extra)
        facts = machine(database.label, "Redis" if args.layer == "redis" else "in-memory", args.workers)
        print(f"server on 127.0.0.1:{server.port}; {args.users} users for {args.duration:.0f} s …", file=sys.stderr)
        facts["load_average_before"] = round(os.getloadavg()[0], 1)
        recorder = Recorder()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = tree_cpu(server.process.pid)
        elapsed, facts["parts"] = asyncio.run(run_load(server.port, setup, args, recorder))
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        facts["server_cpu_s"] = round(tree_cpu(server.process.pid) - server_cpu, 1)
        facts["load_average_after"] = round(os.getloadavg()[0], 1)
        server_errors = server.errors()
        for (exception, frame), count in sorted(traceback_summary(server.log_path.read_text()).items(),
                                                key=lambda item: -item[1]):
            print(f"server error ×{count}: {exception}\n    at {frame or '(no frame of ours)'}", file=sys.stderr)
        report(facts, recorder.summary(args.duration), elapsed, args.duration, args.users, server_errors, client_cpu)
    except KeyboardInterrupt:
        print("interrupted; stopping", file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
        if args.layer == "redis":
            with contextlib.suppress(Exception):
                harness.flush_redis(args.redis_url)
        if database is not None:
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


if __name__ == "__main__":
    main()
