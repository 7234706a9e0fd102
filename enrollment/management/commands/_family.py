"""Shared lookup of the GDPR commands: a comune by slug, a family by code."""

from __future__ import annotations

from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from enrollment.models import Guardian
from enrollment.selectors import guardian_by_code
from tenants.models import Comune


def comune_and_family(slug: str, code: str) -> tuple[Comune, Guardian]:
    comune = Comune.objects.filter(slug=slug).first()
    if comune is None:
        raise CommandError(f"Nessun comune con slug «{slug}».")
    with schema_context(comune.schema_name):
        guardian = guardian_by_code(code=code)
    if guardian is None:
        raise CommandError(
            f"Nel {comune.display_name} nessun genitore ha codice fiscale o codice utente «{code}»."
        )
    return comune, guardian
