"""The operators' console on the base host (public schema).

A separate AdminSite from the comuni's staff back office: each registers only
the models of its own side, so nothing public leaks into a comune's /admin/.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditEntry, OutgoingEmail
from identity.models import Account
from tenants.models import Comune, Domain


class OperatorAdminSite(admin.AdminSite):
    site_header = "Console operatori · Iscrizioni Scolastiche"
    site_title = "Console operatori"
    index_title = "Comuni e piattaforma"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and getattr(user, "kind", None) == Account.Kind.OPERATOR)


operator_site = OperatorAdminSite(name="operator_admin")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Comune, site=operator_site)
class ComuneAdmin(admin.ModelAdmin):
    list_display = ("display_name", "province", "schema_name", "status", "created_at")
    list_filter = ("status", "province")
    search_fields = ("name", "slug")
    readonly_fields = ("schema_name", "config", "config_hash", "created_at", "updated_at")
    inlines = [DomainInline]


@admin.register(AuditEntry, site=operator_site)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "message")
    list_filter = ("action",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutgoingEmail, site=operator_site)
class OutgoingEmailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "subject", "status", "attempts", "sent_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in OutgoingEmail._meta.fields]
