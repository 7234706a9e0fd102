"""Export, erasure and retention of a family's personal data."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from core.models import AuditEntry, OutgoingEmail
from core.services import audit_record
from enrollment.gdpr import family_erase, family_export, retention_apply
from enrollment.models import Enrollment, Guardian, PrivacyConsent, Service, Upload
from enrollment.tasks import retention_run
from enrollment.uploads import upload_path
from identity.models import Account, EmailVerification
from tenants.models import Comune
from tests.enrollment.conftest import make_cf
from tests.factories import (
    PDF_BYTES,
    EnrollmentFactory,
    GuardianFactory,
    ParentFactory,
    PrivacyConsentFactory,
    PupilFactory,
    upload_attach,
)

# Distinctive values, so a match anywhere in the schema is this family's.
BIANCHI = {
    "first_name": "Ermenegildo",
    "last_name": "Bianchizzi",
    "codice_fiscale": "BNCRMN80A01H501X",
    "email": "ermenegildo.bianchizzi@example.org",
    "phone": "0355551234",
    "address": "Via Dei Tigli 77",
}
BIANCHI_PUPIL = {
    "first_name": "Filiberto",
    "codice_fiscale": make_cf(surname="BNC", name="FLB", birth=date(2017, 1, 5)),
}


def _family(*, username: str, g: dict[str, str], pupil: dict[str, str], year: str = "2025/2026") -> Guardian:
    account = ParentFactory(
        username=username,
        codice_utente=None,
        password="Password-1-prova",
        email=g["email"],
        email_verified_at=None,
        first_name=g["first_name"],
        last_name=g["last_name"],
        codice_fiscale=g["codice_fiscale"],
    )
    guardian = GuardianFactory(account=account, cap="24050", city="Palosco", **g)
    child = PupilFactory(
        guardian=guardian, last_name=g["last_name"], birth_date=date(2017, 1, 5), class_section="3A", **pupil
    )
    services = list(Service.objects.filter(school_year="2025/2026").order_by("pk")[:2])
    for i, (svc, status) in enumerate(
        zip(services, [Enrollment.Status.CONFERMATA, Enrollment.Status.BOZZA], strict=True)
    ):
        EnrollmentFactory(
            pupil=child,
            service=svc,
            school_year=year,
            status=status,
            reference=f"2025-{username[-3:]}{i}",
            extra={"motivo": f"lavoro di {g['first_name']}"},
            outcome_note=f"Parlato con {g['last_name']}",
            decided_at=timezone.now() if i == 0 else None,
        )
    PrivacyConsentFactory(guardian=guardian)
    EmailVerification.objects.create(
        account=account, email=g["email"], code_hash="x", expires_at=timezone.now()
    )
    audit_record(
        action="enrollment.submitted",
        actor=account,
        obj=guardian,
        message=f"{g['first_name']} {g['last_name']}",
    )
    OutgoingEmail.objects.create(
        to=[g["email"]], subject="Domanda inviata", body=f"Gentile {g['first_name']} {g['last_name']}"
    )
    return guardian


ROSSI = {
    "first_name": "Mario",
    "last_name": "Rossini",
    "codice_fiscale": "RSSMRA80A01H501U",
    "email": "mario.rossini@example.org",
    "phone": "0351112222",
    "address": "Via Roma 1",
}
ROSSI_PUPIL = {"first_name": "Luca", "codice_fiscale": make_cf(birth=date(2017, 3, 10))}


def _matches(value: str) -> list[str]:
    """Tables of the current schema with a row whose text contains `value`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            [connection.schema_name],
        )
        tables = [r[0] for r in cursor.fetchall()]
        found = []
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}" t WHERE t::text ILIKE %s', [f"%{value}%"])  # noqa: S608
            if cursor.fetchone()[0]:
                found.append(table)
    return found


