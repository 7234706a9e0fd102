"""Onboarding time of the 1st vs the Nth new comune: it must not grow.

Each comune goes through the full onboarding (`superadmin.operations.comune_onboard`:
template schema clone, hosts, catalogue, first administrator, invitation
e-mail queued). The synthetic comuni (demo0001…) are dropped at the end
unless --keep is given.

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

    from superadmin.operations import comune_onboard, demo_comuni_drop
    from tenants.demo_comuni import demo_config, next_demo_number
    from tenants.models import Comune
    from tenants.provisioning import template_schema_migrate

    template_schema_migrate()
    existing = Comune.objects.exclude(schema_name="public").count()
    first = next_demo_number()
    times = []
    started = time.perf_counter()
    for number in range(first, first + args.count):
        if args.fresh_connection:
            connection.close()
        cfg = demo_config(number)
        # django-tenants prints the (faked) migrate of each new schema.
        with contextlib.redirect_stdout(io.StringIO()):
            result = comune_onboard(config=cfg, admin_email=f"amministratore@{cfg.slug}.example")
        times.append(result.seconds)
    total = time.perf_counter() - started
    head, tail = statistics.median(times[:5]), statistics.median(times[-5:])
    print(f"comuni before the batch: {existing}; onboarded: {args.count} in {total:.1f} s")
    print(f"CPUs: {os.cpu_count()}")
    print(f"1st comune:  {times[0]:.3f} s")
    print(f"last comune: {times[-1]:.3f} s")
    print(f"ratio last/1st: {times[-1] / times[0]:.2f}")
    print("every 10th: " + " ".join(f"{t:.2f}" for t in times[::10]))
    print(f"median of first 5: {head:.3f} s, of last 5: {tail:.3f} s, ratio {tail / head:.2f}")
    if not args.keep:
        # A connection that created many schemas carries their catalog
        # entries; dropping from a fresh one is much faster.
        connection.close()
        dropped = demo_comuni_drop()
        # The invitations queued for the dropped comuni would fail in the worker.
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM procrastinate_jobs "
                "WHERE status = 'todo' AND args->>'schema_name' ~ '^demo[0-9]{4}$'"
            )
        print(f"dropped {dropped} synthetic comuni")


if __name__ == "__main__":
    main()
