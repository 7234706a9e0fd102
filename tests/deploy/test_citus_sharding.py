"""The schema keeps Citus schema-based sharding possible (docs: "Beyond one machine").

Citus 12 distributes whole schemas: each comune's schema lives on one node,
and the public tables become reference tables copied to every node. That
holds only while no foreign key joins two comune schemas, none points from
a public table into a comune schema, and every tenant table sits in its
comune's own schema. Checked on the real catalogue after migrations, with
the template and both comuni of the test database.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import connection

from tenants.models import Comune


def _comune_schemas() -> set[str]:
    schemas = set(
        Comune.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).values_list("schema_name", flat=True)
    )
    return schemas | {settings.TENANT_BASE_SCHEMA}


def _foreign_keys() -> list[tuple[str, str, str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname, sn.nspname, s.relname, tn.nspname, t.relname
            FROM pg_constraint c
            JOIN pg_class s ON s.oid = c.conrelid JOIN pg_namespace sn ON sn.oid = s.relnamespace
            JOIN pg_class t ON t.oid = c.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
            WHERE c.contype = 'f'
            """
        )
        return cursor.fetchall()


def _tables_by_schema() -> dict[str, set[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p')"
        )
        tables: dict[str, set[str]] = {}
        for schema, table in cursor.fetchall():
            tables.setdefault(schema, set()).add(table)
        return tables


def _tenant_tables() -> tuple[set[str], set[str]]:
    """(tables of every tenant app, tables of the apps that exist only in comune schemas)."""
    labels = {c.label for c in apps.get_app_configs() if c.name in settings.TENANT_APPS}
    shared = {c.label for c in apps.get_app_configs() if c.name in settings.SHARED_APPS}
    every, only = set(), set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy and model._meta.app_label in labels:
            every.add(model._meta.db_table)
            if model._meta.app_label not in shared:
                only.add(model._meta.db_table)
    return every, only


def test_no_foreign_key_joins_two_comuni_or_points_from_public_into_a_comune(db) -> None:  # type: ignore[no-untyped-def]
    comuni = _comune_schemas()
    assert len(comuni) >= 3  # the template and both demo comuni
    keys = _foreign_keys()
    assert any(source in comuni and target == source for _, source, _, target, _ in keys)
    across = [k for k in keys if k[1] in comuni and k[3] in comuni and k[1] != k[3]]
    assert across == []
    into_comuni = [k for k in keys if k[1] == settings.PUBLIC_SCHEMA_NAME and k[3] in comuni]
    assert into_comuni == []


def test_every_tenant_table_is_in_each_comune_schema_and_tenant_only_ones_nowhere_else(db) -> None:  # type: ignore[no-untyped-def]
    every, only = _tenant_tables()
    assert only, "no tenant-only app found"
    tables = _tables_by_schema()
    for schema in _comune_schemas():
        assert every - tables.get(schema, set()) == set(), schema
    assert only & tables[settings.PUBLIC_SCHEMA_NAME] == set()
