"""manage.py comune_backup SLUG [--output FILE]: a comune's schema (pg_dump) and files, in a tar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from superadmin.backup import BackupError, comune_backup
from tenants.models import Comune


def comune_by_slug(slug: str) -> Comune:
    comune = Comune.objects.filter(slug=slug).first()
    if comune is None:
        raise CommandError(f"Nessun comune con slug «{slug}».")
    return comune


class Command(BaseCommand):
    help = (
        "Salva lo schema di un comune (pg_dump custom) e i suoi allegati in un file tar, "
        "ripristinabile con comune_restore."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--output", type=Path, help="file da scrivere (predefinito: .data/backup/)")

    def handle(self, *args: Any, **options: Any) -> None:
        comune = comune_by_slug(options["slug"])
        try:
            path = comune_backup(comune=comune, output=options["output"])
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Backup di {comune.display_name} scritto in {path}")
