"""Reads on comuni."""

from __future__ import annotations

from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from core.tenancy import current_schema, tenant_connection
from tenants.models import Comune


def comune_current() -> Comune:
    """The comune whose schema the connection is using (request or job).

    In a request django-tenants has already loaded it on the connection; a job
    has only switched the schema, so it is read by name.
    """
    tenant = getattr(tenant_connection(), "tenant", None)
    if isinstance(tenant, Comune):
        return tenant
    return Comune.objects.get(schema_name=current_schema())


def comuni() -> QuerySet[Comune]:
    """Every comune, whatever its status, without the platform's own record (the
    public schema), which has no comune tables: a job opened there fails on its
    first query."""
    return Comune.objects.exclude(schema_name=get_public_schema_name())


def comuni_active() -> QuerySet[Comune]:
    """The active comuni, for the periodic jobs that run once per comune."""
    return comuni().filter(status=Comune.Status.ACTIVE)


def comuni_list() -> QuerySet[Comune]:
    return comuni().prefetch_related("domains").order_by("name")
