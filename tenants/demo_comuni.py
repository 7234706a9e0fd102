"""Synthetic comuni for benchmarks (`manage.py create_demo_comuni`): their configs.

They are real comuni, created through `comune_apply_config` like any other
(superadmin.operations.demo_comuni_create),
with slugs `demo0001`, `demo0002`, … on `<slug>.<BASE_DOMAIN>` and a small
catalogue.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from tenants.config import ComuneConfig
from tenants.models import Comune

DEMO_SLUG_RE = re.compile(r"^demo(\d{4})$")


def _school_year(now: datetime) -> tuple[int, int]:
    start = now.year if now.month >= 9 else now.year - 1
    return start, start + 1


def demo_config(number: int) -> ComuneConfig:
    slug = f"demo{number:04d}"
    start, end = _school_year(timezone.localtime())
    services = [
        {
            "code": code,
            "name": name,
            "school_year": f"{start}/{end}",
            "opens_at": f"{start}-05-01T09:00:00",
            "closes_at": f"{end}-06-30T23:59:59",
            "capacity": 50,
        }
        for code, name in (("MENSA", "REFEZIONE SCOLASTICA"), ("PRE", "PRE SCUOLA"), ("POST", "POST SCUOLA"))
    ]
    return ComuneConfig.model_validate(
        {
            "slug": slug,
            "name": f"Demo {number:04d}",
            "province": "Bergamo",
            "province_code": "BG",
            "hosts": [f"{slug}.{settings.BASE_DOMAIN}"],
            "identity": {"backends": ["credentials", "codice_fiscale"]},
            "services": services,
        }
    )


def next_demo_number() -> int:
    numbers = [
        int(m.group(1)) for s in Comune.objects.values_list("slug", flat=True) if (m := DEMO_SLUG_RE.match(s))
    ]
    return max(numbers, default=0) + 1
