"""Migrate the public schema, the template schema and every comune's schema."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tenants.provisioning import platform_migrate


class Command(BaseCommand):
    help = "Migrate public, template and all comune schemas."

    def handle(self, *args: Any, **options: Any) -> None:
        platform_migrate(verbosity=max(0, options["verbosity"] - 1))
        self.stdout.write("Schemas migrated.")
