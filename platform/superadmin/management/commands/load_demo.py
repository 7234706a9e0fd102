"""Demo data for `make run`: accounts and records to try every flow.

Each app that has demo data provides a `demo` module with `load_public()`
and/or `load_comune(comune)`; both must be idempotent.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from tenants.selectors import comuni_list

DEMO_MODULES = [
    "identity.demo",
    "enrollment.demo",
    "enrollment.backoffice.demo",
    "identity.spid.demo",
    "superadmin.demo",
    "api.demo",
]


class Command(BaseCommand):
    help = "Load idempotent demo data into the public schema and every comune."

    def handle(self, *args: Any, **options: Any) -> None:
        modules = []
        for name in DEMO_MODULES:
            try:
                modules.append(importlib.import_module(name))
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
        for module in modules:
            if hasattr(module, "load_public"):
                module.load_public()
        for comune in comuni_list():
            with schema_context(comune.schema_name):
                for module in modules:
                    if hasattr(module, "load_comune"):
                        module.load_comune(comune)
        self.stdout.write("Demo data loaded.")
