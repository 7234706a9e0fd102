"""Reads on comuni."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.models import Comune


def comuni_list() -> QuerySet[Comune]:
    return Comune.objects.exclude(schema_name="public").prefetch_related("domains").order_by("name")
