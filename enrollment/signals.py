"""Keeps the comune's catalogue version in step with its services.

Every save or delete of a `Service` (back office, YAML sync, demo data,
factories) gives the comune a new `catalogue_version` in the same
transaction, so nothing cached under the old version is shown again.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name

from core.tenancy import current_schema
from enrollment.models import Service
from tenants.services import comune_catalogue_changed


@receiver(post_save, sender=Service, dispatch_uid="enrollment.catalogue_saved")
@receiver(post_delete, sender=Service, dispatch_uid="enrollment.catalogue_deleted")
def _catalogue_changed(sender: type[Service], **kwargs: Any) -> None:
    schema = current_schema()
    if schema != get_public_schema_name():
        comune_catalogue_changed(schema_name=schema)
