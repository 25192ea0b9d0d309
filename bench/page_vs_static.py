"""How much slower is an organisation's published page than a static file on the same server?

Starts the ASGI app with uvicorn on 127.0.0.1 (dev settings, the `make run` database with the demo
loaded), requests each URL in turn, and prints medians and their ratio, all from one run, so a busy
machine slows both sides alike. Run: .venv/bin/python bench/page_vs_static.py [--requests 300]
"""

import argparse
import http.client
import os
import statistics
import tempfile
import time
from pathlib import Path

from waiting_room import Server  # one way to start the server for every bench

TARGETS = {
    "static file (app.css)": ("localhost", "/static/css/app.css"),
    "published page (demo /nl/)": ("demo.localhost", "/nl/"),
    "follow-up page (demo /nl/how-it-works/)": ("demo.localhost", "/nl/how-it-works/"),
    "sign-in page (demo)": ("demo.localhost", "/accounts/login/"),
}


def timed_get(port, host, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    start = time.perf_counter()
    connection.request("GET", path, headers={"Host": f"{host}:{port}"})
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    connection.close()
    if response.status != 200:
        raise SystemExit(f"{host}{path} answered {response.status}; run `make run` once to load the demo")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "false", "PYTHONWARNINGS": "ignore",
           # Every request renders: this compares Django's own work with a static file (bench/pages.py has the cache).
           "PAGE_CACHE": "false"}
    log = Path(tempfile.mkdtemp(prefix="bench-page-vs-static-")) / "server.log"
    server = Server(env, log)
    port = server.port
    try:
        samples = {name: [] for name in TARGETS}
        for host, path in TARGETS.values():  # warm-up
            for _ in range(10):
                timed_get(port, host, path)
        for _ in range(args.requests):  # interleaved, so noise hits every target alike
            for name, (host, path) in TARGETS.items():
                samples[name].append(timed_get(port, host, path))
    finally:
        server.stop()

    static = statistics.median(samples["static file (app.css)"])
    print(f"{args.requests} requests per URL, one uvicorn worker on 127.0.0.1")
    print(f"{'URL':40} {'median ms':>10} {'p95 ms':>8} {'÷ static':>9}")
    for name, values in samples.items():
        median = statistics.median(values)
        p95 = statistics.quantiles(values, n=20)[-1]
        print(f"{name:40} {median * 1000:10.2f} {p95 * 1000:8.2f} {median / static:9.1f}")


if __name__ == "__main__":
    main()
