"""`create_demo_comuni`: synthetic comuni through the normal provisioning path."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context, schema_exists

from enrollment.models import Service
from tenants.models import Comune


def test_creates_numbered_comuni_and_drops_them(db) -> None:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("create_demo_comuni", "--count", "2", stdout=out)
    assert "2 comuni creati in" in out.getvalue() and "rapporto ultimo/primo" in out.getvalue()
    call_command("create_demo_comuni", "--count", "1", stdout=StringIO())
    demo = Comune.objects.filter(slug__startswith="demo").order_by("slug")
    assert [c.slug for c in demo] == ["demo0001", "demo0002", "demo0003"]
    assert list(demo[0].domains.values_list("domain", flat=True)) == ["demo0001.localhost"]
    with schema_context("demo0003"):
        assert Service.objects.count() == 3
    out = StringIO()
    call_command("create_demo_comuni", "--drop", stdout=out)
    assert out.getvalue().startswith("3 comuni sintetici eliminati")
    assert not Comune.objects.filter(slug__startswith="demo").exists() and not schema_exists("demo0001")
    assert Comune.objects.filter(slug="palosco").exists()


def test_count_is_required(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError):
        call_command("create_demo_comuni", stdout=StringIO())
