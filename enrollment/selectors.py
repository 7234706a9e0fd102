"""Reads on the catalogue and enrollments of the current comune."""

from __future__ import annotations

from django.db.models import QuerySet

from enrollment.models import Service


def services_catalogue() -> QuerySet[Service]:
    return Service.objects.order_by("-school_year", "name")
