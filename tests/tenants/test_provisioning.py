"""The fast clone gives a schema identical to the template, names included."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django_tenants.utils import schema_context

from superadmin.operations import comune_apply_config
from tenants.demo_comuni import demo_config
from tenants.provisioning import schema_clone, template_schema_name


def _structure(schema: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])
        ns = cursor.fetchone()[0]
        cursor.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, "
            "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE c.relnamespace = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY 1, a.attnum",
            [ns],
        )
        columns = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.condeferrable, "
            "k.condeferred FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "WHERE c.relnamespace = %s ORDER BY 1, 2",
            [ns],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname, replace(pg_get_indexdef(c.oid), %s, '') FROM pg_class c "
            "WHERE c.relnamespace = %s AND c.relkind = 'i' ORDER BY 1",
            [f"{schema}.", ns],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = %s AND relkind = 'S' ORDER BY 1",
            [ns],
        )
        sequences = cursor.fetchall()
        tables = sorted({c[0] for c in columns})
        rows = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
            rows[table] = cursor.fetchone()[0]
    connection.set_schema_to_public()
    return {
        "columns": columns,
        "constraints": constraints,
        "indexes": indexes,
        "sequences": sequences,
        "rows": rows,
    }


def test_clone_matches_the_template(db) -> None:  # type: ignore[no-untyped-def]
    assert schema_clone(template=template_schema_name(), new="clonetest") is True
    template = _structure(template_schema_name())
    clone = _structure("clonetest")
    assert template["constraints"] and template["indexes"] and template["rows"]["django_migrations"]
    assert clone == template


def test_identity_sequences_continue_after_the_copied_rows(db) -> None:  # type: ignore[no-untyped-def]
    comune = comune_apply_config(config=demo_config(1)).comune
    with schema_context(comune.schema_name):
        before = ContentType.objects.order_by("-pk").values_list("pk", flat=True).first()
        created = ContentType.objects.create(app_label="prova", model="nuovo")
        assert created.pk > before
