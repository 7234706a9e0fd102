"""Fixtures of the payments tests: a comune with pagoPA configured, the local GPD server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from tenants.models import Comune
from tests.payments.gpd_server import GpdServer

ROMANO_CF = "00622580165"
PALOSCO_CF = "00681530168"


def payments_configure(comune: Comune, **overrides: Any) -> Comune:
    """Give `comune` a `payments:` block (as its YAML would), saved and reloaded."""
    config = dict(comune.config)
    config["payments"] = {
        "adapter": "local",
        "ente_codice_fiscale": PALOSCO_CF if comune.slug == "palosco" else ROMANO_CF,
        "segregation_code": "01",
        "tassonomia": "9/0201133IM/",
        "gpd_subscription_key_env": "GPD_SUBSCRIPTION_KEY_TEST",
        "callback_secret_env": "PAGOPA_CALLBACK_SECRET_TEST",
        **overrides,
    }
    Comune.objects.filter(pk=comune.pk).update(config=config)
    return Comune.objects.get(pk=comune.pk)


@pytest.fixture
def local_romano(romano: Comune) -> Iterator[Comune]:
    comune = payments_configure(romano)
    with tenant_context(comune):
        yield comune


@pytest.fixture
def gpd_romano(romano: Comune, gpd_server: GpdServer) -> Iterator[Comune]:
    comune = payments_configure(romano, adapter="gpd", gpd_base_url=gpd_server.url)
    with tenant_context(comune):
        yield comune


@pytest.fixture
def local_palosco(palosco: Comune) -> Iterator[Comune]:
    comune = payments_configure(palosco)
    with tenant_context(comune):
        yield comune
