"""The catalogue's sync rule: what a comune's YAML may still set on a service
once the office has edited it in the back office.

Used by `enrollment.services.service_catalogue_sync` (the YAML side) and by
the back office (its catalogue page and "Ripristina valori del file di
configurazione"); it imports neither, so the back office builds on the
parents' side and never the reverse.
"""

from __future__ import annotations

from typing import Any

from core.models import AuditEntry
from enrollment.models import Service


def service_staff_edited_fields(*, service: Service) -> set[str]:
    """Operational fields of `service` that staff changed in the back office.

    The audit log is the record: every staff edit writes the changed fields,
    and "Ripristina valori del file di configurazione" writes an entry that
    clears them.
    """
    fields: set[str] = set()
    entries = AuditEntry.objects.filter(
        object_type=Service._meta.label_lower,
        object_id=str(service.pk),
        action__in=("service.staff_updated", "service.staff_edits_cleared"),
    ).order_by("at", "id")
    for entry in entries.values_list("action", "data"):
        action, data = entry
        if action == "service.staff_edits_cleared":
            fields.clear()
        else:
            fields.update(data.get("fields", []))
    return fields


def catalogue_sync_values(*, service: Service, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The sync rule for an existing service: which YAML values to apply.

    Returns (values to apply, fields kept because staff changed them in the
    back office and the YAML says otherwise). `enrollment.services.service_catalogue_sync`
    calls this for each existing service and reports the kept fields.
    """
    edited = service_staff_edited_fields(service=service)
    apply = {f: v for f, v in values.items() if f not in edited}
    kept = sorted(f for f in edited if f in values and getattr(service, f) != values[f])
    return apply, kept
