"""Parents, codici fiscali and form data for the enrollment tests (built by tests/factories.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from enrollment.models import Service
from identity.models import Account
from tenants.models import Comune
from tests.conftest import host_of
from tests.factories import (
    GUARDIAN_CF,
    PUPIL_BIRTH,
    PUPIL_CF,
    SIBLING_BIRTH,
    SIBLING_CF,
    ParentFactory,
    guardian_data,
    make_cf,
    pupil_data,
)

__all__ = [
    "GUARDIAN_CF",
    "PUPIL_BIRTH",
    "PUPIL_CF",
    "SIBLING_BIRTH",
    "SIBLING_CF",
    "guardian_data",
    "make_cf",
    "parent_create",
    "pupil_data",
]


def parent_create(*, username: str = "PAL-000900", **fields: Any) -> Account:
    """The family's parent account (see `ParentFactory`), PAL-000900 unless told."""
    return ParentFactory.create(username=username, **fields)


def form_data(*, services: list[Service], pupil_cf: str = PUPIL_CF, **overrides: Any) -> dict[str, Any]:
    """The new-enrollment web form, complete, for `services`; an override of None drops a field."""
    pupil = pupil_data(codice_fiscale=pupil_cf, birth_date=PUPIL_BIRTH.isoformat())
    data: dict[str, Any] = {
        **{f"pupil_{k}": v for k, v in pupil.items()},
        **{f"guardian_{k}": v for k, v in guardian_data().items()},
        "services": [s.pk for s in services],
        "privacy": "on",
        "azione": "riepilogo",
    }
    for s in services:
        if s.code == "PRE":
            data["extra_PRE_motivo"] = "Orario di lavoro dei genitori"
        if s.code == "TRASPORTO":
            data["extra_TRASPORTO_fermata"] = "Via Dante 3"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def palosco_parent(in_palosco: Comune) -> Account:
    return parent_create()


@pytest.fixture
def romano_parent(in_romano: Comune) -> Account:
    return parent_create(username="ROM-000900")


def logged_in(comune: Comune, account: Account) -> Client:
    client = Client(HTTP_HOST=host_of(comune))
    with tenant_context(comune):
        client.force_login(account)
    return client


@pytest.fixture
def login() -> Callable[[Comune, Account], Client]:
    return logged_in


def service(code: str, year: str = "2025/2026") -> Service:
    return Service.objects.get(code=code, school_year=year)
