"""manage.py comune_restore SLUG FILE --yes: replace one comune's schema and files with its backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from superadmin.backup import BackupError, comune_restore
from superadmin.management.commands.comune_backup import comune_by_slug


class Command(BaseCommand):
    help = (
        "Ripristina lo schema e gli allegati di un comune da un file di comune_backup. Sostituisce "
        "tutti i dati attuali del comune (gli altri comuni non vengono toccati): serve --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="conferma la sostituzione dei dati")

    def handle(self, *args: Any, **options: Any) -> None:
        comune = comune_by_slug(options["slug"])
        try:
            comune_restore(comune=comune, archive=options["file"], confirmed=options["yes"])
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{comune.display_name} ripristinato da {options['file']}")
