"""Print an operator's current TOTP code (development only, DEBUG on)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from superadmin import totp
from superadmin.models import OperatorSecondFactor


class Command(BaseCommand):
    help = "Stampa il codice TOTP attuale di un operatore (solo in sviluppo, DEBUG attivo)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp funziona solo in sviluppo (DEBUG attivo).")
        factor = OperatorSecondFactor.objects.filter(account__username=options["username"]).first()
        if factor is None:
            raise CommandError(f"L'operatore {options['username']!r} non ha un secondo fattore.")
        remaining = totp.STEP_SECONDS - int(time.time()) % totp.STEP_SECONDS
        self.stdout.write(f"{totp.code_now(factor.secret)}  (valido ancora {remaining} s, una sola volta)")
