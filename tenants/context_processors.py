"""Puts the current comune and its branding into every template."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tenants.models import Comune


def comune(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    if not isinstance(tenant, Comune) or tenant.schema_name == "public":
        return {"comune": None, "comune_settings": None, "comune_shell_version": "public"}
    # Names the shell's cached fragments (base.html); the cache key adds the schema.
    return {
        "comune": tenant,
        "comune_settings": tenant.settings,
        "comune_shell_version": tenant.shell_version,
    }
