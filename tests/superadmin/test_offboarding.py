"""Offboarding exports first and drops only after the slug is typed exactly."""

from __future__ import annotations

import csv
import hashlib
import tarfile
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context, schema_exists

from core.models import AuditEntry
from enrollment.models import Service
from enrollment.uploads import upload_path
from identity.models import Account
from superadmin.operations import comune_apply_config, comune_data_export, comune_offboard
from tenants.config import config_parse
from tenants.demo_comuni import demo_config
from tenants.models import Comune, Domain
from tenants.services import ComuneError
from tests.conftest import PALOSCO_HOST
from tests.factories import PDF_BYTES, EnrollmentFactory, upload_attach


@pytest.fixture
def data_dir(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    return tmp_path


def _exports(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "offboard").glob("*")) if (data_dir / "offboard").exists() else []


@pytest.mark.parametrize("typed", ["", "Palosco", "palosco ", "romanodilombardia", "PALOSCO"])
def test_wrong_confirmation_drops_and_exports_nothing(
    operator_client: Client, data_dir: Path, typed: str
) -> None:
    response = operator_client.post("/admin/comuni/palosco/dismissione/", {"confirmation": typed})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert Comune.objects.filter(slug="palosco").exists()
    assert schema_exists("palosco")
    assert Domain.objects.filter(domain=PALOSCO_HOST).exists()
    assert _exports(data_dir) == []


def test_service_refuses_without_the_exact_slug(palosco: Comune, data_dir: Path) -> None:
    with pytest.raises(ComuneError, match="scrivi esattamente «palosco»"):
        comune_offboard(comune=palosco, confirmation="palosc")
    assert schema_exists("palosco") and _exports(data_dir) == []


def test_page_warns_and_needs_the_slug(operator_client: Client) -> None:
    html = operator_client.get("/admin/comuni/palosco/dismissione/").content.decode()
    assert "operazione irreversibile" in html
    assert "Per confermare scrivi lo slug del comune" in html


