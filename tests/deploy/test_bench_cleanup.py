"""bench/onboarding.py drops only the comuni it created (issue: it dropped every demoNNNN)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_exists

from superadmin.operations import comune_onboard
from tenants.demo_comuni import demo_config, next_demo_number
from tenants.models import Comune

BENCH = Path(__file__).resolve().parents[2] / "bench" / "onboarding.py"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_onboarding", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_onboarding_bench_leaves_demo_comuni_it_did_not_make(db, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    call_command("create_demo_comuni", "--count", "1", stdout=io.StringIO())
    (before,) = Comune.objects.filter(slug__startswith="demo")
    with contextlib.redirect_stdout(io.StringIO()):
        ours = comune_onboard(config=demo_config(next_demo_number()), admin_email="a@example.org").comune
    # The bench drops from a fresh connection (its own transactions); here it
    # stays in the test's transaction, whose deferred checks must run first.
    monkeypatch.setattr(connection, "close", lambda: None)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert _bench().created_drop([ours]) == 1
    assert not schema_exists(ours.schema_name) and not Comune.objects.filter(pk=ours.pk).exists()
    assert schema_exists(before.schema_name) and Comune.objects.filter(pk=before.pk).exists()
