"""Apply `tenant_configs/*.yaml` (or the files given) idempotently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from superadmin.operations import comune_apply_config, comune_onboard
from tenants.config import ConfigError, config_load_files
from tenants.models import Comune
from tenants.provisioning import template_schema_migrate


class Command(BaseCommand):
    help = "Validate and apply comune configs (YAML). Never deletes data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", help="YAML files (default: tenant_configs/*.yaml)")
        parser.add_argument("--check", action="store_true", help="validate only, write nothing")
        parser.add_argument(
            "--admin-email",
            help="for comuni that do not exist yet: also create their first administrator, invited by e-mail",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths = [Path(f) for f in options["files"]] or sorted(Path(settings.TENANT_CONFIG_DIR).glob("*.yaml"))
        if not paths:
            raise CommandError(f"Nessun file di configurazione (*.yaml) in {settings.TENANT_CONFIG_DIR}")
        try:
            configs = config_load_files(paths)
        except ConfigError as exc:
            raise CommandError(
                "Configurazione non valida, non è stato scritto nulla:\n  " + "\n  ".join(exc.problems)
            ) from exc
        if options["check"]:
            self.stdout.write(f"{len(configs)} config(s) valid.")
            return
        template_schema_migrate()
        for path, cfg in configs:
            try:
                if options["admin_email"] and not Comune.objects.filter(slug=cfg.slug).exists():
                    onboarded = comune_onboard(config=cfg, admin_email=options["admin_email"])
                    self.stdout.write(
                        f"{cfg.slug}: created in {onboarded.seconds:.2f}s; "
                        f"{onboarded.admin.username} invited at {onboarded.admin.email}"
                    )
                    continue
                result = comune_apply_config(config=cfg)
            except ConfigError as exc:
                raise CommandError(f"{path.name}: " + "; ".join(exc.problems)) from exc
            except ValidationError as exc:
                raise CommandError(f"--admin-email: {'; '.join(exc.messages)}") from exc
            if result.created:
                self.stdout.write(f"{cfg.slug}: created in {result.seconds:.2f}s")
            elif result.changes:
                self.stdout.write(f"{cfg.slug}: updated ({', '.join(result.changes)})")
            else:
                self.stdout.write(f"{cfg.slug}: unchanged")
