"""`migrate_platform` (the release step): only the schemas behind are migrated, and it says which."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from tenants.models import Comune
from tenants.provisioning import (
    migrations_missing,
    migrations_on_disk,
    platform_migrate,
    template_schema_name,
)

# The latest migration of a shared app: in a comune's schema migrating it only
# records it, so applying it again in the tests changes nothing else there.
SHARED_MIGRATION: tuple[str, str] = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes(
    "tenants"
)[0]


def _forget(schema: str, migration: tuple[str, str] = SHARED_MIGRATION) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s',  # noqa: S608
            list(migration),
        )


def _all_comuni() -> list[str]:
    return sorted(Comune.objects.exclude(schema_name="public").values_list("schema_name", flat=True))


def test_missing_migrations_are_counted_per_schema_in_one_pass(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    _forget(romano.schema_name)
    _forget(
        romano.schema_name, MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("enrollment")[0]
    )
    schemas = ["public", template_schema_name(), "palosco", "romanodilombardia", "no_such"]
    missing = migrations_missing(schemas)
    assert missing["palosco"] == 0 and missing["public"] == 0 and missing[template_schema_name()] == 0
    assert missing["romanodilombardia"] == 2
    assert missing["no_such"] == len(migrations_on_disk())


def test_only_the_schema_behind_is_migrated_and_reported(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    _forget(romano.schema_name)
    report = platform_migrate()
    assert report.migrated == ["romanodilombardia"]
    assert report.up_to_date == 2 + len(_all_comuni()) - 1  # public and template, then the comuni
    assert migrations_missing(["romanodilombardia"])["romanodilombardia"] == 0


def test_nothing_behind_nothing_migrated(db) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command("migrate_platform", stdout=out)
    assert "Nessuno schema da migrare." in out.getvalue()
    assert f"Schemi già aggiornati: {2 + len(_all_comuni())}." in out.getvalue()


@pytest.fixture
def two_behind(committed_comuni) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Both demo comuni behind, committed: the parallel migrate runs in other processes."""
    schemas = sorted(c.schema_name for c in committed_comuni.values())
    for schema in schemas:
        _forget(schema)
    try:
        yield schemas
    finally:
        with connection.cursor() as cursor:
            for schema in schemas:
                cursor.execute(
                    f'INSERT INTO "{schema}".django_migrations (app, name, applied) '  # noqa: S608
                    "SELECT %s, %s, now() WHERE NOT EXISTS "
                    f'(SELECT 1 FROM "{schema}".django_migrations WHERE app = %s AND name = %s)',
                    [*SHARED_MIGRATION, *SHARED_MIGRATION],
                )


def test_schemas_behind_are_migrated_in_parallel_and_listed(two_behind: list[str]) -> None:
    out = io.StringIO()
    call_command("migrate_platform", stdout=out)
    assert f"Schemi migrati (2): {', '.join(two_behind)}" in out.getvalue()
    assert migrations_missing(two_behind) == dict.fromkeys(two_behind, 0)
    out = io.StringIO()
    call_command("migrate_platform", stdout=out)
    assert "Nessuno schema da migrare." in out.getvalue()