@pytest.fixture
def families(in_palosco: Comune) -> dict[str, Guardian]:
    return {
        "bianchi": _family(username="PAL-000801", g=BIANCHI, pupil=BIANCHI_PUPIL),
        "rossi": _family(username="PAL-000802", g=ROSSI, pupil=ROSSI_PUPIL),
    }


def test_export_has_all_the_familys_data(families: dict[str, Guardian], tmp_path: Path) -> None:
    call_command("gdpr_export", "palosco", BIANCHI["codice_fiscale"], "--output", str(tmp_path))
    (js,) = tmp_path.glob("*.json")
    data = json.loads(js.read_text())
    assert data["genitore"]["email"] == BIANCHI["email"]
    assert data["account"]["username"] == "PAL-000801" and "password" not in data["account"]
    assert [p["codice_fiscale"] for p in data["alunni"]] == [BIANCHI_PUPIL["codice_fiscale"]]
    assert {e["status"] for e in data["iscrizioni"]} == {"confermata", "bozza"}
    assert data["iscrizioni"][0]["extra"] == {"motivo": "lavoro di Ermenegildo"}
    assert len(data["consensi_privacy"]) == 1 and len(data["verifiche_email"]) == 1
    assert "Rossini" not in js.read_text()
    assert next(tmp_path.glob("*.pdf")).read_bytes().startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="gdpr.exported", object_id=str(families["bianchi"].pk)).exists()


def test_erase_needs_the_codice_fiscale(families: dict[str, Guardian]) -> None:
    with pytest.raises(CommandError, match="scrivi esattamente il codice fiscale"):
        call_command("gdpr_erase", "palosco", "PAL-000801", "--conferma", "sbagliato")
    assert _matches(BIANCHI["last_name"])


def test_erase_leaves_no_personal_value(families: dict[str, Guardian]) -> None:
    cf = BIANCHI["codice_fiscale"]
    call_command("gdpr_erase", "palosco", "PAL-000801", "--conferma", cf)
    for value in [*BIANCHI.values(), *BIANCHI_PUPIL.values(), "PAL-000801"]:
        assert _matches(value) == [], value
    kept = Enrollment.objects.get(reference="2025-8010")
    assert kept.status == "confermata" and kept.decided_at is not None
    assert kept.guardian.last_name.startswith("CANCELLATO-")
    assert not Enrollment.objects.filter(reference="2025-8011").exists()  # the draft
    account = Account.objects.get(pk=families["bianchi"].account_id)
    assert not account.is_active and not account.has_usable_password()
    assert PrivacyConsent.objects.filter(guardian=kept.guardian).exists()
    assert AuditEntry.objects.filter(action="gdpr.erased").exists()
    # The other family is untouched.
    for value in [*ROSSI.values(), *ROSSI_PUPIL.values()]:
        assert "enrollment_guardian" in _matches(value) or "enrollment_pupil" in _matches(value), value
    assert Enrollment.objects.filter(reference__startswith="2025-802").count() == 2


def test_retention_years_is_validated(palosco: Comune) -> None:
    from tenants.config import ComuneConfig, ConfigError, config_parse

    assert ComuneConfig.model_validate(palosco.config).retention_years == 10
    with pytest.raises(ConfigError, match="retention_years"):
        config_parse(json.dumps(palosco.config | {"retention_years": 0}), source="palosco.yaml")


def test_retention_job_erases_old_school_years(families: dict[str, Guardian], palosco: Comune) -> None:
    Enrollment.objects.filter(guardian=families["bianchi"]).update(school_year="2010/2011")
    retention_run(schema_name=palosco.schema_name)
    assert not Guardian.objects.filter(pk=families["bianchi"].pk).exists()
    for value in [BIANCHI["codice_fiscale"], BIANCHI["email"], BIANCHI_PUPIL["codice_fiscale"]]:
        assert _matches(value) == [], value
    assert Enrollment.objects.filter(guardian=families["rossi"]).count() == 2
    assert AuditEntry.objects.filter(action="gdpr.retention").exists()


