"""manage.py uploads_sweep [SLUG] [--ore N]: remove API uploads no enrollment named in time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from enrollment.uploads import uploads_unattached_sweep
from tenants import selectors as tenant_selectors


class Command(BaseCommand):
    help = (
        "Rimuove gli allegati caricati dall'API e mai collegati a una domanda, più vecchi di "
        "--ore ore (predefinito: UPLOADS_UNATTACHED_MAX_HOURS), di un comune o di tutti."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", help="il comune (predefinito: tutti)")
        parser.add_argument("--ore", type=int, default=None, help="età minima in ore degli allegati")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["ore"] if options["ore"] is not None else settings.UPLOADS_UNATTACHED_MAX_HOURS
        if hours < 1:
            raise CommandError(f"--ore deve essere almeno 1 (indicato: {hours}).")
        comuni = tenant_selectors.comuni().order_by("slug")
        if options["slug"]:
            comuni = comuni.filter(slug=options["slug"])
            if not comuni.exists():
                raise CommandError(f"Nessun comune con slug «{options['slug']}».")
        for comune in comuni:
            with schema_context(comune.schema_name):
                count = uploads_unattached_sweep(older_than=timedelta(hours=hours))
            self.stdout.write(f"{comune.display_name}: {count} allegati non collegati rimossi")
