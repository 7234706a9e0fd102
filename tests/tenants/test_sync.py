"""`sync_tenants`: creates by cloning, is idempotent, writes nothing on error."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context, schema_exists

from enrollment.models import Service
from tenants.models import Comune, Domain

NEW = """
slug: testville
name: Testville
province: Bergamo
hosts: [testville.localhost]
identity: {backends: [credentials]}
services:
  - code: MENSA
    name: MENSA
    school_year: 2025/2026
    opens_at: 2025-04-01T09:00:00
    closes_at: 2025-06-30T23:59:59
"""


def _sync(*args: str) -> str:
    out = StringIO()
    call_command("sync_tenants", *args, stdout=out)
    return out.getvalue()


def test_second_run_changes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    output = _sync()
    assert output.splitlines() == ["palosco: unchanged", "romanodilombardia: unchanged"]


def test_new_comune_is_cloned_with_hosts_and_catalogue(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "testville.yaml"
    path.write_text(NEW)
    assert "testville: created in" in _sync(str(path))
    comune = Comune.objects.get(slug="testville")
    assert schema_exists("testville")
    assert list(comune.domains.values_list("domain", flat=True)) == ["testville.localhost"]
    with schema_context("testville"):
        assert list(Service.objects.values_list("code", flat=True)) == ["MENSA"]
    assert _sync(str(path)).strip() == "testville: unchanged"


def test_changed_service_is_updated_not_duplicated(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "testville.yaml"
    path.write_text(NEW)
    _sync(str(path))
    path.write_text(NEW.replace("name: MENSA\n", "name: REFEZIONE\n"))
    out = _sync(str(path))
    assert "service MENSA 2025/2026 updated (name)" in out
    with schema_context("testville"):
        assert list(Service.objects.values_list("name", flat=True)) == ["REFEZIONE"]


def test_invalid_file_writes_nothing(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "testville.yaml"
    good.write_text(NEW)
    bad = tmp_path / "badville.yaml"
    bad.write_text(NEW.replace("testville", "badville").replace("province: Bergamo\n", ""))
    with pytest.raises(CommandError) as exc:
        _sync(str(good), str(bad))
    assert "badville.yaml: province: campo obbligatorio" in str(exc.value)
    assert not Comune.objects.filter(slug__in=["testville", "badville"]).exists()
    assert not schema_exists("testville")


def test_check_only_validates(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "testville.yaml"
    path.write_text(NEW)
    assert _sync("--check", str(path)).strip() == "1 config(s) valid."
    assert not Comune.objects.filter(slug="testville").exists()


def test_host_of_another_comune_is_refused(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "testville.yaml"
    path.write_text(NEW.replace("testville.localhost", "palosco.localhost"))
    with pytest.raises(
        CommandError, match=r"'palosco\.localhost' è già usato da Comune di Palosco \(palosco\)"
    ):
        _sync(str(path))
    assert Domain.objects.get(domain="palosco.localhost").tenant.slug == "palosco"
    assert not Comune.objects.filter(slug="testville").exists()
