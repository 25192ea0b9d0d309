"""The live waiting room under a burst: N patients join at once while a practitioner watches.

For each channel layer (in-memory, then Redis) this starts the real ASGI app with uvicorn in a
subprocess on 127.0.0.1 (one process: the in-memory layer cannot span more, and its RSS is then its
own) against a throwaway database: a temporary SQLite file, or a new database next to DATABASE_URL
when that is a PostgreSQL URL. The script migrates it and creates an organisation, a practitioner
with a signed-in staff session, and per burst N fresh appointments within their link window, each
with a client participant and a patient session as the personal link leaves it (SESSION_PARTICIPANT,
SESSION_TOKEN).

A burst: the practitioner's socket (/ws/waiting/staff/, in a process of its own so its clock is not
held up by the patients' client) is open; N patient sockets (/ws/waiting/patient/) open at once with
the `websockets` client. join→seen is the time from a patient's open request to the staff socket
receiving the "changed" event their entry caused. The events carry no identity and the server sends
each one when the entry commits, before it accepts that socket, so the k-th event is credited to the
k-th patient whose handshake completed. A handshake fails unless the socket opens and its first
"status" message arrives. Medians over --reps repetitions.

Memory per idle waiting socket: the server's VmRSS before and after holding --idle patient sockets
(opened in small batches, after a warm-up), divided by their number.

Run: .venv/bin/python bench/waiting_room.py [--sizes 10,100,1000] [--reps 3] [--idle 1000]
     [--layers memory,redis] [--redis-url redis://127.0.0.1:6379/13]
     DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/waiting_room.py  (PostgreSQL)
The Redis database given is flushed before and after each use; keep it for this script.
"""

import argparse
import asyncio
import json
import math
import multiprocessing
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import harness
from harness import (  # noqa: F401 (Database, Server and setup_django: other benches import them from here)
    Database,
    Server,
    flush_redis,
    percentile,
    redis_connections,
    setup_django,
)

SUBDOMAIN = "benchwait"
TARGETS = {100: 0.100, 1000: 1.0}  # burst size → p95 target (s), from the issue
IDLE_TARGET = 64 * 1024


# --- the data and the clients ---------------------------------------------------------------------


def create_organisation():
    """An organisation with one practitioner, and that practitioner's signed-in session on its host."""
    org, gp, members, keys = harness.create_organisation(SUBDOMAIN)
    return org, gp, members[0], keys[0]


create_patients = harness.create_patients


def ws_connect(port, path, session_key, **kwargs):
    return harness.ws_connect(port, f"{SUBDOMAIN}.localhost", path, session_key, **kwargs)


def staff_watcher(port, session_key, pipe):
    """The practitioner's socket, in a process of its own: records when each "changed" arrives.

    Commands on `pipe`: "count" → number of events so far; "stop" → close, then the arrival times.
    """

    async def watch():
        loop = asyncio.get_running_loop()
        arrivals = []
        commands = asyncio.Queue()
        loop.add_reader(pipe.fileno(), lambda: commands.put_nowait(pipe.recv()))
        try:
            websocket = await asyncio.wait_for(ws_connect(port, "/ws/waiting/staff/", session_key), 30)
        except Exception as error:  # noqa: BLE001
            pipe.send(("error", repr(error)))
            return

        async def read():
            async for text in websocket:
                if json.loads(text).get("type") == "changed":
                    arrivals.append(time.perf_counter())

        reader = asyncio.ensure_future(read())
        pipe.send(("ready", None))
        while True:
            command = await commands.get()
            if command == "count":
                pipe.send(len(arrivals))
            elif command == "stop":
                reader.cancel()
                await websocket.close()
                pipe.send(list(arrivals))
                return

    asyncio.run(watch())


class Staff:
    def __init__(self, port, session_key):
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=staff_watcher, args=(port, session_key, child), daemon=True)
        self.process.start()
        kind, detail = self.pipe.recv() if self.pipe.poll(60) else ("error", "no answer in 60 s")
        if kind != "ready":
            self.process.join(5)
            raise SystemExit(f"the staff socket did not open: {detail}")

    def count(self):
        self.pipe.send("count")
        return self.pipe.recv()

    def stop(self):
        self.pipe.send("stop")
        arrivals = self.pipe.recv()
        self.process.join(10)
        return arrivals


