"""Writes on the catalogue and on enrollments of the current comune."""

from __future__ import annotations

from django.db import transaction

from enrollment.models import Service
from tenants.config import ServiceConfig

SYNCED_FIELDS = (
    "name",
    "description",
    "opens_at",
    "closes_at",
    "capacity",
    "fee_note",
    "new_enrollments",
    "renewals",
)


def service_catalogue_sync(*, services: list[ServiceConfig]) -> list[str]:
    """Create or update the catalogue from the comune's config; never deletes.

    Returns one line per service created or changed.
    """
    changes: list[str] = []
    with transaction.atomic():
        existing = {(s.code, s.school_year): s for s in Service.objects.select_for_update()}
        for cfg in services:
            values = {f: getattr(cfg, f) for f in SYNCED_FIELDS}
            service = existing.get((cfg.code, cfg.school_year))
            if service is None:
                Service.objects.create(code=cfg.code, school_year=cfg.school_year, **values)
                changes.append(f"service {cfg.code} {cfg.school_year} created")
                continue
            changed = [f for f, v in values.items() if getattr(service, f) != v]
            if changed:
                for f in changed:
                    setattr(service, f, values[f])
                service.save()
                changes.append(f"service {cfg.code} {cfg.school_year} updated ({', '.join(changed)})")
    return changes
