"""The comune staff's back office at /admin/ on the comune's host."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditEntry
from enrollment.models import Enrollment, Service
from identity.models import Account


class StaffAdminSite(admin.AdminSite):
    site_header = "Gestione iscrizioni"
    site_title = "Gestione iscrizioni"
    index_title = "Servizi e iscrizioni"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and getattr(user, "kind", None) == Account.Kind.STAFF)


staff_site = StaffAdminSite(name="staff_admin")


@admin.register(Service, site=staff_site)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "school_year", "opens_at", "closes_at", "capacity")
    list_filter = ("school_year",)


@admin.register(AuditEntry, site=staff_site)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "message")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Enrollment, site=staff_site)
class EnrollmentAdmin(admin.ModelAdmin):
    """Read-only until the back office's actions (which go through
    enrollment.services) exist: no status is ever changed by a plain save."""

    list_display = ("reference", "pupil", "service", "school_year", "kind", "status", "waiting_position")
    list_filter = ("school_year", "service", "status", "kind")
    search_fields = ("reference", "pupil__last_name", "pupil__codice_fiscale", "guardian__last_name")
    list_select_related = ("pupil", "service")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
