# ruff: noqa: S603 (runs manage.py with fixed arguments, no shell)
"""The release step's migrate over many comuni: no-op, and with a few schemas behind.

Creates --count synthetic comuni (the next free demoNNNN numbers, through the
same code as `create_demo_comuni`; 0 to use only the comuni already there).
Then, in one run:

- the baseline: django-tenants' `migrate_schemas` on --sample up-to-date
  schemas, one by one as it migrates every schema, and that time per schema
  multiplied by the number of schemas (what a no-op release cost before);
- `manage.py migrate_platform` as the release step runs it (a new process,
  its start included) with nothing to migrate;
- the same after forgetting one recorded migration in --behind of the comuni
  this run created: they must be reported as migrated, and only they.

    DATABASE_URL=postgres://… .venv/bin/python bench/migrate_noop.py --count 1000
    DATABASE_URL=postgres://… .venv/bin/python bench/migrate_noop.py --count 5   # 1,000 already there

At the end the comuni this run created are dropped (unless --keep); comuni
made before, by anyone, are left alone.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import subprocess
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
    parser.add_argument("--count", type=int, default=100, help="synthetic comuni to create")
    parser.add_argument("--sample", type=int, default=8, help="schemas migrated the old way")
    parser.add_argument("--behind", type=int, default=5, help="created comuni put one migration behind")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic comuni")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the PostgreSQL to benchmark against.")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from bench.onboarding import created_drop
    from superadmin.operations import demo_comuni_create
    from tenants.models import Comune
    from tenants.provisioning import migrations_missing, template_schema_migrate

    created: list[Any] = []
    try:
        template_schema_migrate()
        if args.count:
            started = time.perf_counter()
            created = [r.comune for r in demo_comuni_create(count=args.count)]
            print(f"created {len(created)} synthetic comuni in {time.perf_counter() - started:.1f} s")
        connection.close()
        schemas = sorted(Comune.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
        missing = migrations_missing(schemas)
        up_to_date = [s for s in schemas if not missing[s]]
        print(f"comuni: {len(schemas)} ({len(up_to_date)} up to date); CPUs: {os.cpu_count()}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

        sample = up_to_date[:: max(1, len(up_to_date) // args.sample)][: args.sample]
        started = time.perf_counter()
        for schema in sample:
            with contextlib.redirect_stdout(io.StringIO()):
                call_command(
                    "migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0
                )
        per_schema = (time.perf_counter() - started) / len(sample)
        connection.close()
        baseline = per_schema * (len(schemas) + 1)  # the template too
        print(f"baseline, migrate_schemas per schema: {per_schema:.3f} s -> {baseline:.0f} s for all")

        noop, out = release_step()
        print(f"migrate_platform, nothing behind: {noop:.1f} s  ({out})")
        print(f"ratio baseline / migrate_platform: {baseline / noop:.1f}")

        behind = sorted(c.schema_name for c in created[: args.behind])
        # The latest migration of a shared app: in a comune's schema it is only recorded.
        leaf = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("tenants")[0]
        if behind:
            with connection.cursor() as cursor:
                for schema in behind:
                    cursor.execute(
                        f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s',  # noqa: S608
                        list(leaf),
                    )
            seconds, out = release_step()
            reported = out.split(": ", 1)[1].split(" | ")[0].split(", ") if "migrati" in out else []
            print(f"migrate_platform, {len(behind)} behind: {seconds:.1f} s  ({out})")
            print(f"reported exactly the schemas behind: {sorted(reported) == behind}")
            assert not any(migrations_missing(behind).values()), "a schema is still behind"
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if created and not args.keep:
            print(f"dropped the {created_drop(created)} synthetic comuni this run created")


def release_step() -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate_platform"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(("Schemi", "Nessuno"))]
    return time.perf_counter() - started, " | ".join(lines)


if __name__ == "__main__":
    main()
