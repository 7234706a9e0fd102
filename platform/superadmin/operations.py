"""Operations on a whole comune that reach across the apps: apply its config
(record, hosts and catalogue), onboard it with its first administrator,
export its data, offboard it, and the synthetic demo comuni.

They sit here, at the top of the stack, because each one uses several apps
below (tenants for the record and hosts, enrollment for the catalogue and
the staff roles, identity for the administrator's account, the backup tools
for the schema dump); the apps themselves never import this module.
`sync_tenants`, `create_demo_comuni`, the operators' console and the tests
call these functions.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from core.services import audit_record, email_enqueue
from core.tenancy import to_public
from enrollment.backoffice.roles import AMMINISTRATORE, staff_roles_ensure
from enrollment.models import Upload
from enrollment.services import service_catalogue_sync
from enrollment.uploads import CHUNK as UPLOAD_CHUNK
from enrollment.uploads import archive_name, upload_path
from identity.models import Account
from identity.token_links import validity_text
from superadmin.backup import BackupError, schema_dump, uploads_of
from superadmin.links import ADMIN_INVITATION_LINK
from tenants.config import ComuneConfig, ConfigError, config_dump
from tenants.demo_comuni import demo_config, next_demo_number
from tenants.models import Comune
from tenants.services import ApplyResult, ComuneError, comune_config_save, comune_drop, comune_url


def comune_apply_config(*, config: ComuneConfig, by: Any = None) -> ApplyResult:
    """Create or update the comune described by `config`, its hosts and catalogue.

    Idempotent: applying the same config twice changes nothing the second
    time, and it never deletes a comune, a host or a service.
    """
    started = time.perf_counter()
    result = comune_config_save(config=config, by=by)
    with schema_context(result.comune.schema_name):
        result.changes.extend(service_catalogue_sync(services=config.services))
    to_public()
    result.seconds = time.perf_counter() - started
    return result


def comune_config_update(*, comune: Comune, config: ComuneConfig, by: Any = None) -> ApplyResult:
    """Apply an edited config to an existing comune (the console's settings form)."""
    if config.slug != comune.slug:
        raise ConfigError([f"{comune.slug}: slug: lo slug di un comune esistente non si può cambiare"])
    current = set(comune.domains.values_list("domain", flat=True))
    dropped = sorted(current - set(config.hosts))
    if dropped:
        raise ConfigError(
            [f"{comune.slug}: hosts: manca {', '.join(dropped)}: per togliere un host usa «Rimuovi host»"]
        )
    return comune_apply_config(config=config, by=by)


@dataclass
class OnboardResult:
    comune: Comune
    admin: Account
    invitation_url: str
    seconds: float


def _admin_group() -> Group:
    """The back office's "Amministratore comune" role (enrollment/backoffice/roles.py)."""
    return next(g for g in staff_roles_ensure() if g.name == AMMINISTRATORE)


def comune_onboard(
    *,
    config: ComuneConfig,
    admin_email: str,
    admin_first_name: str = "",
    admin_last_name: str = "",
    by: Any = None,
) -> OnboardResult:
    """Create a new comune and its first administrator, invited by e-mail.

    All or nothing: the schema clone, hosts, catalogue, the administrator
    account and the queued invitation commit together.
    """
    started = time.perf_counter()
    validate_email(admin_email)
    to_public()
    if Comune.objects.filter(slug=config.slug).exists():
        raise ConfigError([f"{config.slug}: slug: esiste già un comune con lo slug {config.slug!r}"])
    with transaction.atomic():
        result = comune_apply_config(config=config, by=by)
        comune = result.comune
        with schema_context(comune.schema_name):
            admin = Account.objects.create_user(
                f"amministratore.{comune.slug}",
                kind=Account.Kind.STAFF,
                is_staff=True,
                email=admin_email,
                first_name=admin_first_name,
                last_name=admin_last_name,
            )
            admin.groups.add(_admin_group())
            url = comune_url(comune, ADMIN_INVITATION_LINK.path(admin))
            email_enqueue(
                to=[admin_email],
                subject=f"Invito: amministrazione del portale iscrizioni {comune.display_name_with_article}",
                body=(
                    "Buongiorno,\n\n"
                    "è stato attivato il portale iscrizioni scolastiche "
                    f"{comune.display_name_with_article}.\n"
                    f"Il suo codice utente è: {admin.username}\n\n"
                    f"Per scegliere la password apra questo collegamento (valido una sola volta, "
                    f"scade dopo {validity_text()}):\n{url}\n\n"
                    f"Poi acceda alla gestione da {comune_url(comune, '/admin/')}\n"
                ),
                purpose="invito_amministratore",
            )
        audit_record(
            action="comune.admin_invited",
            actor=by,
            obj=comune,
            message=f"{admin.username} <{admin_email}>",
        )
    to_public()
    return OnboardResult(
        comune=comune, admin=admin, invitation_url=url, seconds=time.perf_counter() - started
    )


def _csv_export(folder: Path) -> list[str]:
    """One CSV per model of the enrollment app, read in the current schema."""
    written = []
    for model in apps.get_app_config("enrollment").get_models():
        fields = [f.attname for f in model._meta.concrete_fields]
        path = folder / f"{model._meta.model_name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(fields)
            writer.writerows(model._default_manager.order_by("pk").values_list(*fields).iterator())
        written.append(path.name)
    return written


UPLOADS_MANIFEST = (
    "file", "id", "riferimento", "domanda", "nome", "tipo", "dimensione", "sha256", "presente",
    "sha256_file",
)  # fmt: skip
# Files in the comune's folder that no upload row names (a form's save that
# rolled back after writing the bytes): comune_backup keeps them, so does the export.
WITHOUT_ROW = "allegati/senza-riga"


def _copy(source: Path, target: Path) -> str | None:
    """Copy a stored file, returning the sha256 of the bytes copied; None when it is gone."""
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with source.open("rb") as src, target.open("xb") as out:
            while chunk := src.read(UPLOAD_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except FileNotFoundError:
        target.unlink(missing_ok=True)
        return None
    return digest.hexdigest()


def _uploads_export(folder: Path, *, schema_name: str) -> list[str]:
    """The comune's uploaded files, copied under allegati/<riferimento>/ (one folder per
    enrollment, `senza-iscrizione` for API uploads no answer names), and `allegati.csv`,
    the manifest that ties each file to its row with the sha256 of the bytes copied.

    The same files as `comune_backup`: every file of `UPLOADS_DIR/<schema>/` and
    nothing else (one no row names goes to `allegati/senza-riga/<id>`)."""
    written = ["allegati.csv"]
    exported: set[str] = set()
    with (folder / "allegati.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(UPLOADS_MANIFEST)
        for upload in Upload.objects.select_related("enrollment").order_by("created_at", "id").iterator():
            name = archive_name(upload)
            copied = _copy(upload_path(upload.id, schema=schema_name), folder / name)
            if copied is not None:
                written.append(name)
                exported.add(str(upload.id))
            reference = upload.enrollment.reference if upload.enrollment is not None else ""
            writer.writerow(
                [name if copied else "", upload.id, reference, upload.question_id, upload.name,
                 upload.content_type, upload.size, upload.sha256, "sì" if copied else "no", copied or ""]
            )  # fmt: skip
        for path in uploads_of(schema_name):
            if path.name in exported:
                continue
            name = f"{WITHOUT_ROW}/{path.name}"
            copied = _copy(path, folder / name)
            if copied is not None:
                written.append(name)
                writer.writerow([name, path.name, "", "", "", "", path.stat().st_size, "", "sì", copied])
    return written


def comune_data_export(*, comune: Comune, by: Any = None) -> Path:
    """Write the comune's data under DATA_DIR/offboard/<slug>-<timestamp>/.

    `schema.sql` is a pg_dump of the whole schema (restorable with psql);
    one CSV per enrollment table is for people; `configurazione.yaml` is the
    comune's config as a tenant file; the uploaded files (the same ones
    `comune_backup` carries) are under `allegati/<riferimento>/`, listed in
    `allegati.csv` with the checksum stored at upload and that of the copy.
    """
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(settings.DATA_DIR) / "offboard" / f"{comune.slug}-{stamp}"
    folder.mkdir(parents=True)
    (folder / "configurazione.yaml").write_text(config_dump(comune.settings), encoding="utf-8")
    try:
        schema_dump(schema_name=comune.schema_name, target=folder / "schema.sql", fmt="plain")
    except BackupError as exc:
        raise ComuneError(exc.message) from exc
    files = ["configurazione.yaml", "schema.sql"]
    with schema_context(comune.schema_name):
        files += _csv_export(folder)
        files += _uploads_export(folder, schema_name=comune.schema_name)
    with schema_context(get_public_schema_name()):
        audit_record(
            action="comune.exported", actor=by, obj=comune, message=str(folder), data={"files": files}
        )
    return folder


def comune_offboard(*, comune: Comune, confirmation: str, by: Any = None) -> Path:
    """Export the comune's data, then drop its schema, hosts and record.

    Irreversible, so it runs only when `confirmation` is exactly the comune's
    slug, and only after the export has been written.
    """
    if confirmation != comune.slug:
        raise ComuneError(
            f"Conferma non valida: per dismettere il comune scrivi esattamente «{comune.slug}»."
        )
    folder = comune_data_export(comune=comune, by=by)
    comune_drop(
        comune=comune,
        action="comune.offboarded",
        by=by,
        message=f"{comune.display_name}: esportazione in {folder}",
        data={"schema": comune.schema_name, "hosts": list(comune.domains.values_list("domain", flat=True))},
    )
    return folder


def demo_comuni_create(*, count: int, by: Any = None) -> Iterator[ApplyResult]:
    """Create `count` new synthetic comuni (tenants/demo_comuni.py), yielding each result as it is done."""
    first = next_demo_number()
    for number in range(first, first + count):
        yield comune_apply_config(config=demo_config(number), by=by)


def demo_comuni_drop(*, by: Any = None, slugs: Collection[str] | None = None) -> int:
    """Drop synthetic benchmark comuni (slug demoNNNN) with their schemas; no export.

    `slugs` limits it to those: a benchmark drops only the comuni it made."""
    dropped = 0
    with schema_context(get_public_schema_name()):
        comuni = Comune.objects.filter(slug__regex=r"^demo[0-9]{4}$")
        if slugs is not None:
            comuni = comuni.filter(slug__in=list(slugs))
        for comune in comuni:
            comune_drop(comune=comune, action="comune.demo_dropped", by=by)
            dropped += 1
    return dropped
