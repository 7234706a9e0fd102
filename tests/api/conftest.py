"""Tokens, API clients and JSON bodies for the API tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from enrollment.models import Enrollment, Service
from identity.models import Account
from tenants.models import Comune
from tests import factories
from tests.conftest import host_of
from tests.enrollment.conftest import (
    GUARDIAN_CF,
    PUPIL_BIRTH,
    PUPIL_CF,
    SIBLING_BIRTH,
    SIBLING_CF,
    guardian_data,
    parent_create,
    pupil_data,
    service,
)
from tests.factories import ApiTokenFactory

__all__ = [
    "GUARDIAN_CF",
    "PUPIL_CF",
    "SIBLING_BIRTH",
    "SIBLING_CF",
    "host_of",
    "parent_create",
    "service",
]


def api_client(comune: Comune, key: str | None = None) -> Client:
    extra = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return Client(HTTP_HOST=host_of(comune), **extra)


def token_for(comune: Comune, account: Account, device: str = "Telefono di prova") -> str:
    with tenant_context(comune):
        return ApiTokenFactory.create(account=account, device_name=device).key


def body(
    *, services: list[Service] | None = None, pupil_cf: str = PUPIL_CF, **overrides: Any
) -> dict[str, Any]:
    """A complete new-enrollment JSON body for the PRE service (or `services`)."""
    chosen = services if services is not None else [service("PRE")]
    data: dict[str, Any] = {
        "pupil": pupil_data(codice_fiscale=pupil_cf, birth_date=PUPIL_BIRTH.isoformat()),
        "guardian": guardian_data(),
        "services": [s.pk for s in chosen],
        "answers": {
            "PRE": {"motivo": "Orario di lavoro dei genitori"},
            "TRASPORTO": {"fermata": "Via Dante 3"},
        },
        "privacy_consent": True,
    }
    data.update(overrides)
    return data


def post(client: Client, url: str, data: Any = None, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        url, data if data is not None else {}, content_type="application/json", headers=headers
    )


def patch(client: Client, url: str, data: Any, **headers: str):  # type: ignore[no-untyped-def]
    return client.patch(url, data, content_type="application/json", headers=headers)


def last_year_confirmed(account: Account) -> Enrollment:
    """A confirmed 2024/2025 MENSA enrollment of Romano, renewable now."""
    romano_family = guardian_data(city="Romano di Lombardia", cap="24058")
    return factories.last_year_confirmed(account, "MENSA", guardian=romano_family, extra={})


@pytest.fixture
def palosco_parent(in_palosco: Comune) -> Account:
    return parent_create()


@pytest.fixture
def romano_parent(in_romano: Comune) -> Account:
    return parent_create(username="ROM-000900")


@pytest.fixture
def palosco_api(in_palosco: Comune, palosco_parent: Account) -> Client:
    return api_client(in_palosco, token_for(in_palosco, palosco_parent))


@pytest.fixture
def romano_api(in_romano: Comune, romano_parent: Account) -> Client:
    return api_client(in_romano, token_for(in_romano, romano_parent))


@pytest.fixture
def client_for() -> Callable[[Comune, Account], Client]:
    return lambda comune, account: api_client(comune, token_for(comune, account))
