"""In-process time of a comune's portal home against the platform's public page.

Each round times, interleaved, the comune home with its caches warm, the same
home with the per-process caches emptied before every request (what each
request cost before they existed: the config validated again, the catalogue
queried, every fragment rendered), and the public page of the base host. The
figures are medians over the rounds; the ratios are taken within the run, so
a loaded machine moves them less than the milliseconds.

    DATABASE_URL=postgres://… .venv/bin/python bench/home.py [--host palosco.localhost]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

print = functools.partial(print, flush=True)
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
# As in production: no debug pages, no query log kept in memory.
os.environ.setdefault("DEBUG", "0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="palosco.localhost", help="the comune's portal host")
    parser.add_argument("--public-host", default="localhost")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=40, help="requests per mode and round")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the PostgreSQL to benchmark against.")

    import django

    django.setup()
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from enrollment.selectors import LOCAL_CACHE
    from tenants import config

    client = Client()

    def get(host: str) -> None:
        response = client.get("/", HTTP_HOST=host)
        if response.status_code != 200:
            sys.exit(f"GET http://{host}/ answered {response.status_code}")

    def caches_emptied() -> None:
        caches[LOCAL_CACHE].clear()
        with config._stored_lock:
            config._stored.clear()

    def timed(before: Callable[[], None] | None, host: str) -> float:
        total = 0.0
        for _ in range(args.requests):
            if before is not None:
                before()
            started = time.perf_counter()
            get(host)
            total += time.perf_counter() - started
        return total / args.requests * 1000

    modes: dict[str, tuple[Callable[[], None] | None, str]] = {
        "home, caches warm": (None, args.host),
        "home, caches emptied": (caches_emptied, args.host),
        "public page": (None, args.public_host),
    }
    for _, host in modes.values():
        for _ in range(20):
            get(host)
    queries = {}
    for name, (before, host) in modes.items():
        if before is not None:
            before()
        with CaptureQueriesContext(connection) as captured:
            get(host)
        queries[name] = len(captured)
    samples: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(args.rounds):
        for name, (before, host) in modes.items():
            samples[name].append(timed(before, host))
    median = {name: statistics.median(values) for name, values in samples.items()}
    warm, cold, public = median["home, caches warm"], median["home, caches emptied"], median["public page"]
    load = os.getloadavg()
    print(f"CPUs: {os.cpu_count()}; load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{args.rounds} rounds x {args.requests} requests per mode, interleaved; median ms per request")
    for name, value in median.items():
        print(f"  {name:<22} {value:6.2f} ms  ({queries[name]} queries)")
    print(f"home warm / public page:    {warm / public:.2f}")
    print(f"home emptied / public page: {cold / public:.2f}")
    print(f"home emptied / home warm:   {cold / warm:.2f}")


if __name__ == "__main__":
    main()
