"""The operators' console: the models it shows, all read-only.

Comuni are changed only through the console's own pages (superadmin/urls.py),
which call superadmin.operations and tenants.services.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditEntry, OutgoingEmail
from superadmin.site import operator_site
from tenants.models import Comune, Domain


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
