"""Schemas: the migrated template every comune is cloned from.

Creating a comune clones `TENANT_BASE_SCHEMA` (tables, indexes and the rows
migrations put there) instead of running every migration again, with
`schema_clone` (below), so onboarding takes about as long for the 500th
comune as for the first.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_exists

from core.tenancy import tenant_connection, to_public


def template_schema_name() -> str:
    return settings.TENANT_BASE_SCHEMA


def template_schema_migrate(*, verbosity: int = 0) -> None:
    """Create the template schema if missing and bring it to the latest migrations."""
    name = template_schema_name()
    if not schema_exists(name):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
    if migrations_missing([name])[name]:
        call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=verbosity)
    to_public()


def public_tenant_ensure() -> None:
    """The base host is served by the public schema (platform site, operators)."""
    from tenants.models import Comune, Domain

    public, _ = Comune.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"slug": "piattaforma", "name": "Piattaforma", "province": "-"},
    )
    Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True})


# --- migrating many schemas ---------------------------------------------------
#
# django-tenants' `migrate_schemas` runs Django's whole migrate command in every
# schema, about 0.75 s each even when there is nothing to do: 12 minutes for
# 1,000 comuni. Every schema records every app's migrations (the router skips
# the operations, not the record), so comparing each schema's django_migrations
# with the migrations on disk, in one query per few hundred schemas, tells
# which schemas are behind; only those are migrated, in parallel.

# Schemas per UNION ALL statement: one statement plans in a few milliseconds
# per schema, and a few hundred keep it well under PostgreSQL's limits.
MIGRATIONS_CHUNK = 400


def migrations_on_disk() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def schemas_with_tables(schemas: list[str], tables: list[str]) -> list[str]:
    """Those of `schemas` that exist and hold every one of `tables`, in their order (one catalogue
    query): a statement over many schemas reads only these, so one schema dropped by hand or a
    migration behind cannot fail it."""
    if not schemas:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
            "WHERE n.nspname = ANY(%s) AND c.relname = ANY(%s) AND c.relkind IN ('r', 'p') "
            "GROUP BY n.nspname HAVING count(DISTINCT c.relname) = %s",
            [list(schemas), list(tables), len(set(tables))],
        )
        present = {row[0] for row in cursor.fetchall()}
    return [s for s in schemas if s in present]


def migrations_missing(schemas: list[str], *, expected: set[tuple[str, str]] | None = None) -> dict[str, int]:
    """How many migrations on disk each schema has not recorded (0: up to date).

    A schema without a django_migrations table (or without the schema itself)
    misses all of them.
    """
    expected = migrations_on_disk() if expected is None else expected
    names = sorted(f"{app}.{name}" for app, name in expected)
    missing = dict.fromkeys(schemas, len(names))
    if not schemas:
        return missing
    recorded = schemas_with_tables(schemas, ["django_migrations"])
    with connection.cursor() as cursor:
        for i in range(0, len(recorded), MIGRATIONS_CHUNK):
            chunk = recorded[i : i + MIGRATIONS_CHUNK]
            arms = " UNION ALL ".join(
                f"(SELECT %s, count(*) FROM {quote_name(schema)}.django_migrations m "  # noqa: S608
                "WHERE m.app || '.' || m.name = ANY(%s))"
                for schema in chunk
            )
            cursor.execute(arms, [p for schema in chunk for p in (schema, names)])
            for schema, applied in cursor.fetchall():
                missing[schema] = len(names) - int(applied)
    return missing


@dataclass
class MigrateReport:
    """What `platform_migrate` did: the schemas it migrated, and how many were already up to date."""

    migrated: list[str] = field(default_factory=list)
    up_to_date: int = 0
    seconds: float = 0.0


def _migrate_options(verbosity: int) -> dict[str, Any]:
    # The options `manage.py migrate_schemas --tenant` would parse: django-tenants'
    # executors hand them to Django's migrate command in every schema.
    from django_tenants.management.commands.migrate_schemas import Command as MigrateSchemas

    parser = MigrateSchemas().create_parser("manage.py", "migrate_schemas")
    options = vars(parser.parse_args(["--tenant", "--noinput", f"--verbosity={verbosity}"]))
    options["skip_checks"] = True
    return options


def schemas_migrate(schemas: list[str], *, verbosity: int = 0) -> None:
    """Run the migrations of `schemas` (comuni), in parallel processes when several
    (TENANT_MULTIPROCESSING_MAX_PROCESSES, one per CPU by default).

    django-tenants' own multiprocessing executor, except that its pool is
    closed and joined here (it leaves it running).
    """
    from django.db import connections
    from django_tenants.migration_executors.base import run_migrations
    from django_tenants.migration_executors.multiproc import get_pool, run_migrations_percent

    options = _migrate_options(verbosity)
    if len(schemas) == 1:
        run_migrations([], options, "standard", schemas[0])
    elif schemas:
        # Forked children must not share the parent's database socket.
        connections.close_all()
        pool = get_pool()
        try:
            pool.map(
                functools.partial(run_migrations_percent, [], options, "multiprocessing", len(schemas)),
                enumerate(schemas),
                settings.TENANT_MULTIPROCESSING_CHUNKS,
            )
        finally:
            pool.close()
            pool.join()
    to_public()


def schemas_migrate_behind(
    schemas: list[str], *, expected: set[tuple[str, str]] | None = None, verbosity: int = 0
) -> list[str]:
    """Migrate those of `schemas` (comuni) that miss a migration on disk; returns them, in order."""
    missing = migrations_missing(schemas, expected=expected)
    behind = [schema for schema in schemas if missing[schema]]
    schemas_migrate(behind, verbosity=verbosity)
    return behind


def platform_migrate(*, verbosity: int = 0) -> MigrateReport:
    """Public schema, then template, then the comuni's schemas that are behind.

    Schemas already at the migrations on disk are not touched, so a release
    with nothing to migrate takes seconds whatever the number of comuni.
    """
    from tenants.models import Comune

    started = time.perf_counter()
    report = MigrateReport()
    public = get_public_schema_name()
    expected = migrations_on_disk()
    if migrations_missing([public], expected=expected)[public]:
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        report.migrated.append(public)
    else:
        report.up_to_date += 1
    public_tenant_ensure()
    template = template_schema_name()
    if migrations_missing([template], expected=expected)[template]:
        template_schema_migrate(verbosity=verbosity)
        report.migrated.append(template)
    else:
        report.up_to_date += 1
    comuni = list(Comune.objects.exclude(schema_name=public).values_list("schema_name", flat=True))
    comuni.sort()
    behind = schemas_migrate_behind(comuni, expected=expected, verbosity=verbosity)
    report.migrated.extend(behind)
    report.up_to_date += len(comuni) - len(behind)
    report.seconds = time.perf_counter() - started
    return report


# --- fast clone ---------------------------------------------------------------
#
# django-tenants' clone_schema() is a PL/pgSQL function that scans the system
# catalogs; its time grows with the number of schemas in the database
# (measured here: ~0.3 s with 2 comuni, ~1.1 s with 130). The clone below
# reads the template's structure once per process (and again only after the
# template is migrated) and replays it as plain DDL, which costs the same for
# the 1st and the 1000th comune. Templates holding objects it does not copy
# (views, triggers, functions, own types, policies, serial sequences,
# storage options) fall back to django-tenants' clone.


@dataclass(frozen=True)
class ClonePlan:
    version: tuple[int, int]
    tables: list[str]
    columns: dict[str, list[str]]
    identities: list[tuple[str, str]]
    constraints: list[str]
    indexes: list[str]
    foreign_keys: list[str]
    # Free sequences (e.g. the codice utente counter), created fresh from their start.
    sequences: list[str]


_plans: dict[str, ClonePlan | None] = {}

_UNSUPPORTED = (
    "SELECT count(*) FROM pg_class WHERE relnamespace = %(ns)s AND relkind NOT IN ('r', 'i', 'S')",
    "SELECT count(*) FROM pg_class WHERE relnamespace = %(ns)s AND relkind = 'r' AND reloptions IS NOT NULL",
    # Sequences owned by a serial column: LIKE would copy a default pointing at
    # the template's sequence. (Identity columns and free sequences are copied.)
    "SELECT count(*) FROM pg_class s WHERE s.relnamespace = %(ns)s AND s.relkind = 'S' AND EXISTS "
    "(SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
    "AND d.objid = s.oid AND d.deptype = 'a')",
    "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE c.relnamespace = %(ns)s AND NOT t.tgisinternal",
    "SELECT count(*) FROM pg_proc WHERE pronamespace = %(ns)s",
    "SELECT count(*) FROM pg_type WHERE typnamespace = %(ns)s AND typrelid = 0 AND typtype <> 'b'",
    "SELECT count(*) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = %(ns)s",
)


def _template_version(cursor: Any, template: str) -> tuple[int, int]:
    cursor.execute(f"SELECT count(*), coalesce(max(id), 0) FROM {quote_name(template)}.django_migrations")  # noqa: S608
    count, last = cursor.fetchone()
    return int(count), int(last)


def _clone_plan_read(cursor: Any, template: str, version: tuple[int, int]) -> ClonePlan | None:
    cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [template])
    ns = cursor.fetchone()[0]
    for sql in _UNSUPPORTED:
        cursor.execute(sql, {"ns": ns})
        if cursor.fetchone()[0]:
            return None
    # Unqualified names in the constraint definitions: they resolve in the
    # new schema when replayed there.
    cursor.execute(f"SET search_path TO {quote_name(template)}")
    cursor.execute(
        "SELECT oid, relname FROM pg_class WHERE relnamespace = %s AND relkind = 'r' ORDER BY relname", [ns]
    )
    tables = cursor.fetchall()
    oids = [oid for oid, _ in tables]
    columns: dict[str, list[str]] = {name: [] for _, name in tables}
    identities = []
    cursor.execute(
        "SELECT c.relname, a.attname, a.attidentity "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
        "ORDER BY c.relname, a.attnum",
        [oids],
    )
    for table, column, identity in cursor.fetchall():
        columns[table].append(column)
        if identity:
            identities.append((table, column))
    cursor.execute(
        "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid WHERE k.conrelid = ANY(%s) "
        "ORDER BY c.relname, k.contype, k.conname",
        [oids],
    )
    constraints: list[str] = []
    foreign_keys: list[str] = []
    for table, name, kind, definition in cursor.fetchall():
        statement = f"ALTER TABLE {quote_name(table)} ADD CONSTRAINT {quote_name(name)} {definition}"
        (foreign_keys if kind == "f" else constraints).append(statement)
    # pg_get_indexdef always qualifies the table: make it relative.
    cursor.execute(
        "SELECT replace(pg_get_indexdef(i.indexrelid), "
        "' ON ' || quote_ident(%s) || '.' || quote_ident(c.relname) || ' ', "
        "' ON ' || quote_ident(c.relname) || ' ') "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "WHERE i.indrelid = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
        "WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid) ORDER BY 1",
        [template, oids],
    )
    indexes = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT c.relname, format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax, "
        "s.seqstart, s.seqcache, s.seqcycle FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
        "WHERE c.relnamespace = %s AND NOT EXISTS (SELECT 1 FROM pg_depend d "
        "WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('i', 'a')) "
        "ORDER BY c.relname",
        [ns],
    )
    sequences = [
        f"CREATE SEQUENCE {quote_name(name)} AS {kind} INCREMENT BY {inc} MINVALUE {low} MAXVALUE {high} "
        f"START WITH {start} CACHE {cache} {'CYCLE' if cycle else 'NO CYCLE'}"
        for name, kind, inc, low, high, start, cache, cycle in cursor.fetchall()
    ]
    if any(f" ON {quote_name(template)}." in d or f" ON {template}." in d for d in indexes):
        return None
    return ClonePlan(
        version=version,
        tables=[name for _, name in tables],
        columns=columns,
        identities=identities,
        constraints=constraints,
        indexes=indexes,
        foreign_keys=foreign_keys,
        sequences=sequences,
    )


def schema_clone(*, template: str, new: str) -> bool:
    """Create schema `new` as a copy of `template` (structure and rows).

    Returns False, having done nothing, when the template holds objects this
    clone does not copy; the caller then uses django-tenants' clone.
    """
    # The raw `SET search_path` below bypasses django-tenants, which sets the
    # path once per switch (TENANT_LIMIT_SET_CALLS) and not again for the
    # schemas it last set (core.postgresql_backend): give the connection its
    # tenant back and make the next cursor set the path again.
    previous = tenant_connection().tenant
    try:
        with connection.cursor() as cursor:
            version = _template_version(cursor, template)
            plan = _plans.get(template)
            if plan is None or plan.version != version:
                plan = _clone_plan_read(cursor, template, version)
                _plans[template] = plan
            if plan is None:
                return False
            src = quote_name(template)
            cursor.execute(f"CREATE SCHEMA {quote_name(new)}")
            cursor.execute(f"SET search_path TO {quote_name(new)}")
            for statement in plan.sequences:
                cursor.execute(statement)
            for table in plan.tables:
                cursor.execute(
                    f"CREATE TABLE {quote_name(table)} (LIKE {src}.{quote_name(table)} "
                    "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED "
                    "INCLUDING STORAGE INCLUDING COMMENTS)"
                )
            for table in plan.tables:
                cols = ", ".join(quote_name(c) for c in plan.columns[table])
                cursor.execute(
                    f"INSERT INTO {quote_name(table)} ({cols}) SELECT {cols} FROM {src}.{quote_name(table)}"  # noqa: S608
                )
            for table, column in plan.identities:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), "  # noqa: S608
                    f"coalesce(max({quote_name(column)}), 0) + 1, false) FROM {quote_name(table)}",
                    [f"{quote_name(new)}.{quote_name(table)}", column],
                )
            for statement in (*plan.constraints, *plan.indexes, *plan.foreign_keys):
                cursor.execute(statement)
    finally:
        tenant_connection().search_path_forget()
        tenant_connection().set_tenant(previous)
    return True


def quote_name(name: str) -> str:
    return connection.ops.quote_name(name)
