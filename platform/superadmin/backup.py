"""Dumps and restores of one comune's schema with PostgreSQL's own tools.

`pg_dump` refuses a server newer than itself, and the machine's tools (15)
may not match the server (the embedded one is 16). `pg_tools` chooses, once
per server version, the directory whose tools fit: the system's when they
are the server's own version, else the `pgserver` wheel's (16, which also
dumps older servers). The console's «Esporta», `comune_backup` and
`comune_restore` all go through it.

A restore replaces the schema in one transaction: psql renames the current
schema aside, replays the archive (which recreates the schema under its own
name) and drops the renamed one; any error rolls the whole swap back.

`comune_backup` writes one tar: the schema's dump and the comune's uploaded
files (`UPLOADS_DIR/<schema>`, nothing else; `uploads_of` lists them, and
the console's «Esporta» and the offboarding export copy the same files). `comune_restore` checks every
member, stages the files next to the comune's folder, restores the schema,
and only then swaps the folders: a failed restore leaves files and schema
as they were. A backup older than the code is then migrated to it.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context
from psycopg.conninfo import make_conninfo

from core.services import audit_record
from tenants.models import Comune
from tenants.provisioning import schemas_migrate_behind
from tenants.services import comune_catalogue_changed

TOOL_TIMEOUT = 3600
VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)")
SCHEMA_ENTRY_RE = re.compile(r"^\d+;\s+\d+\s+\d+\s+SCHEMA\s+-\s+(\S+)\s", re.MULTILINE)
# A backup tar: the schema's pg_dump and the comune's uploads (enrollment.uploads), by id.
DUMP_MEMBER = "schema.dump"
UPLOADS_MEMBER = "allegati"
UPLOAD_NAME_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class BackupError(Exception):
    """A dump or restore that cannot be done; `message` is for the operator (Italian)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class PgTools:
    bin_dir: Path
    version: int

    def path(self, name: str) -> str:
        return str(self.bin_dir / name)


def _database(database: dict[str, Any] | None) -> dict[str, Any]:
    return database if database is not None else settings.DATABASES["default"]


def _conninfo(db: dict[str, Any]) -> dict[str, str]:
    """libpq parameters of a Django database; the embedded server's socket is in OPTIONS."""
    params = {
        "dbname": db["NAME"],
        "host": db.get("HOST") or db.get("OPTIONS", {}).get("host") or "",
        "port": str(db.get("PORT") or ""),
        "user": db.get("USER") or "",
        "password": str(db.get("PASSWORD") or ""),
    }
    return {k: v for k, v in params.items() if v}


def _env(db: dict[str, Any]) -> dict[str, str]:
    # Tools read the connection from libpq's variables: no password on a command line.
    names = {
        "dbname": "PGDATABASE",
        "host": "PGHOST",
        "port": "PGPORT",
        "user": "PGUSER",
        "password": "PGPASSWORD",
    }
    return {**os.environ, **{names[k]: v for k, v in _conninfo(db).items()}}


def server_version(database: dict[str, Any] | None = None) -> int:
    """Major version of the server (e.g. 16)."""
    with psycopg.connect(make_conninfo(**_conninfo(_database(database)))) as conn:
        return conn.info.server_version // 10000


