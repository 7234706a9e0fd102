"""manage.py gdpr_export SLUG CODICE [--output DIR]: a family's data as JSON and PDF, and a ZIP
with both and the family's uploaded files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import schema_context

from enrollment.gdpr import family_export
from enrollment.management.commands._family import comune_and_family


class Command(BaseCommand):
    help = (
        "Esporta tutti i dati personali di un genitore e dei suoi alunni (JSON, PDF e ZIP con gli allegati)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("codice", help="codice fiscale del genitore, o codice utente dell'account")
        parser.add_argument("--output", type=Path, default=Path("."), help="cartella dove scrivere i file")

    def handle(self, *args: Any, **options: Any) -> None:
        comune, guardian = comune_and_family(options["slug"], options["codice"])
        with schema_context(comune.schema_name):
            export = family_export(guardian=guardian, actor_label="comando gdpr_export")
        folder: Path = options["output"]
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"dati-personali-{comune.slug}-{guardian.pk}"
        (folder / f"{stem}.json").write_bytes(export.json)
        (folder / f"{stem}.pdf").write_bytes(export.pdf)
        # The same two files plus the family's uploads, as the back office hands them over.
        (folder / f"{stem}.zip").write_bytes(export.archive())
        count = len(export.files)
        self.stdout.write(f"Dati scritti in {folder / stem}.json, .pdf e .zip (con {count} allegati)")
