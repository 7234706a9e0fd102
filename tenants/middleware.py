"""Host → comune resolution, with the unknown-host and suspended pages; the waiting room's gate."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import render
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_tenant_domain_model

from core.tenancy import tenant_connection, to_public
from tenants import host_cache, waiting_room
from tenants.config import WaitingRoom
from tenants.models import Comune, Domain
from tenants.services import HOSTS_CACHE, host_cache_key

HOST_CACHE_SECONDS = 60


class ComuneMiddleware(TenantMainMiddleware):
    """django-tenants' middleware with a cached lookup and our own error pages.

    The host is looked up in the shared "hosts" cache before the connection
    is pointed anywhere: its keys are the public schema's whatever schema the
    connection is on, so they are the same for every process, and services
    that change a comune's hosts or status delete them
    (tenants.services._forget_hosts). django-tenants first points the
    connection at the public schema, which cost a `SET search_path` for the
    lookup and another for the comune on every request; now a request to the
    comune the connection last served sends none (core.postgresql_backend).

    In front of it, while its listener runs, this process's own copy
    (tenants.host_cache): a request to a comune the process served in the
    last minute makes no query at all to find it.
    """

    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Comune:
        if host_cache.enabled():
            kept = host_cache.get(hostname)
            if kept is not None:
                return kept
            since = host_cache.generation()
            if since is not None:
                # Read from the tables, not the shared cache: a shared entry
                # may predate a change whose notification already came. They
                # are only in public, which ends every path: no SET needed.
                tenant: Comune = super().get_tenant(domain_model, hostname)
                host_cache.put(hostname, tenant, since=since)
                return tenant
        hosts = caches[HOSTS_CACHE]
        key = host_cache_key(hostname)
        tenant = hosts.get(key)
        if tenant is None:
            to_public()
            tenant = super().get_tenant(domain_model, hostname)
            hosts.set(key, tenant, HOST_CACHE_SECONDS)
        return tenant

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        html = render_to_string("tenants/unknown_host.html", {"hostname": hostname})
        return HttpResponse(html, status=404)

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        # django-tenants' steps, with the lookup before any switch (class docstring).
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            to_public()
            return HttpResponseNotFound()
        domain_model = get_tenant_domain_model()
        try:
            tenant = self.get_tenant(domain_model, hostname)
        except domain_model.DoesNotExist:
            to_public()
            return self.no_tenant_found(request, hostname)
        tenant.domain_url = hostname
        request.tenant = tenant  # type: ignore[attr-defined]
        tenant_connection().set_tenant(tenant)
        self.setup_url_routing(request)
        if tenant.schema_name != "public" and tenant.is_suspended:
            html = render_to_string("tenants/suspended.html", {"comune": tenant}, request=None)
            to_public()
            return HttpResponse(html, status=503, headers={"Retry-After": "3600"})
        return None


class WaitingRoomMiddleware:
    """The comune's waiting room (tenants.waiting_room), when its YAML turns it on.

    After AuthenticationMiddleware: a signed-in parent is inside and staff are
    never held. Off (the default), it costs nothing: no query is made.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        comune = getattr(request, "tenant", None)
        if not isinstance(comune, Comune) or comune.schema_name == "public":
            return self.get_response(request)
        room = comune.settings.waiting_room
        if not room.enabled or request.path.startswith(tuple(settings.WAITING_ROOM_EXEMPT_PATHS)):
            return self.get_response(request)
        user = request.user
        if user.is_authenticated and user.is_staff:
            return self.get_response(request)
        schema = comune.schema_name
        inside = user.is_authenticated or waiting_room.pass_valid(
            request.COOKIES.get(waiting_room.PASS_COOKIE), schema_name=schema, room=room
        )
        ticket_id = None
        if inside:
            inflight_id = waiting_room.request_enter(schema_name=schema)
        else:
            ticket_id = waiting_room.ticket_read(
                request.COOKIES.get(waiting_room.TICKET_COOKIE), schema_name=schema
            )
            if ticket_id is None:
                turn = waiting_room.arrival(schema_name=schema, room=room)
            else:
                turn = waiting_room.ticket_turn(schema_name=schema, room=room, ticket_id=ticket_id)
            if not turn.admitted:
                return self._waiting_page(request, comune, room, turn)
            assert turn.inflight_id is not None
            inflight_id = turn.inflight_id
        try:
            response = self.get_response(request)
        finally:
            waiting_room.request_leave(inflight_id=inflight_id)
        # Re-signed on every request: the pass lapses only after pass_minutes idle.
        response.set_cookie(
            waiting_room.PASS_COOKIE,
            waiting_room.pass_value(schema_name=schema),
            max_age=room.pass_minutes * 60,
            **_cookie_flags(),
        )
        if ticket_id is not None or waiting_room.TICKET_COOKIE in request.COOKIES:
            response.delete_cookie(waiting_room.TICKET_COOKIE, samesite="Lax")
        return response

    def _waiting_page(
        self, request: HttpRequest, comune: Comune, room: WaitingRoom, turn: waiting_room.Turn
    ) -> HttpResponse:
        assert turn.ticket_id is not None
        minutes = max(1, math.ceil(turn.wait_seconds / 60))
        manual = request.GET.get("aggiornamento") == "manuale"
        response = render(
            request,
            "tenants/waiting_room.html",
            {
                "turn": turn,
                "minutes": minutes,
                "refresh_seconds": room.refresh_seconds,
                "stale_seconds": room.refresh_seconds * waiting_room.STALE_AFTER_REFRESHES,
                "manual": manual,
                # One leading slash: "//evil.example/" would make its links leave the comune's host.
                "path": "/" + request.path.lstrip("/"),
            },
        )
        response.set_cookie(
            waiting_room.TICKET_COOKIE,
            waiting_room.ticket_value(schema_name=comune.schema_name, ticket_id=turn.ticket_id),
            max_age=24 * 60 * 60,
            **_cookie_flags(),
        )
        response["Cache-Control"] = "no-store"
        return response


def _cookie_flags() -> dict[str, Any]:
    # No Domain: like the session, a pass stays on the host that issued it.
    return {"secure": settings.SESSION_COOKIE_SECURE, "httponly": True, "samesite": "Lax"}