@functools.cache
def _tool_version(pg_dump: str) -> int | None:
    try:
        done = subprocess.run(  # noqa: S603 (a fixed executable path)
            [pg_dump, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    match = VERSION_RE.search(done.stdout)
    return int(match.group(1)) if match else None


def _candidates() -> list[Path]:
    dirs = []
    system = shutil.which("pg_dump")
    if system:
        dirs.append(Path(system).parent)
    # Debian installs each major version side by side.
    dirs.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin")))
    try:
        import pgserver  # imported lazily: production may run without the wheel
    except ImportError:
        pass
    else:
        dirs.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    return dirs


def pg_tools_for(version: int) -> PgTools:
    """The tools to use with a server of major `version`: its own, else the newest newer ones."""
    found = [
        PgTools(bin_dir=d, version=v)
        for d in _candidates()
        if (d / "pg_dump").exists() and (v := _tool_version(str(d / "pg_dump"))) is not None
    ]
    same = [t for t in found if t.version == version]
    newer = sorted((t for t in found if t.version > version), key=lambda t: -t.version)
    chosen = same or newer
    if not chosen:
        have = ", ".join(f"{t.version} ({t.bin_dir})" for t in found) or "nessuno"
        raise BackupError(
            f"Nessun pg_dump adatto al server PostgreSQL {version}: servono gli strumenti della "
            f"versione {version} o successiva (trovati: {have})."
        )
    return chosen[0]


def pg_tools(database: dict[str, Any] | None = None) -> PgTools:
    return pg_tools_for(server_version(database))


def _run(args: list[str], *, db: dict[str, Any], what: str, stdin: bytes | None = None) -> str:
    try:
        done = subprocess.run(  # noqa: S603 (tool paths chosen by pg_tools, no shell)
            args, input=stdin, env=_env(db), capture_output=True, timeout=TOOL_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupError(f"{what} non riuscita: {exc}") from exc
    if done.returncode != 0:
        raise BackupError(f"{what} non riuscita: {done.stderr.decode(errors='replace').strip()[:300]}")
    return done.stdout.decode(errors="replace")


def schema_dump(
    *, schema_name: str, target: Path, fmt: str = "custom", database: dict[str, Any] | None = None
) -> None:
    """pg_dump of one schema: `custom` for pg_restore, `plain` for psql and people."""
    db = _database(database)
    tools = pg_tools(db)
    _run(
        [
            tools.path("pg_dump"),
            f"--schema={schema_name}",
            "--no-owner",
            "--no-privileges",
            f"--format={fmt}",
            f"--file={target}",
        ],
        db=db,
        what="Esportazione dello schema (pg_dump)",
    )


def archive_schemas(*, archive: Path, database: dict[str, Any] | None = None) -> list[str]:
    """Names of the schemas a custom-format archive creates."""
    db = _database(database)
    listing = _run(
        [pg_tools(db).path("pg_restore"), "--list", str(archive)], db=db, what="Lettura del file di backup"
    )
    return SCHEMA_ENTRY_RE.findall(listing)


def schema_restore(*, schema_name: str, archive: Path, database: dict[str, Any] | None = None) -> None:
    """Replace `schema_name` with the archive's copy, all or nothing."""
    db = _database(database)
    tools = pg_tools(db)
    script = _run(
        [tools.path("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(archive)],
        db=db,
        what="Lettura del file di backup",
    )
    aside = f"{schema_name}_ripristino_{timezone.now():%Y%m%d%H%M%S}"
    prologue = f'SET lock_timeout = \'30s\';\nALTER SCHEMA "{schema_name}" RENAME TO "{aside}";\n'
    epilogue = f'\nDROP SCHEMA "{aside}" CASCADE;\n'
    _run(
        [
            tools.path("psql"),
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            "--file=-",
        ],
        db=db,
        what="Ripristino dello schema (psql)",
        stdin=(prologue + script + epilogue).encode(),
    )


def _audit_public(*, action: str, comune: Comune, path: Path, by: Any) -> None:
    """Backups are the operators' business: their entries go to the public audit trail."""
    with schema_context(get_public_schema_name()):
        audit_record(
            action=action, actor=by, obj=comune, message=str(path), actor_label="" if by else "comando"
        )


def _uploads_dir(schema_name: str) -> Path:
    return Path(settings.UPLOADS_DIR) / schema_name


def uploads_of(schema_name: str) -> list[Path]:
    """The comune's stored upload files: its own folder only, names that are upload ids."""
    folder = _uploads_dir(schema_name)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if UPLOAD_NAME_RE.fullmatch(p.name) and p.is_file())


def comune_backup(*, comune: Comune, output: Path | None = None, by: Any = None) -> Path:
    """Write the comune's backup: a tar with the schema's custom-format pg_dump
    (`schema.dump`) and the comune's uploaded files (`allegati/<id>`); audited
    in the public schema. Only `UPLOADS_DIR/<schema>` is read: another comune's
    files cannot end up in it."""
    if output is None:
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
        output = Path(settings.DATA_DIR) / "backup" / f"{comune.slug}-{stamp}.tar"
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as work:
        dump = Path(work) / DUMP_MEMBER
        schema_dump(schema_name=comune.schema_name, target=dump)
        partial = Path(work) / "backup.tar"
        with tarfile.open(partial, "w") as tar:
            tar.add(dump, arcname=DUMP_MEMBER)
            for path in uploads_of(comune.schema_name):
                try:
                    tar.add(path, arcname=f"{UPLOADS_MEMBER}/{path.name}")
                except FileNotFoundError:
                    continue  # removed (its row deleted) while the backup ran
        partial.replace(output)
    _audit_public(action="comune.backup", comune=comune, path=output, by=by)
    return output


def _archive_members(archive: Path) -> tuple[tarfile.TarInfo | None, list[tarfile.TarInfo]]:
    """The dump and the upload files of a backup tar; anything else refuses the file."""
    dump = None
    uploads = []
    try:
        with tarfile.open(archive, "r") as tar:
            for member in tar.getmembers():
                folder, _, name = member.name.partition("/")
                if member.name == DUMP_MEMBER and member.isfile():
                    dump = member
                elif member.isdir() and member.name == UPLOADS_MEMBER:
                    continue
                elif folder == UPLOADS_MEMBER and UPLOAD_NAME_RE.fullmatch(name) and member.isfile():
                    uploads.append(member)
                else:
                    raise BackupError(
                        f"Il file {archive.name} non è un backup valido: contiene «{member.name}», "
                        "che comune_backup non scrive."
                    )
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"Il file {archive.name} non è un backup leggibile: {exc}") from exc
    return dump, uploads


def _uploads_swap(*, schema_name: str, staged: Path) -> None:
    """Put the restored files in place of the comune's current ones."""
    current = _uploads_dir(schema_name)
    aside = current.with_name(f".{schema_name}-sostituiti-{timezone.now():%Y%m%d%H%M%S%f}")
    if current.exists():
        current.rename(aside)
    staged.rename(current)
    shutil.rmtree(aside, ignore_errors=True)


def _migrate_if_behind(*, comune: Comune, archive: Path) -> None:
    """A backup made before a release restores a schema without that release's
    migrations, which the code already relies on: they are applied now, as
    `migrate_platform` would (the release step does not look at it again)."""
    try:
        schemas_migrate_behind([comune.schema_name])
    except Exception as exc:
        raise BackupError(
            f"Il backup {archive.name} è stato ripristinato, ma lo schema di {comune.display_name} "
            f"non è stato aggiornato alla versione attuale ({exc}): esegui manage.py migrate_platform."
        ) from exc


def comune_restore(*, comune: Comune, archive: Path, confirmed: bool, by: Any = None) -> None:
    """Replace the comune's schema and uploaded files with a backup of that same comune; audited.

    A bare pg_dump archive (backups made before files were included) restores
    the schema and leaves the files as they are."""
    if not confirmed:
        raise BackupError(
            "Il ripristino sostituisce tutti i dati attuali del comune: "
            "ripeti il comando con --yes per confermare."
        )
    if not archive.is_file():
        raise BackupError(f"Il file di backup {archive} non esiste.")
    uploads_root = Path(settings.UPLOADS_DIR)
    uploads_root.mkdir(parents=True, exist_ok=True)
    # Staged next to the comune's folder: the swap is a rename on the same file system.
    with tempfile.TemporaryDirectory(dir=uploads_root, prefix=f".{comune.schema_name}-ripristino-") as work:
        staged: Path | None = None
        dump = archive
        if tarfile.is_tarfile(archive):
            dump_member, upload_members = _archive_members(archive)
            if dump_member is None:
                raise BackupError(f"Il file {archive.name} non contiene lo schema ({DUMP_MEMBER}).")
            staged = Path(work) / "allegati"
            staged.mkdir()
            dump = Path(work) / DUMP_MEMBER
            targets = [(dump_member, dump)] + [(m, staged / m.name.partition("/")[2]) for m in upload_members]
            # Copied member by member to paths chosen here: nothing in the tar names where it goes.
            with tarfile.open(archive, "r") as tar:
                for member, target in targets:
                    source = tar.extractfile(member)
                    if source is None:  # not a regular file: _archive_members refused those
                        raise BackupError(f"Il file {archive.name} non è un backup valido.")
                    with source, target.open("xb") as out:
                        shutil.copyfileobj(source, out)
        schemas = archive_schemas(archive=dump)
        if schemas != [comune.schema_name]:
            found = ", ".join(schemas) or "nessuno"
            raise BackupError(
                f"Il file {archive.name} non è un backup di {comune.display_name}: contiene lo schema "
                f"{found}, non «{comune.schema_name}»."
            )
        schema_restore(schema_name=comune.schema_name, archive=dump)
        if staged is not None:
            _uploads_swap(schema_name=comune.schema_name, staged=staged)
    # The restored services bypassed the catalogue's signals: what the portal
    # cached of the catalogue before must not be shown again.
    comune_catalogue_changed(schema_name=comune.schema_name)
    _audit_public(action="comune.restored", comune=comune, path=archive, by=by)
    _migrate_if_behind(comune=comune, archive=archive)  # restored and audited even if this fails
