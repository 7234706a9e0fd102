"""Schema dumps with the tools that fit the server; backup and restore of one comune,
its uploaded files included (and no other comune's)."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from core.models import AuditEntry
from enrollment.models import Enrollment, Service, Upload
from enrollment.uploads import upload_path
from identity.models import Account
from superadmin.backup import BackupError, archive_schemas, pg_tools_for, schema_dump, server_version
from tenants.models import Comune
from tenants.provisioning import migrations_missing, schemas_migrate
from tests.committed import committed_comuni, committed_palosco  # noqa: F401 (fixtures)
from tests.enrollment.conftest import logged_in
from tests.factories import EnrollmentFactory, ParentFactory, StaffFactory, upload_attach


@pytest.fixture
def embedded_16(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The `pgserver` wheel's PostgreSQL 16, as the development settings use it."""
    import pgserver

    server = pgserver.get_server(str(tmp_path / "pg"), cleanup_mode="delete")
    server.psql(
        "CREATE SCHEMA prova; CREATE TABLE prova.t (nome text); INSERT INTO prova.t VALUES ('Mario');"
    )
    # The shape settings.DATABASES has for the embedded server: socket host in OPTIONS.
    yield {
        "NAME": "postgres",
        "USER": "postgres",
        "HOST": "",
        "PORT": "",
        "OPTIONS": {"host": str(server.pgdata)},
    }
    server.cleanup()


def test_dump_of_the_embedded_16_server(embedded_16: dict[str, Any], tmp_path: Path) -> None:
    assert server_version(embedded_16) == 16
    target = tmp_path / "prova.dump"
    schema_dump(schema_name="prova", target=target, database=embedded_16)
    assert archive_schemas(archive=target, database=embedded_16) == ["prova"]
    plain = tmp_path / "prova.sql"
    schema_dump(schema_name="prova", target=plain, fmt="plain", database=embedded_16)
    assert "Mario" in plain.read_text()


def test_tools_match_the_server_version(db) -> None:  # type: ignore[no-untyped-def]
    # The machine's own tools serve their own version; a newer server gets the wheel's 16.
    assert pg_tools_for(server_version()).version == server_version()
    assert pg_tools_for(16).version == 16
    with pytest.raises(BackupError, match="Nessun pg_dump adatto al server PostgreSQL 99"):
        pg_tools_for(99)