def test_retention_counts_years_after_the_school_year_end(families: dict[str, Guardian]) -> None:
    Enrollment.objects.filter(guardian=families["bianchi"]).update(school_year="2014/2015")
    # 2014/2015 ended on 31 August 2015: ten years later is 31 August 2025.
    assert retention_apply(years=10, today=date(2025, 8, 31))["iscrizioni_cancellate"] == 0
    assert retention_apply(years=10, today=date(2025, 9, 1))["iscrizioni_cancellate"] == 2


def test_backoffice_export_and_erase_for_the_amministratore(
    families: dict[str, Guardian], palosco: Comune
) -> None:
    from enrollment.backoffice.roles import AMMINISTRATORE, OPERATORE
    from tests.enrollment.backoffice.conftest import client_for, staff_create

    admin = client_for(palosco, staff_create("admin.gdpr", AMMINISTRATORE))
    operatore = client_for(palosco, staff_create("operatore.gdpr", OPERATORE))
    pk = families["bianchi"].pk
    assert operatore.get("/admin/dati-personali/").status_code == 403
    assert (
        operatore.post(
            f"/admin/dati-personali/{pk}/cancella/", {"conferma": BIANCHI["codice_fiscale"]}
        ).status_code
        == 403
    )

    page = admin.get("/admin/dati-personali/", {"codice": "PAL-000801"}).content.decode()
    assert BIANCHI["codice_fiscale"] in page and "Cancella i dati personali" in page
    exported = admin.get(f"/admin/dati-personali/{pk}/esporta.json")
    assert json.loads(exported.content)["genitore"]["phone"] == BIANCHI["phone"]
    assert admin.get(f"/admin/dati-personali/{pk}/esporta.pdf").content.startswith(b"%PDF")

    wrong = admin.post(f"/admin/dati-personali/{pk}/cancella/", {"conferma": "RSSMRA80A01H501U"})
    assert wrong.status_code == 400 and "scrivi esattamente il codice fiscale" in wrong.content.decode()
    done = admin.post(
        f"/admin/dati-personali/{pk}/cancella/", {"conferma": BIANCHI["codice_fiscale"].lower()}
    )
    assert done.status_code == 302
    assert _matches(BIANCHI["codice_fiscale"]) == []
    assert AuditEntry.objects.filter(action="gdpr.erased", actor_label__contains="admin.gdpr").exists()


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


def test_the_family_export_holds_its_own_files_and_no_other_familys(
    families: dict[str, Guardian], tmp_path: Path
) -> None:
    bianchi = families["bianchi"].enrollments.get(status="confermata")
    mine = upload_attach(enrollment=bianchi, content=PDF_BYTES, name="dieta Bianchi.pdf")
    rossi = families["rossi"].enrollments.get(status="confermata")
    theirs = upload_attach(enrollment=rossi, content=PNG_BYTES, name="foto.png")
    export = family_export(guardian=families["bianchi"])
    data = json.loads(export.json)
    assert [(u["id"], u["name"]) for u in data["allegati"]] == [(str(mine.id), "dieta_Bianchi.pdf")]
    expected = f"allegati/{bianchi.reference}/certificato-{mine.id}-dieta_Bianchi.pdf"
    assert data["allegati"][0]["file"] == expected and export.files == [(expected, PDF_BYTES)]
    with zipfile.ZipFile(io.BytesIO(export.archive())) as archive:
        assert sorted(archive.namelist()) == sorted(["dati-personali.json", "dati-personali.pdf", expected])
        assert archive.read(expected) == PDF_BYTES
        assert PNG_BYTES not in b"".join(archive.read(n) for n in archive.namelist())
    assert str(theirs.id) not in export.json.decode()
    # The other family's export has only its own file.
    assert [name for name, _ in family_export(guardian=families["rossi"]).files] == [
        f"allegati/{rossi.reference}/certificato-{theirs.id}-foto.png"
    ]
    # The command writes the same ZIP.
    call_command("gdpr_export", "palosco", BIANCHI["codice_fiscale"], "--output", str(tmp_path))
    (written,) = tmp_path.glob("*.zip")
    with zipfile.ZipFile(written) as archive:
        assert archive.read(expected) == PDF_BYTES


