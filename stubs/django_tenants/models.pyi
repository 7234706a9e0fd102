# django-tenants ships no types: without this stub its mixins are `Any`, and
# django-stubs cannot see tenants.models.Comune and Domain as models (their
# fields and managers untyped). Only what the project uses is declared; the
# rest of django_tenants stays untyped (ignore_missing_imports in pyproject).
from typing import Any, ClassVar

from django.db import models

class TenantMixin(models.Model):
    auto_drop_schema: ClassVar[bool]
    auto_create_schema: ClassVar[bool]
    clone_mode: ClassVar[str]
    schema_name = models.CharField(max_length=63)
    domain_url: str | None
    domain_subfolder: str | None

    # django-tenants puts `force_drop` first, where Model.delete has `using`.
    def delete(  # type: ignore[override]
        self, force_drop: bool = ..., *args: Any, **kwargs: Any
    ) -> tuple[int, dict[str, int]]: ...
    def create_schema(
        self, check_if_exists: bool = ..., sync_schema: bool = ..., verbosity: int = ...
    ) -> bool: ...
    def get_primary_domain(self) -> DomainMixin | None: ...
    def get_tenant_type(self) -> str: ...
    def get_base_schema(self) -> str | None: ...

class DomainMixin(models.Model):
    domain = models.CharField(max_length=253)
    # The runtime field points at settings.TENANT_MODEL, which is this one.
    tenant = models.ForeignKey("tenants.Comune", on_delete=models.CASCADE, related_name="domains")
    is_primary = models.BooleanField(default=True)
