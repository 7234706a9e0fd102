"""django-tenants' PostgreSQL backend, without re-sending a search path the server already has.

django-tenants forgets the path it set whenever the connection is pointed at
a schema, even the one it is on, so every request sent `SET search_path`
again before its first query (TENANT_LIMIT_SET_CALLS only spares repeats
within one pointing). Here, pointed at the schemas the server's path already
names, the connection keeps knowing it. django-tenants still forgets it on
close, rollback and savepoint rollback, which undo or end it; code that sets
the path with raw SQL calls `search_path_forget` (tenants.provisioning).
"""

from __future__ import annotations

from typing import Any

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper


class DatabaseWrapper(TenantDatabaseWrapper):
    def set_tenant(self, tenant: Any, include_public: bool = True) -> None:
        issued = self.search_path_set_schemas
        super().set_tenant(tenant, include_public)
        if issued is not None and issued == self._get_cursor_search_paths():
            self.search_path_set_schemas = issued

    def search_path_forget(self) -> None:
        """The server's path was changed behind django-tenants' back: the next cursor sets it again."""
        self.search_path_set_schemas = None
