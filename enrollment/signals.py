"""Keeps the comune's catalogue version in step with its services.

Every save or delete of a `Service` (back office, YAML sync, demo data,
factories) gives the comune a new `catalogue_version` in the same
transaction, so nothing cached under the old version is shown again. A save
limited to fields the portal does not show from that cache (a counter, the
capacity) changes nothing there, and so leaves the comune's row alone: a
burst of submissions must not queue on it.

Also removes an upload's file when its row is deleted, after the commit.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name

from core.tenancy import current_schema
from enrollment.models import Service, Upload
from enrollment.uploads import upload_file_forget
from tenants.services import comune_catalogue_changed

# What enrollment/home.html shows of each service of `catalogue_on_offer`.
SHOWN_FIELDS = frozenset(
    {"name", "description", "school_year", "opens_at", "closes_at", "new_enrollments", "renewals", "fee_note"}
)


@receiver(post_save, sender=Service, dispatch_uid="enrollment.catalogue_saved")
@receiver(post_delete, sender=Service, dispatch_uid="enrollment.catalogue_deleted")
def _catalogue_changed(
    sender: type[Service], update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    if update_fields is not None and not SHOWN_FIELDS & update_fields:
        return
    schema = current_schema()
    if schema != get_public_schema_name():
        comune_catalogue_changed(schema_name=schema)


@receiver(post_delete, sender=Upload, dispatch_uid="enrollment.upload_deleted")
def _upload_deleted(sender: type[Upload], instance: Upload, **kwargs: Any) -> None:
    # A receiver, not a call in each service: rows also go by cascade (an
    # enrollment's retention, a draft removed, a family erased), and every
    # such path must take the file with it.
    upload_file_forget(upload_id=instance.id)
