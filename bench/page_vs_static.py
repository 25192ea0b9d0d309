"""How much slower is an organisation's published page than a static file on the same server?

Starts the ASGI app with uvicorn on 127.0.0.1 (dev settings, the `make run` database with the demo
loaded), requests each URL in turn, and prints medians and their ratio, all from one run, so a busy
machine slows both sides alike. Run: .venv/bin/python bench/page_vs_static.py [--requests 300]
"""

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "static file (app.css)": ("localhost", "/static/css/app.css"),
    "published page (demo /)": ("demo.localhost", "/"),
    "follow-up page (demo /how-it-works/)": ("demo.localhost", "/how-it-works/"),
    "sign-in page (demo)": ("demo.localhost", "/accounts/login/"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "false", "PYTHONWARNINGS": "ignore"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        samples = {name: [] for name in TARGETS}
        for host, path in TARGETS.values():  # warm-up
            for _ in range(10):
                timed_get(port, host, path)
        for _ in range(args.requests):  # interleaved, so noise hits every target alike
            for name, (host, path) in TARGETS.items():
                samples[name].append(timed_get(port, host, path))
    finally:
        server.terminate()
        server.wait(timeout=10)

    static = statistics.median(samples["static file (app.css)"])
    print(f"{args.requests} requests per URL, one uvicorn worker on 127.0.0.1")
    print(f"{'URL':40} {'median ms':>10} {'p95 ms':>8} {'÷ static':>9}")
    for name, values in samples.items():
        median = statistics.median(values)
        p95 = statistics.quantiles(values, n=20)[-1]
        print(f"{name:40} {median * 1000:10.2f} {p95 * 1000:8.2f} {median / static:9.1f}")


if __name__ == "__main__":
    main()
