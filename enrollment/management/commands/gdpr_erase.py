"""manage.py gdpr_erase SLUG CODICE --conferma CODICE: erase a family's personal data."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from enrollment.gdpr import GdprError, family_erase
from enrollment.management.commands._family import comune_and_family


class Command(BaseCommand):
    help = (
        "Cancella i dati personali di un genitore e dei suoi alunni (art. 17 GDPR): le domande inviate "
        "restano con dati pseudonimizzati, il resto è eliminato. Irreversibile: serve --conferma "
        "con il codice fiscale del genitore."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("codice", help="codice fiscale del genitore, o codice utente dell'account")
        parser.add_argument("--conferma", default="", help="il codice fiscale del genitore, per conferma")

    def handle(self, *args: Any, **options: Any) -> None:
        comune, guardian = comune_and_family(options["slug"], options["codice"])
        with schema_context(comune.schema_name):
            try:
                counts = family_erase(
                    guardian=guardian, confirmation=options["conferma"], actor_label="comando gdpr_erase"
                )
            except GdprError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(f"Dati cancellati nel {comune.display_name}: {counts}")