def test_console_export_writes_the_schema_dump(operator_client: Client, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    response = operator_client.post("/admin/comuni/palosco/esporta/")
    assert response.status_code == 302
    (folder,) = (tmp_path / "offboard").iterdir()
    assert "CREATE TABLE palosco.enrollment_service" in (folder / "schema.sql").read_text()


def test_restore_needs_yes(palosco: Comune, tmp_path: Path) -> None:
    archive = tmp_path / "palosco.dump"
    call_command("comune_backup", "palosco", "--output", str(archive))
    with pytest.raises(CommandError, match="ripeti il comando con --yes"):
        call_command("comune_restore", "palosco", str(archive))


def test_restore_refuses_a_missing_file(palosco: Comune, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="non esiste"):
        call_command("comune_restore", "palosco", str(tmp_path / "nessuno.dump"), "--yes")


def test_restore_refuses_another_comunes_backup(palosco: Comune, tmp_path: Path) -> None:
    archive = tmp_path / "romano.dump"
    call_command("comune_backup", "romanodilombardia", "--output", str(archive))
    with pytest.raises(CommandError, match="non è un backup di Comune di Palosco"):
        call_command("comune_restore", "palosco", str(archive), "--yes")
    with schema_context("palosco"):
        assert Service.objects.exists()


def test_unknown_comune(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="Nessun comune con slug «atlantide»"):
        call_command("comune_backup", "atlantide")


def _services(schema: str) -> list[dict[str, Any]]:
    with schema_context(schema):
        return list(Service.objects.order_by("pk").values())


def test_backup_change_restore(committed_comuni: dict[str, Comune], tmp_path: Path) -> None:  # noqa: F811
    last_audit = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    palosco_before, romano_before = _services("palosco"), _services("romanodilombardia")
    archive = tmp_path / "palosco.dump"
    try:
        call_command("comune_backup", "palosco", "--output", str(archive))
        with schema_context("palosco"):
            Service.objects.update(name="CAMBIATO")
            Service.objects.filter(pk=palosco_before[0]["id"]).delete()
        with schema_context("romanodilombardia"):
            Service.objects.update(fee_note="nota di Romano")
        romano_changed = _services("romanodilombardia")

        call_command("comune_restore", "palosco", str(archive), "--yes")

        assert _services("palosco") == palosco_before
        assert _services("romanodilombardia") == romano_changed
        with connection.cursor() as cursor:
            cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", ["palosco%"])
            leftovers = cursor.fetchall()
        assert leftovers == [("palosco",)]
        actions = set(AuditEntry.objects.filter(id__gt=last_audit).values_list("action", flat=True))
        assert actions == {"comune.backup", "comune.restored"}
    finally:
        with schema_context("romanodilombardia"):
            for row in romano_before:
                Service.objects.filter(pk=row["id"]).update(**row)
        AuditEntry.objects.filter(id__gt=last_audit).delete()


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def _members(archive: Path) -> set[str]:
    with tarfile.open(archive) as tar:
        return {m.name for m in tar.getmembers()}


def test_backup_holds_the_comunes_files_only(palosco: Comune, tmp_path: Path) -> None:
    with schema_context("palosco"):
        mine = upload_attach(enrollment=EnrollmentFactory.create())
    with schema_context("romanodilombardia"):
        theirs = upload_attach(enrollment=EnrollmentFactory.create())
    archive = tmp_path / "palosco.tar"
    call_command("comune_backup", "palosco", "--output", str(archive))
    assert _members(archive) == {"schema.dump", f"allegati/{mine.id}"}
    assert str(theirs.id) not in "".join(_members(archive))


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def test_restore_refuses_a_tar_it_did_not_write(palosco: Comune, tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    escaping = _tar(tmp_path / "a.tar", {"schema.dump": b"x", "../../fuori": b"x"})
    with pytest.raises(CommandError, match=re.escape("contiene «../../fuori», che comune_backup non scrive")):
        call_command("comune_restore", "palosco", str(escaping), "--yes")
    no_dump = _tar(tmp_path / "b.tar", {"allegati/" + "0" * 8 + "-0000-0000-0000-" + "0" * 12: b"x"})
    with pytest.raises(CommandError, match="non contiene lo schema"):
        call_command("comune_restore", "palosco", str(no_dump), "--yes")
    assert not (tmp_path.parent / "fuori").exists()
    # Nothing staged is left next to the comune's files.
    assert [p.name for p in Path(settings.UPLOADS_DIR).iterdir() if p.name.startswith(".")] == []


def test_restore_refuses_a_bare_dump_of_another_comune(palosco: Comune, tmp_path: Path) -> None:
    # Backups made before files were included are a bare pg_dump: still checked the same way.
    archive = tmp_path / "romano.dump"
    schema_dump(schema_name="romanodilombardia", target=archive)
    with pytest.raises(CommandError, match="non è un backup di Comune di Palosco"):
        call_command("comune_restore", "palosco", str(archive), "--yes")


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_files_round_trip(committed_comuni: dict[str, Comune], tmp_path: Path) -> None:  # noqa: F811
    palosco = committed_comuni["palosco"]
    last_audit = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    try:
        with schema_context("palosco"):
            staff = StaffFactory.create(role="Operatore")
            enrollment = EnrollmentFactory.create()
            upload = upload_attach(enrollment=enrollment, content=PNG_BYTES, name="foto.png")
        with schema_context("romanodilombardia"):
            theirs = upload_attach(enrollment=EnrollmentFactory.create())
        theirs_file = upload_path(theirs.id, schema="romanodilombardia")
        archive = tmp_path / "palosco.tar"
        call_command("comune_backup", "palosco", "--output", str(archive))

        # The enrollment goes, and its file with it (the delete commits at once here).
        with schema_context("palosco"):
            Enrollment.objects.filter(pk=enrollment.pk).delete()
            assert not Upload.objects.filter(pk=upload.pk).exists()
        assert not upload_path(upload.id, schema="palosco").exists()

        call_command("comune_restore", "palosco", str(archive), "--yes")

        with schema_context("palosco"):
            restored = Upload.objects.get(pk=upload.pk)
        stored = upload_path(upload.id, schema="palosco").read_bytes()
        assert _sha256(stored) == restored.sha256 == _sha256(PNG_BYTES)
        response = logged_in(palosco, staff).get(f"/iscrizioni/allegati/{upload.id}/")
        assert response.status_code == 200
        assert _sha256(response.content) == _sha256(PNG_BYTES)
        # Romano's file is where it was; no staging folder is left behind.
        assert _sha256(theirs_file.read_bytes()) == theirs.sha256
        assert [p.name for p in theirs_file.parent.parent.iterdir() if p.name.startswith(".")] == []
    finally:
        AuditEntry.objects.filter(id__gt=last_audit).delete()


def _identity_columns() -> set[str]:
    with schema_context("palosco"), connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, "identity_account")}


def test_a_backup_from_before_a_release_is_restored_and_migrated(
    committed_comuni: dict[str, Comune],  # noqa: F811
    tmp_path: Path,
) -> None:
    """The schema as the release before identity 0004 left it, backed up, is restored into today's code:
    the restore applies the migrations it lacks, so the portal can read its accounts at once."""
    archive = tmp_path / "palosco-prima.tar"
    last_audit = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    try:
        call_command(
            "migrate_schemas", "identity", "0003_email_verification_outgoing_email",
            schema_name="palosco", interactive=False, verbosity=0,
        )  # fmt: skip
        assert "credentials_letter_at" not in _identity_columns()
        call_command("comune_backup", "palosco", "--output", str(archive))
        schemas_migrate(["palosco"])
        with schema_context("palosco"):
            ParentFactory.create(username="PAL-000777")  # made after the backup: the restore takes it away

        call_command("comune_restore", "palosco", str(archive), "--yes")

        assert "credentials_letter_at" in _identity_columns()
        assert migrations_missing(["palosco"]) == {"palosco": 0}
        with schema_context("palosco"):
            assert not Account.objects.filter(username__iexact="PAL-000777").exists()
            # The restored accounts are read and written with today's columns.
            accounts = Account.objects.count()
            assert Account.objects.filter(credentials_letter_at__isnull=True).count() == accounts
            ParentFactory.create(username="PAL-000777")
        actions = set(AuditEntry.objects.filter(id__gt=last_audit).values_list("action", flat=True))
        assert actions == {"comune.backup", "comune.restored"}
    finally:
        if migrations_missing(["palosco"])["palosco"]:
            schemas_migrate(["palosco"])  # leaves the connection on the public schema
        with schema_context("palosco"):
            Account.objects.filter(username__iexact="PAL-000777").delete()
        AuditEntry.objects.filter(id__gt=last_audit).delete()
