"""Reads of the operators' console: per-comune usage and platform health.

Figures that live in the comuni's schemas are read with one UNION ALL
statement over the schemas of the page, not one query per comune. The SQL
is built only from quoted schema names and model table names (S608).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import DatabaseError, connection, models
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from core.models import AuditEntry, OutgoingEmail
from enrollment.models import Service
from tenants.models import Comune
from tenants.provisioning import migrations_missing, schemas_with_tables, template_schema_name
from tenants.selectors import comuni_list
from tenants.waiting_room import inflight_counts, queue_lengths

# Schemas per UNION ALL statement: keeps each statement well under
# PostgreSQL's limits even with thousands of comuni.
UNION_CHUNK = 200


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _union_rows(
    schemas: list[str], sql: str, extra: tuple[Any, ...] = (), *, tables: list[str]
) -> list[tuple[Any, ...]]:
    """Run `sql` in every schema that holds its `tables`, and concatenate the rows.

    `sql` names tables as `{schema}.<table>` and its first parameter is the
    schema's own name (so each row says where it comes from), then `extra`.
    A schema without one of the tables (dropped by hand, or a migration
    behind) is left out instead of failing the whole statement: the health
    page reports it as behind, and must not fail for it.
    """
    schemas = schemas_with_tables(schemas, tables)
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(schemas), UNION_CHUNK):
        chunk = schemas[i : i + UNION_CHUNK]
        statement = " UNION ALL ".join(f"({sql.format(schema=_q(s))})" for s in chunk)
        params = [p for s in chunk for p in (s, *extra)]
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            rows.extend(cursor.fetchall())
    return rows


def _enrollment_model() -> Any:
    """The enrollment model when the enrollment app defines one with a status."""
    try:
        model = apps.get_model("enrollment", "Enrollment")
    except LookupError:
        return None
    names = {f.name for f in model._meta.concrete_fields}
    return model if "status" in names else None


@dataclass
class ComuneRow:
    comune: Comune
    hosts: list[str]
    backends: list[str]
    services: int = 0
    last_activity: datetime | None = None
    schema_bytes: int = 0
    enrollments: dict[str, int] = field(default_factory=dict)


def schema_sizes(schemas: list[str]) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname, coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'm', 'p') GROUP BY n.nspname",
            [schemas],
        )
        return {name: int(size) for name, size in cursor.fetchall()}


def comuni_overview(comuni: list[Comune]) -> list[ComuneRow]:
    """One row per comune with what the console's list shows."""
    rows = {
        c.schema_name: ComuneRow(
            comune=c,
            hosts=[d.domain for d in c.domains.all()],
            backends=list(c.settings.identity.backends) if c.config else [],
        )
        for c in comuni
    }
    schemas = list(rows)
    if not schemas:
        return []
    for schema, services, last in _union_rows(
        schemas,
        f"SELECT %s, (SELECT count(*) FROM {{schema}}.{_q(Service._meta.db_table)}), "  # noqa: S608
        f"(SELECT max(at) FROM {{schema}}.{_q(AuditEntry._meta.db_table)})",
        tables=[Service._meta.db_table, AuditEntry._meta.db_table],
    ):
        rows[schema].services = services
        rows[schema].last_activity = last
    for schema, size in schema_sizes(schemas).items():
        rows[schema].schema_bytes = size
    model = _enrollment_model()
    if model is not None:
        # "This year" is the calendar year when enrollments carry created_at.
        columns = {f.name for f in model._meta.concrete_fields}
        extra: tuple[Any, ...] = ()
        where = ""
        if "created_at" in columns:
            extra = (timezone.localtime().replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0),)
            where = " WHERE created_at >= %s"
        sql = f"SELECT %s, status, count(*) FROM {{schema}}.{_q(model._meta.db_table)}{where} GROUP BY 2"  # noqa: S608
        for schema, status, count in _union_rows(schemas, sql, extra, tables=[model._meta.db_table]):
            rows[schema].enrollments[status] = count
    return list(rows.values())


@dataclass
class Health:
    database_ok: bool
    database_error: str = ""
    schemas_total: int = 0
    schemas_behind: list[str] = field(default_factory=list)
    pending_migrations: int = 0
    jobs_by_status: dict[str, int] = field(default_factory=dict)
    failed_jobs: list[Any] = field(default_factory=list)
    email_failures: list[dict[str, Any]] = field(default_factory=list)
    # Comuni with parents waiting or being served: (schema, waiting, in flight).
    waiting_rooms: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.database_ok and not self.schemas_behind and not self.jobs_by_status.get("failed")


def schemas_behind(schemas: list[str]) -> tuple[list[str], int]:
    """Schemas missing at least one migration that exists on disk, and how many are missing
    (tenants.provisioning.migrations_missing: the same comparison `migrate_platform` makes)."""
    missing = migrations_missing(schemas)
    return sorted(s for s, n in missing.items() if n), sum(missing.values())


def email_failures(schemas: list[str], *, limit: int = 20) -> list[dict[str, Any]]:
    table = _q(OutgoingEmail._meta.db_table)
    sql = (
        f"SELECT * FROM (SELECT %s, created_at, subject, last_error FROM {{schema}}.{table} "  # noqa: S608
        f"WHERE status = %s ORDER BY created_at DESC LIMIT {int(limit)}) AS f"
    )
    rows = _union_rows(schemas, sql, (OutgoingEmail.Status.FAILED,), tables=[OutgoingEmail._meta.db_table])
    rows.sort(key=lambda r: r[1], reverse=True)
    return [
        {"schema": s, "created_at": at, "subject": subject, "error": error}
        for s, at, subject, error in rows[:limit]
    ]


def email_failed_count(schemas: list[str]) -> int:
    """E-mails whose last attempt failed, summed over the schemas."""
    table = _q(OutgoingEmail._meta.db_table)
    sql = f"SELECT %s, count(*) FROM {{schema}}.{table} WHERE status = %s"  # noqa: S608
    failed = _union_rows(schemas, sql, (OutgoingEmail.Status.FAILED,), tables=[OutgoingEmail._meta.db_table])
    return sum(n for _schema, n in failed)


def health_report() -> Health:
    from procrastinate.contrib.django.models import ProcrastinateJob

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return Health(database_ok=False, database_error=str(exc))
    with schema_context(get_public_schema_name()):
        comune_schemas = list(comuni_list().values_list("schema_name", flat=True))
        schemas = [template_schema_name(), *comune_schemas]
        behind, missing = schemas_behind(schemas)
        jobs = dict(
            ProcrastinateJob.objects.values_list("status")
            .annotate(n=models.Count("id"))
            .values_list("status", "n")
        )
        failed = list(ProcrastinateJob.objects.filter(status="failed").order_by("-id")[:10])
        mails = email_failures([get_public_schema_name(), *comune_schemas])
        waiting, inflight = queue_lengths(), inflight_counts()
    return Health(
        database_ok=True,
        schemas_total=len(schemas),
        schemas_behind=behind,
        pending_migrations=missing,
        jobs_by_status=jobs,
        failed_jobs=failed,
        email_failures=mails,
        waiting_rooms=[(s, waiting.get(s, 0), inflight.get(s, 0)) for s in sorted({*waiting, *inflight})],
    )
