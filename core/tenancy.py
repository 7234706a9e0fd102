"""The tenant side of the database connection, typed.

django-tenants swaps Django's connection for one that knows the current
schema; Django's stubs cannot know that. Code reads and switches the schema
through these functions, so the cast lives in one place.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from django.db import connection


class _TenantConnection(Protocol):
    schema_name: str
    tenant: Any

    def set_schema_to_public(self) -> None: ...

    def set_schema(self, schema_name: str, include_public: bool = True) -> None: ...

    def set_tenant(self, tenant: Any, include_public: bool = True) -> None: ...

    def search_path_forget(self) -> None: ...


def tenant_connection() -> _TenantConnection:
    return cast(_TenantConnection, connection)


def public_cache_key(key: str, key_prefix: str, version: int) -> str:
    """django-tenants' cache key as made on the public schema, whatever schema the connection is on."""
    # Imported here: settings import this module (core.logs) before django-tenants can be.
    from django_tenants.utils import get_public_schema_name

    return f"{get_public_schema_name()}:{key_prefix}:{version}:{key}"


def current_schema() -> str:
    """The schema this request or job is working in (``public`` outside any comune)."""
    return tenant_connection().schema_name


def to_public() -> None:
    tenant_connection().set_schema_to_public()


def to_schema(schema_name: str) -> None:
    tenant_connection().set_schema(schema_name)
