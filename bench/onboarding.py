"""Onboarding time of the 1st vs the Nth new comune: it must not grow.

Each comune goes through the full onboarding (`superadmin.operations.comune_onboard`:
template schema clone, hosts, catalogue, first administrator, invitation
e-mail queued). The synthetic comuni this run created (the next free
demoNNNN numbers) are dropped at the end unless --keep is given; demo comuni
made before the run, by another run or `create_demo_comuni`, are left alone.

    DATABASE_URL=postgres://… .venv/bin/python bench/onboarding.py --count 100
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

print = functools.partial(print, flush=True)
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the synthetic comuni")
    parser.add_argument(
        "--fresh-connection",
        action="store_true",
        help="reconnect before each comune, as separate web requests would",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the PostgreSQL to benchmark against.")

    import django

    django.setup()
    from django.db import connection

    from superadmin.operations import comune_onboard
    from tenants.demo_comuni import demo_config, next_demo_number
    from tenants.models import Comune
    from tenants.provisioning import template_schema_migrate

    template_schema_migrate()
    existing = Comune.objects.exclude(schema_name="public").count()
    first = next_demo_number()
    times: list[float] = []
    created: list[Comune] = []
    started = time.perf_counter()
    try:
        for number in range(first, first + args.count):
            if args.fresh_connection:
                connection.close()
            cfg = demo_config(number)
            # django-tenants prints the (faked) migrate of each new schema.
            with contextlib.redirect_stdout(io.StringIO()):
                result = comune_onboard(config=cfg, admin_email=f"amministratore@{cfg.slug}.example")
            created.append(result.comune)
            times.append(result.seconds)
        report(times, existing=existing, total=time.perf_counter() - started)
    finally:
        # Also after a failure half-way: what this run made, and nothing else.
        if not args.keep:
            print(f"dropped the {created_drop(created)} synthetic comuni this run created")


def report(times: list[float], *, existing: int, total: float) -> None:
    head, tail = statistics.median(times[:5]), statistics.median(times[-5:])
    print(f"comuni before the batch: {existing}; onboarded: {len(times)} in {total:.1f} s")
    print(f"CPUs: {os.cpu_count()}")
    print(f"1st comune:  {times[0]:.3f} s")
    print(f"last comune: {times[-1]:.3f} s")
    print(f"ratio last/1st: {times[-1] / times[0]:.2f}")
    print("every 10th: " + " ".join(f"{t:.2f}" for t in times[::10]))
    print(f"median of first 5: {head:.3f} s, of last 5: {tail:.3f} s, ratio {tail / head:.2f}")


def created_drop(created: list[Any]) -> int:
    """Drop the comuni of this run, and their queued jobs; demo comuni made before stay."""
    from django.db import connection

    from superadmin.operations import demo_comuni_drop

    if not created:
        return 0
    # A connection that created many schemas carries their catalog entries;
    # dropping from a fresh one is much faster.
    connection.close()
    dropped = demo_comuni_drop(slugs=[c.slug for c in created])
    # The invitations queued for the dropped comuni would fail in the worker.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE status = 'todo' AND args->>'schema_name' = ANY(%s)",
            [[c.schema_name for c in created]],
        )
    return dropped


if __name__ == "__main__":
    main()
