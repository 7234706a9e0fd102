"""Host → comune resolution, with the unknown-host and suspended pages."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware

from core.tenancy import to_public
from tenants.models import Comune, Domain
from tenants.services import host_cache_key

HOST_CACHE_SECONDS = 60


class ComuneMiddleware(TenantMainMiddleware):
    """django-tenants' middleware with a cached lookup and our own error pages.

    The cache key is made while the connection is on the public schema, so it
    is the same for every process sharing the cache; services that change a
    comune's hosts or status delete it (tenants.services._forget_hosts).
    """

    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Comune:
        key = host_cache_key(hostname)
        tenant = cache.get(key)
        if tenant is None:
            tenant = super().get_tenant(domain_model, hostname)
            cache.set(key, tenant, HOST_CACHE_SECONDS)
        return tenant

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        html = render_to_string("tenants/unknown_host.html", {"hostname": hostname})
        return HttpResponse(html, status=404)

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        response = super().process_request(request)
        if response is not None:
            return response
        tenant = getattr(request, "tenant", None)
        if isinstance(tenant, Comune) and tenant.schema_name != "public" and tenant.is_suspended:
            html = render_to_string("tenants/suspended.html", {"comune": tenant}, request=None)
            to_public()
            return HttpResponse(html, status=503, headers={"Retry-After": "3600"})
        return None
