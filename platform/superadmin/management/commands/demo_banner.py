"""Print the demo URLs and logins (called by `make run`)."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from superadmin.management.commands.load_demo import DEMO_MODULES
from tenants.selectors import comuni_list


class Command(BaseCommand):
    help = "Print the URLs and demo logins of the local demo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"]
        lines = ["", "=" * 72, "Iscrizioni Scolastiche: demo", ""]
        for comune in comuni_list():
            host = comune.domains.order_by("-is_primary", "id").first()
            if host:
                lines.append(f"  {comune.display_name:<40} http://{host.domain}:{port}/")
        lines.append(f"  {'Piattaforma (operatori)':<40} http://localhost:{port}/admin/")
        lines.append("")
        for name in DEMO_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError:
                continue
            if hasattr(module, "banner_lines"):
                lines.extend(module.banner_lines(port=port))
        lines.append("  E-mail (codici, password temporanee): stampate qui e salvate in .data/mail/")
        lines += ["=" * 72, ""]
        self.stdout.write("\n".join(lines))
