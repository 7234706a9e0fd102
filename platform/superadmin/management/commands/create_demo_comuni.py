"""Create N synthetic comuni quickly (benchmarks), or drop them again."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from superadmin.operations import demo_comuni_create, demo_comuni_drop
from tenants.provisioning import template_schema_migrate


class Command(BaseCommand):
    help = "Crea N comuni sintetici (demo0001, …) clonando lo schema modello; --drop li elimina."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=0, help="quanti comuni creare")
        parser.add_argument(
            "--drop", action="store_true", help="elimina tutti i comuni demoNNNN (senza export)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["drop"]:
            self.stdout.write(f"{demo_comuni_drop()} comuni sintetici eliminati.")
            return
        count = options["count"]
        if count < 1:
            raise CommandError("Indica --count N (almeno 1) oppure --drop.")
        template_schema_migrate()
        started = time.perf_counter()
        times = []
        for result in demo_comuni_create(count=count):
            times.append(result.seconds)
            if options["verbosity"] > 1:
                self.stdout.write(f"{result.comune.slug}: {result.seconds:.3f}s")
        total = time.perf_counter() - started
        self.stdout.write(
            f"{count} comuni creati in {total:.1f}s; primo {times[0]:.3f}s, ultimo {times[-1]:.3f}s, "
            f"rapporto ultimo/primo {times[-1] / times[0]:.2f}"
        )
