"""Reads on the catalogue and enrollments of the current comune."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from enrollment.models import Service


def services_catalogue() -> QuerySet[Service]:
    return Service.objects.order_by("-school_year", "name")


def services_on_offer(*, at: datetime | None = None) -> QuerySet[Service]:
    """Services whose enrollment window is open or still to come (portal home)."""
    return Service.objects.filter(closes_at__gt=at or timezone.now()).order_by(
        "-school_year", "opens_at", "name"
    )