def test_offboard_exports_then_drops(operator_client: Client, operator: Account, data_dir: Path) -> None:
    with schema_context("palosco"):
        services = Service.objects.count()
    response = operator_client.post("/admin/comuni/palosco/dismissione/", {"confirmation": "palosco"})
    assert response.status_code == 302 and response["Location"] == "/admin/comuni/"
    (folder,) = _exports(data_dir)
    assert folder.name.startswith("palosco-")
    dump = (folder / "schema.sql").read_text()
    assert "CREATE TABLE palosco.enrollment_service" in dump and "PRE SCUOLA" in dump
    with (folder / "service.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == services and {"code", "school_year", "opens_at"} <= set(rows[0])
    assert config_parse((folder / "configurazione.yaml").read_text(), source="x").slug == "palosco"
    connection.set_schema_to_public()
    assert not Comune.objects.filter(slug="palosco").exists()
    assert not Domain.objects.filter(domain=PALOSCO_HOST).exists()
    assert not schema_exists("palosco")
    assert Client(HTTP_HOST=PALOSCO_HOST).get("/").status_code == 404
    entry = AuditEntry.objects.get(action="comune.offboarded")
    assert entry.actor == operator and str(folder) in entry.message
    assert AuditEntry.objects.filter(action="comune.exported", actor=operator).exists()


def test_export_alone_keeps_the_comune(operator_client: Client, data_dir: Path) -> None:
    response = operator_client.post("/admin/comuni/palosco/esporta/")
    assert response.status_code == 302
    (folder,) = _exports(data_dir)
    assert {p.name for p in folder.iterdir()} >= {"schema.sql", "service.csv", "configurazione.yaml"}
    assert schema_exists("palosco") and Comune.objects.filter(slug="palosco").exists()


def test_failed_dump_keeps_the_comune(db, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    # A comune created inside this test's transaction is invisible to pg_dump's
    # own connection, so the dump really fails ("no matching schemas").
    comune = comune_apply_config(config=demo_config(9999)).comune
    with pytest.raises(ComuneError, match="pg_dump"):
        comune_offboard(comune=comune, confirmation=comune.slug)
    assert schema_exists(comune.schema_name) and Comune.objects.filter(slug=comune.slug).exists()


def _attached(comune: Comune, content: bytes) -> tuple[str, str]:
    """A file on an enrollment of `comune`: its upload id and the enrollment's reference."""
    with schema_context(comune.schema_name):
        enrollment = EnrollmentFactory(
            service=Service.objects.order_by("pk").first(), reference=f"2025-7{len(content)}"
        )
        upload = upload_attach(enrollment=enrollment, content=content)
        return str(upload.id), enrollment.reference


def test_the_export_holds_the_comunes_files_and_no_other_comunes(
    palosco: Comune, romano: Comune, data_dir: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    ours, reference = _attached(palosco, PDF_BYTES)
    theirs, _ = _attached(romano, PDF_BYTES + b"romano")
    folder = comune_data_export(comune=palosco)
    name = f"allegati/{reference}/certificato-{ours}-certificato.pdf"
    assert (folder / name).read_bytes() == PDF_BYTES
    copied = [p.relative_to(folder).as_posix() for p in (folder / "allegati").rglob("*") if p.is_file()]
    assert copied == [name]
    with (folder / "allegati.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["file"] == name and row["id"] == ours and row["riferimento"] == reference
    assert row["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest() and row["presente"] == "sì"
    everything = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    assert theirs.encode() not in everything and b"romano" not in everything
    entry = AuditEntry.objects.get(action="comune.exported")
    assert name in entry.data["files"] and "allegati.csv" in entry.data["files"]
    # A row whose file is missing is listed, not invented.
    with schema_context(palosco.schema_name):
        upload_path(ours).unlink()
    with (comune_data_export(comune=palosco) / "allegati.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["file"] == "" and row["presente"] == "no"


def test_offboarding_removes_the_comunes_files_after_the_drop_only(
    palosco: Comune, romano: Comune, data_dir: Path, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    ours, reference = _attached(palosco, PDF_BYTES)
    theirs, _ = _attached(romano, PDF_BYTES + b"romano")
    palosco_files = Path(settings.UPLOADS_DIR) / palosco.schema_name
    romano_file = Path(settings.UPLOADS_DIR) / romano.schema_name / theirs
    # The rows were written in this test's open transaction: their deferred foreign-key
    # checks must run before DROP SCHEMA (committed rows, as in real use, have none pending).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with django_capture_on_commit_callbacks(execute=True):
        folder = comune_offboard(comune=palosco, confirmation="palosco")
        assert (palosco_files / ours).is_file()  # the drop has not committed yet
    assert (folder / f"allegati/{reference}/certificato-{ours}-certificato.pdf").read_bytes() == PDF_BYTES
    assert not palosco_files.exists() and romano_file.read_bytes() == PDF_BYTES + b"romano"


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _files_by_sha256(folder: Path) -> dict[str, str]:
    """Every file the export copied under allegati/: its sha256 → its path in the export."""
    return {
        _sha256(p.read_bytes()): p.relative_to(folder).as_posix()
        for p in (folder / "allegati").rglob("*")
        if p.is_file()
    }


def _backup_files_by_sha256(archive: Path) -> set[str]:
    with tarfile.open(archive) as tar:
        return {
            _sha256(tar.extractfile(m).read())  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.name.startswith("allegati/") and m.isfile()
        }


def _two_comuni_files(palosco: Comune, romano: Comune, settings) -> tuple[dict[str, bytes], bytes]:  # type: ignore[no-untyped-def]
    """Palosco: two answered files and one its folder holds with no row; Romano: one of its own."""
    ours = {}
    for content in (PDF_BYTES, PDF_BYTES + b"seconda pagina"):
        upload_id, _ = _attached(palosco, content)
        ours[upload_id] = content
    without_row = str(uuid.uuid4())
    (Path(settings.UPLOADS_DIR) / palosco.schema_name / without_row).write_bytes(PDF_BYTES + b"senza riga")
    ours[without_row] = PDF_BYTES + b"senza riga"
    theirs = PDF_BYTES + b"romano"
    _attached(romano, theirs)
    return ours, theirs


def test_console_export_carries_the_same_files_as_the_backup(
    operator_client: Client, palosco: Comune, romano: Comune, data_dir: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = _two_comuni_files(palosco, romano, settings)
    assert operator_client.post("/admin/comuni/palosco/esporta/").status_code == 302
    (folder,) = _exports(data_dir)
    exported = _files_by_sha256(folder)
    assert set(exported) == {_sha256(c) for c in ours.values()}
    assert _sha256(theirs) not in exported
    archive = data_dir / "palosco.tar"
    call_command("comune_backup", "palosco", "--output", str(archive))
    assert _backup_files_by_sha256(archive) == set(exported)
    with (folder / "allegati.csv").open() as fh:
        rows = {row["id"]: row for row in csv.DictReader(fh)}
    assert set(rows) == set(ours)
    for upload_id, content in ours.items():
        row = rows[upload_id]
        assert row["presente"] == "sì" and row["sha256_file"] == _sha256(content)
        assert exported[row["sha256_file"]] == row["file"]
        assert row["sha256"] in ("", _sha256(content))  # empty only for the file with no row
    (no_row,) = [r for r in rows.values() if not r["sha256"]]
    assert no_row["file"] == f"allegati/senza-riga/{no_row['id']}"


def test_offboarding_export_carries_every_file_of_the_comune_and_none_of_another(
    operator_client: Client, palosco: Comune, romano: Comune, data_dir: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = _two_comuni_files(palosco, romano, settings)
    with connection.cursor() as cursor:  # see test_offboarding_removes_the_comunes_files_after_the_drop_only
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    response = operator_client.post("/admin/comuni/palosco/dismissione/", {"confirmation": "palosco"})
    assert response.status_code == 302
    (folder,) = _exports(data_dir)
    exported = _files_by_sha256(folder)
    assert set(exported) == {_sha256(c) for c in ours.values()}
    everything = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    assert b"romano" not in everything and _sha256(theirs) not in everything.decode(errors="replace")
