"""The operators' console on the base host (public schema).

A separate AdminSite from the comuni's staff back office: each registers only
the models of its own side, so nothing public leaks into a comune's /admin/.
Every page needs an operator account that passed the TOTP step in this
session; comuni are changed only through the console's own pages, which call
tenants.services (the raw model pages are read-only).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse

from core.models import AuditEntry, OutgoingEmail
from core.views import request_as_get
from identity import ratelimit
from identity.forms import AdminLoginForm
from superadmin import views
from superadmin.access import operator_authenticated, second_factor_passed
from tenants.models import Comune, Domain


class OperatorAdminSite(admin.AdminSite):
    site_header = "Console operatori · Iscrizioni Scolastiche"
    site_title = "Console operatori"
    index_title = "Comuni e piattaforma"
    index_template = "superadmin/index.html"
    login_template = "superadmin/login.html"
    login_form = AdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        return second_factor_passed(request)

    def _second_factor_redirect(self, request: HttpRequest) -> HttpResponse:
        url = reverse(f"{self.name}:second_factor", current_app=self.name)
        return HttpResponseRedirect(f"{url}?{urlencode({'next': request.get_full_path()})}")

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Callable[..., Any]:
        inner = super().admin_view(view, cacheable)

        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if operator_authenticated(request) and not second_factor_passed(request):
                return self._second_factor_redirect(request)
            return inner(request, *args, **kwargs)

        wrapper.admin_site = self  # type: ignore[attr-defined]
        return update_wrapper(wrapper, view)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if operator_authenticated(request) and not second_factor_passed(request):
            return self._second_factor_redirect(request)
        if request.method != "POST":
            return super().login(request, extra_context)
        # The password step has the same lockout as every other login form
        # (identity.ratelimit: per user name and per IP, in the public schema).
        limit = ratelimit.limit_for(request, scope="operatori", identifier=request.POST.get("username", ""))
        if not ratelimit.attempt_reserve(limit):
            response = super().login(request_as_get(request), {**(extra_context or {}), "locked": True})
            response.status_code = 429
            return response
        response = super().login(request, extra_context)
        if operator_authenticated(request):
            ratelimit.attempt_succeeded(limit)
        else:
            ratelimit.attempt_failed(limit, request=request)
        return response

    def get_urls(self) -> list[Any]:
        own = self.admin_view
        urls = [
            path("secondo-fattore/", views.second_factor, name="second_factor"),
            path("secondo-fattore/esci/", views.second_factor_logout, name="second_factor_logout"),
            path("comuni/", own(views.comuni), name="comuni"),
            path("comuni/nuovo/", own(views.comune_onboard), name="comune_onboard"),
            path("comuni/<slug:slug>/", own(views.comune_detail), name="comune_detail"),
            path("comuni/<slug:slug>/configurazione/", own(views.comune_config), name="comune_config"),
            path(
                "comuni/<slug:slug>/configurazione.yaml",
                own(views.comune_config_export),
                name="comune_config_export",
            ),
            path("comuni/<slug:slug>/sospendi/", own(views.comune_suspend), name="comune_suspend"),
            path("comuni/<slug:slug>/riattiva/", own(views.comune_resume), name="comune_resume"),
            path("comuni/<slug:slug>/host/aggiungi/", own(views.comune_host_add), name="comune_host_add"),
            path(
                "comuni/<slug:slug>/host/rimuovi/", own(views.comune_host_remove), name="comune_host_remove"
            ),
            path("comuni/<slug:slug>/esporta/", own(views.comune_export), name="comune_export"),
            path("comuni/<slug:slug>/dismissione/", own(views.comune_offboard), name="comune_offboard"),
            path("salute/", own(views.health), name="health"),
        ]
        return urls + super().get_urls()


operator_site = OperatorAdminSite(name="operator_admin")


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Comune, site=operator_site)
class ComuneAdmin(_ReadOnly):
    list_display = ("display_name", "province", "schema_name", "status", "created_at")
    list_filter = ("status", "province")
    search_fields = ("name", "slug")
    inlines = [DomainInline]


@admin.register(AuditEntry, site=operator_site)
class AuditEntryAdmin(_ReadOnly):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "message")
    list_filter = ("action",)
    search_fields = ("actor_label", "action", "message", "object_id")


@admin.register(OutgoingEmail, site=operator_site)
class OutgoingEmailAdmin(_ReadOnly):
    list_display = ("created_at", "subject", "status", "attempts", "sent_at")
    list_filter = ("status",)
