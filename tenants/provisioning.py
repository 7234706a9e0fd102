"""Schemas: the migrated template every comune is cloned from.

Creating a comune clones `TENANT_BASE_SCHEMA` (tables, indexes and the rows
migrations put there) instead of running every migration again, so onboarding
takes about as long for the 500th comune as for the first.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_exists


def template_schema_name() -> str:
    return settings.TENANT_BASE_SCHEMA


def template_schema_migrate(*, verbosity: int = 0) -> None:
    """Create the template schema if missing and bring it to the latest migrations."""
    name = template_schema_name()
    if not schema_exists(name):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
    call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()


def public_tenant_ensure() -> None:
    """The base host is served by the public schema (platform site, operators)."""
    from tenants.models import Comune, Domain

    public, _ = Comune.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"slug": "piattaforma", "name": "Piattaforma", "province": "-"},
    )
    Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True})


def platform_migrate(*, verbosity: int = 0) -> None:
    """Public schema, then template, then every comune's schema."""
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
    public_tenant_ensure()
    template_schema_migrate(verbosity=verbosity)
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()
