"""The demo organisation's published main page against a static file of the same size, page cache on and off.

Starts config.asgi:application with uvicorn (one worker, as bench/waiting_room.py does) on 127.0.0.1 with
dev settings and DEBUG off, on the `make run` database with the demo loaded (or, with --fresh, a throwaway
database it migrates and fills with `manage.py demo`). For each server (PAGE_CACHE=true, then false) it
measures requests/s of the main page (the address `/` redirects to, e.g. /nl/) and of the static file
closest in size to that page, in alternating rounds, and prints medians and the page ÷ static ratio; all
in one run, so a busy machine slows both sides alike. It also counts the SQL queries of an uncached page
view in-process (Django's test client and CaptureQueriesContext, after one warm-up view).

Load: `wrk` (Debian package `wrk`) with --connections keep-alive connections from one thread; without it,
a Python client with one thread per connection (which saturates sooner: the numbers are then lower bounds).

Targets (issue #5): ≤ 15 queries per uncached page; cached page ≥ 0.8 × the static file.

Run: .venv/bin/python bench/pages.py [--rounds 5] [--seconds 3] [--connections 8] [--fresh]
"""

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from waiting_room import Database, Server, setup_django

HOST = "demo.localhost"
QUERY_TARGET = 15
RATIO_TARGET = 0.8


# --- in-process: the page, its size, its queries -----------------------------------------------

def page_facts():
    """(main page path, follow-up path or None, body bytes, queries per uncached view of each)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    root = client.get("/")
    if root.status_code != 302:
        raise SystemExit(f"{HOST}/ answered {root.status_code}; load the demo (`make demo`) or pass --fresh")
    path = root["Location"]
    first = client.get(path)
    if first.status_code != 200:
        raise SystemExit(f"{HOST}{path} answered {first.status_code}")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(path)
    follow_up = _first_follow_up(page.content.decode(), path)
    follow_up_queries = None
    if follow_up:
        client.get(follow_up)
        with CaptureQueriesContext(connection) as captured:
            client.get(follow_up)
        follow_up_queries = len(captured)
    return path, follow_up, len(page.content), len(queries), follow_up_queries, [q["sql"] for q in queries]


def _first_follow_up(html, path):
    match = re.search(rf'href="({re.escape(path)}[a-z0-9-]+/)"', html)
    return match.group(1) if match else None


def static_file_like(size):
    """The static file (through the finders, as the dev server serves them) closest to `size` bytes."""
    from django.contrib.staticfiles import finders

    best = None
    for finder in finders.get_finders():
        for name, storage in finder.list(["*.map", "*.wasm", "*.tflite", "*.binarypb", "*.data"]):
            if not name.endswith((".css", ".js", ".svg", ".html", ".txt")):
                continue
            file_size = storage.size(name)
            candidate = (abs(file_size - size), name.replace(os.sep, "/"), file_size)
            if best is None or candidate < best:
                best = candidate
    if best is None:
        raise SystemExit("no static file found")
    return f"/static/{best[1]}", best[2]


# --- load ---------------------------------------------------------------------------------------

def wrk_rps(port, path, seconds, connections):
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-H", f"Host: {HOST}:{port}",
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    )
    if "Non-2xx" in result.stdout or "Socket errors" in result.stdout:
        raise SystemExit(f"errors while loading {path}:\n{result.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))


def python_rps(port, path, seconds, connections):
    import http.client

    counts = [0] * connections
    deadline = time.monotonic() + seconds

    def worker(i):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < deadline:
            connection.request("GET", path, headers={"Host": f"{HOST}:{port}"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
            counts[i] += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - start)


def measure(server, paths, rounds, seconds, connections, load):
    for path in paths.values():  # warm-up: the first view renders, fills the cache, opens connections
        load(server.port, path, 1, connections)
    samples = {name: [] for name in paths}
    for _ in range(rounds):  # alternating, so noise hits both sides alike
        for name, path in paths.items():
            samples[name].append(load(server.port, path, seconds, connections))
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per URL (medians printed)")
    parser.add_argument("--seconds", type=int, default=3, help="length of one round")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--fresh", action="store_true", help="a throwaway database with the demo, not `make run`'s")
    args = parser.parse_args()
    load = wrk_rps if shutil.which("wrk") else python_rps

    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "false", "PYTHONWARNINGS": "ignore"}
    env.pop("REDIS_URL", None)  # one process: the local-memory cache, as `make run`
    database = None
    if args.fresh:
        database = Database(workdir)
        env.update({"DATABASE_URL": database.url, "SECRET_KEY": secrets.token_urlsafe(50),
                    "MEDIA_ROOT": str(workdir / "media"), "EMAIL_URL": ""})
    try:
        setup_django(env)
        if args.fresh:
            from django.core.management import call_command

            print("loading the demo into a throwaway database …", file=sys.stderr)
            call_command("demo", verbosity=0)
        path, follow_up, size, queries, follow_up_queries, sql = page_facts()
        static, static_size = static_file_like(size)
        paths = {"static": static, "page": path}
        results = {}
        for cache in ("on", "off"):
            server_env = {**env, "PAGE_CACHE": "true" if cache == "on" else "false"}
            server = Server(server_env, workdir / f"server-cache-{cache}.log")
            try:
                results[cache] = measure(server, paths, args.rounds, args.seconds, args.connections, load)
            finally:
                server.stop()
            errors = (workdir / f"server-cache-{cache}.log").read_text().count("Traceback")
            if errors:
                print(f"  the server (cache {cache}) logged {errors} tracebacks: {workdir}", file=sys.stderr)
    finally:
        if database is not None:
            database.drop()

    print(f"{HOST}{path} ({size} bytes) against {static} ({static_size} bytes); one uvicorn worker on 127.0.0.1, "
          f"{'wrk' if load is wrk_rps else 'Python client'} with {args.connections} connections, "
          f"medians of {args.rounds} rounds of {args.seconds} s")
    print(f"{'page cache':10} {'page req/s':>11} {'static req/s':>13} {'page ÷ static':>14}  target")
    for cache, samples in results.items():
        ratios = [p / s for p, s in zip(samples["page"], samples["static"], strict=True)]
        ratio = statistics.median(ratios)
        target = f"≥ {RATIO_TARGET} {'met' if ratio >= RATIO_TARGET else 'MISSED'}" if cache == "on" else ""
        print(f"{cache:10} {statistics.median(samples['page']):11.0f} {statistics.median(samples['static']):13.0f} "
              f"{ratio:14.2f}  {target}")
    print(f"SQL queries per uncached view: main page {queries}"
          + (f", follow-up page {follow_up_queries} ({follow_up})" if follow_up else "")
          + f"; target ≤ {QUERY_TARGET} {'met' if queries <= QUERY_TARGET else 'MISSED'}")
    if os.environ.get("BENCH_SHOW_SQL"):
        print("\n".join(sql))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