def test_the_backoffice_hands_over_the_zip_with_the_files(
    families: dict[str, Guardian], palosco: Comune
) -> None:
    from enrollment.backoffice.roles import AMMINISTRATORE
    from tests.enrollment.backoffice.conftest import client_for, staff_create

    upload = upload_attach(enrollment=families["bianchi"].enrollments.get(status="bozza"))
    admin = client_for(palosco, staff_create("admin.zip", AMMINISTRATORE))
    pk = families["bianchi"].pk
    assert "1 allegati" in admin.get("/admin/dati-personali/", {"codice": "PAL-000801"}).content.decode()
    response = admin.get(f"/admin/dati-personali/{pk}/esporta.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    name = f"allegati/{upload.enrollment.reference}/certificato-{upload.id}-certificato.pdf"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.read(name) == PDF_BYTES
    assert admin.get(f"/admin/dati-personali/{pk}/esporta.tar").status_code == 404


def test_retention_removes_the_files_after_the_commit_and_a_rollback_keeps_them(
    families: dict[str, Guardian], django_capture_on_commit_callbacks
) -> None:
    bianchi = upload_attach(enrollment=families["bianchi"].enrollments.get(status="confermata"))
    rossi = upload_attach(enrollment=families["rossi"].enrollments.get(status="confermata"))
    paths = {name: upload_path(u.id) for name, u in (("bianchi", bianchi), ("rossi", rossi))}
    Enrollment.objects.filter(guardian=families["bianchi"]).update(school_year="2010/2011")

    class Stop(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Stop), transaction.atomic():
        retention_apply(years=10)
        assert not Upload.objects.filter(pk=bianchi.pk).exists()
        assert paths["bianchi"].is_file()  # still there until the commit
        raise Stop
    assert Upload.objects.filter(pk=bianchi.pk).exists() and paths["bianchi"].is_file()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        retention_apply(years=10)
        assert paths["bianchi"].is_file()  # the transaction has not committed yet
    assert callbacks and not paths["bianchi"].exists()
    assert not Upload.objects.filter(pk=bianchi.pk).exists()
    assert paths["rossi"].read_bytes() == PDF_BYTES and Upload.objects.filter(pk=rossi.pk).exists()


def test_retention_of_old_years_only_takes_their_files(
    families: dict[str, Guardian], django_capture_on_commit_callbacks
) -> None:
    old, current = families["bianchi"].enrollments.order_by("pk")
    Enrollment.objects.filter(pk=old.pk).update(school_year="2010/2011")
    gone, kept = upload_attach(enrollment=old), upload_attach(enrollment=current)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_apply(years=10)["iscrizioni_cancellate"] == 1
    assert not upload_path(gone.id).exists() and upload_path(kept.id).read_bytes() == PDF_BYTES
    assert list(Upload.objects.values_list("pk", flat=True)) == [kept.pk]


def test_erasure_removes_every_file_of_the_family(
    families: dict[str, Guardian], django_capture_on_commit_callbacks
) -> None:
    uploads = [upload_attach(enrollment=e) for e in families["bianchi"].enrollments.all()]
    other = upload_attach(enrollment=families["rossi"].enrollments.first())
    with django_capture_on_commit_callbacks(execute=True):
        counts = family_erase(guardian=families["bianchi"], confirmation=BIANCHI["codice_fiscale"])
    assert counts["allegati_cancellati"] == 2
    # The kept (pseudonymised) application keeps no answers, and so no file.
    assert Enrollment.objects.get(reference="2025-8010").extra == {}
    assert not any(upload_path(u.id).exists() for u in uploads)
    assert list(Upload.objects.values_list("pk", flat=True)) == [other.pk] and upload_path(other.id).is_file()
