"""Migrate the public schema, the template schema and every comune's schema that is behind."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tenants.provisioning import platform_migrate


class Command(BaseCommand):
    help = (
        "Migra lo schema pubblico, lo schema modello e gli schemi dei comuni rimasti indietro "
        "(gli altri non vengono toccati)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = platform_migrate(verbosity=max(0, options["verbosity"] - 1))
        if report.migrated:
            self.stdout.write(f"Schemi migrati ({len(report.migrated)}): {', '.join(report.migrated)}")
        else:
            self.stdout.write("Nessuno schema da migrare.")
        self.stdout.write(f"Schemi già aggiornati: {report.up_to_date}. Tempo: {report.seconds:.1f} s.")