class Patient:
    def __init__(self):
        self.started = self.opened = None
        self.websocket = None
        self.error = None


async def open_patient(port, session_key, timeout):
    patient = Patient()
    patient.started = time.perf_counter()
    try:
        websocket = await asyncio.wait_for(ws_connect(port, "/ws/waiting/patient/", session_key), timeout)
        patient.opened = time.perf_counter()
        patient.websocket = websocket
        first = json.loads(await asyncio.wait_for(websocket.recv(), timeout))
        if first.get("type") != "status":
            raise RuntimeError(f"first message {first}")
    except Exception as error:  # noqa: BLE001 (every way a handshake fails is counted)
        close = getattr(error, "rcvd", None)
        patient.error = f"{type(error).__name__}{f' {close.code}' if close else ''}"
        patient.opened = None
    return patient


async def close_all(patients):
    await asyncio.gather(*(p.websocket.close() for p in patients if p.websocket is not None),
                         return_exceptions=True)


async def wait_for_events(staff, expected, deadline):
    while time.monotonic() < deadline:
        if staff.count() >= expected:
            return
        await asyncio.sleep(0.01)


async def wait_quiet(staff, quiet=0.5, limit=30):
    """Until the staff socket has heard nothing for `quiet` seconds (the leaves of the last burst)."""
    last, since, end = staff.count(), time.monotonic(), time.monotonic() + limit
    while time.monotonic() < end:
        await asyncio.sleep(0.1)
        now = staff.count()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


class Result(NamedTuple):
    latencies: list  # join→seen per patient that joined, in s (inf: never seen)
    failed: list  # why each failed handshake failed
    unseen: int  # joins the practitioner never heard of ("changed" events dropped on the way)
    cpu_per_join: float  # server CPU seconds per join, until the last join was seen
    errors: int = 0  # tracebacks in the server log, leaves included


def burst(server, staff_key, session_keys, timeout):
    """N patients at once while the practitioner watches; their sockets close after the last one is seen."""
    staff = Staff(server.port, staff_key)
    errors, cpu = server.errors(), server.cpu()

    async def run():
        patients = await asyncio.gather(*(open_patient(server.port, key, timeout) for key in session_keys))
        joined = sorted((p for p in patients if p.error is None), key=lambda p: p.opened)
        await wait_for_events(staff, len(joined), time.monotonic() + timeout)
        used = server.cpu() - cpu
        arrivals = sorted(staff.stop())  # the arrivals up to now are the joins; the leaves come after
        await close_all(patients)
        return patients, joined, arrivals, used

    patients, joined, arrivals, used = asyncio.run(run())
    settle(server, staff_key)
    return Result(
        latencies=[seen - patient.started for patient, seen in zip(joined, arrivals, strict=False)]
        + [math.inf] * max(0, len(joined) - len(arrivals)),  # never seen
        failed=[p.error for p in patients if p.error is not None],
        unseen=max(0, len(joined) - len(arrivals)),
        cpu_per_join=used / len(session_keys),
        errors=server.errors() - errors,
    )


def settle(server, staff_key):
    """Wait until the server has announced every leave of the previous burst."""
    staff = Staff(server.port, staff_key)
    asyncio.run(wait_quiet(staff))
    staff.stop()


def idle_memory(server, session_keys, timeout, batch=50):
    """Bytes of server RSS per idle waiting socket, and how many opened."""

    async def run():
        before = server.rss()
        patients = []
        for start in range(0, len(session_keys), batch):
            patients += await asyncio.gather(
                *(open_patient(server.port, key, timeout) for key in session_keys[start:start + batch]))
        await asyncio.sleep(3)  # idle: the announcements and handshakes are done
        after = server.rss()
        opened = sum(p.error is None for p in patients)
        await close_all(patients)
        return (after - before) / max(opened, 1), opened

    return asyncio.run(run())


