"""In-process cost of one API submission ("Invia Iscrizione"), against a GET of the same form.

bench/burst.py's scratch comune and parents (a draft and an API token each),
on the production profile, through Django's test client: the whole
middleware stack, DRF and the submission's statements, without nginx or
gunicorn. For each parent, interleaved: GET of the form (the baseline: the
same token, throttles and tenant lookup) and then its submission. Prints the
CPU time (this process only: PostgreSQL's is its own) and the wall time per
request, medians over the parents, with the ratio of submission to GET, and
the statements each made. `--profile [GET]` prints cProfile's top functions
of the submissions (or of the GETs). Drops the scratch comune at the end.

    DATABASE_URL=postgres://… .venv/bin/python bench/submit.py [--parents 300]
        [--profile [GET]] [--sort tottime] [--statements]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import pstats
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

print = functools.partial(print, flush=True)
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.prod"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("BASE_DOMAIN", "localhost")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # one JSON line per request would be timed too


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parents", type=int, default=300)
    parser.add_argument(
        "--profile", nargs="?", const="submit", choices=("submit", "GET"), help="cProfile these requests"
    )
    parser.add_argument("--sort", default="cumulative", help="cProfile's order (cumulative, tottime)")
    parser.add_argument("--statements", action="store_true", help="print the statements each one made")
    args = parser.parse_args()

    from bench import burst  # its scratch comune and parents

    burst.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tenants.models import Comune

    comune = burst.scratch_comune()
    try:
        items = burst.families(comune, first=0, count=args.parents, capacity=args.parents // 2)
        connection.close()  # the requests open their own, as a worker's first request does
        client = Client()
        headers: dict[str, Any] = {"HTTP_HOST": burst.HOST, "HTTP_ACCEPT": "application/json", "secure": True}
        profile = cProfile.Profile() if args.profile else None
        timings: dict[str, list[tuple[float, float]]] = {"GET": [], "submit": []}
        statements: dict[str, int] = {}

        def call(label: str, path: str, token: str, tag: str) -> Any:  # the test client's response
            auth = f"Bearer {token}"
            if label == "GET":
                return client.get(path.removesuffix("submit/"), HTTP_AUTHORIZATION=auth, **headers)
            return client.post(path, HTTP_AUTHORIZATION=auth, HTTP_IF_MATCH=tag, **headers)

        for n, item in enumerate(items):
            for label in ("GET", "submit"):
                if n == 10:  # warm by now: count one request's statements, untimed
                    with CaptureQueriesContext(connection) as queries:
                        call(label, *item)
                    statements[label] = len(queries.captured_queries)
                    if args.statements:
                        print(f"{label}'s statements:")
                        for q in queries.captured_queries:
                            print(f"  {q['time']:>6} s  {q['sql'][:200]}")
                    continue
                if profile is not None and label == args.profile:
                    profile.enable()
                cpu, wall = time.process_time(), time.perf_counter()
                response = call(label, *item)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                if profile is not None and label == args.profile:
                    profile.disable()
                assert response.status_code == 200, (label, response.status_code, response.content[:300])
                if n > 10:  # the first ones warm this process's caches and connection
                    timings[label].append((cpu, wall))
        medians = {
            label: (statistics.median(c for c, _ in t), statistics.median(w for _, w in t))
            for label, t in timings.items()
        }
        for label, (cpu, wall) in medians.items():
            print(
                f"{label:>6}: CPU {1000 * cpu:.2f} ms, wall {1000 * wall:.2f} ms "
                f"(medians over {len(timings[label])}), {statements[label]} statements"
            )
        print(
            f"submit / GET: CPU {medians['submit'][0] / medians['GET'][0]:.2f}x, "
            f"wall {medians['submit'][1] / medians['GET'][1]:.2f}x"
        )
        if profile is not None:
            pstats.Stats(profile).sort_stats(args.sort).print_stats(40)
    finally:
        connection.close()
        burst.cleanup(Comune.objects.get(pk=comune.pk))


if __name__ == "__main__":
    main()
