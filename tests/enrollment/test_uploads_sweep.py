"""The sweep of API uploads no enrollment named: old ones go (row, then file after
the commit), recent and attached ones stay, another comune is never touched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tenants.utils import schema_context

from core.models import AuditEntry
from enrollment.models import Upload
from enrollment.tasks import uploads_sweep_run
from enrollment.uploads import upload_check, upload_path, upload_store
from tenants.models import Comune
from tests.factories import PDF_BYTES, EnrollmentFactory, upload_attach


def _api_upload(*, hours_ago: float) -> Upload:
    """An upload as the API stores it: no enrollment yet (current schema)."""
    checked = upload_check(file=SimpleUploadedFile("ricevuta.pdf", PDF_BYTES), max_bytes=1024 * 1024)
    upload = upload_store(checked=checked, account=None, enrollment=None, question_id="certificato")
    Upload.objects.filter(pk=upload.pk).update(created_at=timezone.now() - timedelta(hours=hours_ago))
    return upload


@pytest.fixture
def uploads(palosco: Comune, romano: Comune) -> dict[str, tuple[str, Upload]]:
    with schema_context("palosco"):
        old = _api_upload(hours_ago=25)
        recent = _api_upload(hours_ago=23)
        attached = upload_attach(enrollment=EnrollmentFactory.create())
        Upload.objects.filter(pk=attached.pk).update(created_at=timezone.now() - timedelta(days=30))
    with schema_context("romanodilombardia"):
        romano_old = _api_upload(hours_ago=25)
    return {
        "old": ("palosco", old),
        "recent": ("palosco", recent),
        "attached": ("palosco", attached),
        "romano_old": ("romanodilombardia", romano_old),
    }


def _kept(uploads: dict[str, tuple[str, Upload]]) -> dict[str, tuple[bool, bool]]:
    """For each upload: (row still there, file still there)."""
    kept = {}
    for key, (schema, upload) in uploads.items():
        with schema_context(schema):
            kept[key] = (
                Upload.objects.filter(pk=upload.pk).exists(),
                upload_path(upload.id, schema=schema).exists(),
            )
    return kept


def test_old_unattached_uploads_of_one_comune_go(uploads, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("uploads_sweep", "palosco")
    assert _kept(uploads) == {
        "old": (False, False),
        "recent": (True, True),
        "attached": (True, True),
        "romano_old": (True, True),
    }
    with schema_context("palosco"):
        entry = AuditEntry.objects.get(action="uploads.swept")
    assert entry.data["allegati_rimossi"] == 1
    with schema_context("romanodilombardia"):
        assert not AuditEntry.objects.filter(action="uploads.swept").exists()


def test_files_stay_until_the_commit(uploads) -> None:  # type: ignore[no-untyped-def]
    # Without the commit (the test's transaction stays open) the row is gone, the file not yet.
    uploads_sweep_run(schema_name="palosco")
    assert _kept(uploads)["old"] == (False, True)


def test_every_comune_and_a_custom_age(uploads, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("uploads_sweep", "--ore", "48")
    assert all(_kept(uploads).values()) and _kept(uploads)["old"] == (True, True)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("uploads_sweep", "--ore", "12")
    assert _kept(uploads) == {
        "old": (False, False),
        "recent": (False, False),
        "attached": (True, True),
        "romano_old": (False, False),
    }


def test_the_default_age_is_the_setting(uploads, settings, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    settings.UPLOADS_UNATTACHED_MAX_HOURS = 22
    with django_capture_on_commit_callbacks(execute=True):
        uploads_sweep_run(schema_name="palosco")
    assert _kept(uploads)["recent"] == (False, False)
    assert _kept(uploads)["attached"] == (True, True)


def test_refusals(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="Nessun comune con slug «atlantide»"):
        call_command("uploads_sweep", "atlantide")
    with pytest.raises(CommandError, match="--ore deve essere almeno 1"):
        call_command("uploads_sweep", "--ore", "0")