# --- main -----------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="burst sizes")
    parser.add_argument("--reps", type=int, default=3, help="bursts per size (medians are printed)")
    parser.add_argument("--idle", type=int, default=1000, help="idle sockets for the memory figure (0: skip)")
    parser.add_argument("--layers", default="memory,redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="a database it may flush")
    parser.add_argument("--timeout", type=float, default=120.0, help="s a handshake (or the last seen) may take")
    # As in the README's production command: compression costs ~36 KiB per socket and gains nothing on tiny JSON.
    parser.add_argument("--server-args", default="--ws-per-message-deflate false",
                        help='uvicorn options (default: as in production); "" for uvicorn\'s defaults')
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    layers = args.layers.split(",")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 1000 sockets a side; the server inherits it
    workdir = Path(tempfile.mkdtemp(prefix="bench-waiting-"))
    database = Database(workdir, "bench_waiting")
    env = harness.server_env(database, workdir)
    rows, memory = [], {}
    try:
        print(f"setting up a throwaway {database.label} database …", file=sys.stderr)
        setup_django(env)
        org, department, practitioner, staff_key = create_organisation()
        for layer in layers:
            server_env = dict(env)
            if layer == "redis":
                server_env["REDIS_URL"] = args.redis_url
                flush_redis(args.redis_url)
            server = Server(server_env, workdir / f"server-{layer}.log", args.server_args.split())
            try:
                burst(server, staff_key, create_patients(org, department, practitioner, 10), args.timeout)  # warm-up
                if args.idle:  # first, while the server's heap has not yet grown for a burst
                    memory[layer] = idle_memory(server, create_patients(org, department, practitioner, args.idle),
                                                args.timeout)
                    settle(server, staff_key)
                for n in sizes:
                    runs = []
                    for _ in range(args.reps):
                        run = burst(server, staff_key, create_patients(org, department, practitioner, n), args.timeout)
                        runs.append(run)
                        reasons = ", ".join(f"{why} ×{run.failed.count(why)}" for why in sorted(set(run.failed)))
                        print(f"  {layer} N={n}: p95 {percentile(run.latencies, 95) * 1000:.0f} ms, "
                              f"{len(run.failed)} failed {reasons}, {run.unseen} unseen, {run.errors} server errors",
                              file=sys.stderr)
                    rows.append((layer, n, runs, redis_connections(args.redis_url) if layer == "redis" else None))
            finally:
                server.stop()
                if layer == "redis":
                    flush_redis(args.redis_url)
    finally:
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    print(f"\njoin→seen, one uvicorn worker on 127.0.0.1, {database.label}: medians of {args.reps} bursts; "
          "failed, unseen and server errors summed over them")
    print(f"{'layer':7} {'N':>5} {'p50 ms':>8} {'p95 ms':>8} {'failed':>7} {'unseen':>7} {'srv err':>8} "
          f"{'CPU ms/join':>11} {'redis conns':>11}  target")
    for layer, n, runs, connections in rows:
        p50 = statistics.median(percentile(r.latencies, 50) for r in runs) * 1000
        p95 = statistics.median(percentile(r.latencies, 95) for r in runs) * 1000
        failed = sum(len(r.failed) for r in runs)
        cpu = statistics.median(r.cpu_per_join for r in runs) * 1000
        verdict = ""
        if n in TARGETS:
            ok = p95 <= TARGETS[n] * 1000 and failed == 0
            verdict = f"p95 ≤ {TARGETS[n] * 1000:.0f} ms, 0 failed: {'met' if ok else 'MISSED'}"
        unseen, errors = sum(r.unseen for r in runs), sum(r.errors for r in runs)
        print(f"{layer:7} {n:5} {p50:8.1f} {p95:8.1f} {failed:7} {unseen:7} {errors:8} {cpu:11.1f} "
              f"{'' if connections is None else connections:>11}  {verdict}")
    for layer, (per_socket, opened) in memory.items():
        verdict = "met" if per_socket <= IDLE_TARGET else "MISSED"
        print(f"memory per idle waiting socket ({layer}, {opened} sockets): {per_socket / 1024:.1f} KiB "
              f"(target ≤ {IDLE_TARGET // 1024} KiB: {verdict})")


if __name__ == "__main__":
    main()
