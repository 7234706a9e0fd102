"""Suite-wide fixtures: a real PostgreSQL with both demo comuni provisioned.

The test database is migrated once; the template schema is built and every
`tenant_configs/*.yaml` is applied through the same code as `sync_tenants`.
Each test then runs in a transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from superadmin.operations import comune_apply_config
from tenants.config import config_load_files
from tenants.models import Comune
from tenants.provisioning import public_tenant_ensure, template_schema_migrate

PALOSCO_HOST = "palosco.localhost"
ROMANO_HOST = "romanodilombardia.localhost"
PUBLIC_HOST = "localhost"


def host_of(comune: Comune) -> str:
    """The portal host of one of the two demo comuni."""
    return PALOSCO_HOST if comune.slug == "palosco" else ROMANO_HOST


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        public_tenant_ensure()
        template_schema_migrate()
        paths = sorted(Path(settings.TENANT_CONFIG_DIR).glob("*.yaml"))
        for _path, cfg in config_load_files(paths):
            comune_apply_config(config=cfg)
        connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _reset_schema_and_cache() -> Iterator[None]:
    # The default shared state (cache, counters) is in PostgreSQL and rolls
    # back with each test; Redis (CACHE_URL=redis://...) keeps it.
    redis = isinstance(caches["default"], RedisCache)
    if redis:
        cache.clear()
    yield
    if redis:
        cache.clear()
    connection.set_schema_to_public()


@pytest.fixture
def palosco(db) -> Comune:  # type: ignore[no-untyped-def]
    return Comune.objects.get(slug="palosco")


@pytest.fixture
def romano(db) -> Comune:  # type: ignore[no-untyped-def]
    return Comune.objects.get(slug="romanodilombardia")


@pytest.fixture
def in_palosco(palosco: Comune) -> Iterator[Comune]:
    with tenant_context(palosco):
        yield palosco


@pytest.fixture
def in_romano(romano: Comune) -> Iterator[Comune]:
    with tenant_context(romano):
        yield romano


@pytest.fixture
def palosco_client(palosco: Comune) -> Client:
    return Client(HTTP_HOST=PALOSCO_HOST)


@pytest.fixture
def romano_client(romano: Comune) -> Client:
    return Client(HTTP_HOST=ROMANO_HOST)


@pytest.fixture
def public_client(db) -> Client:  # type: ignore[no-untyped-def]
    return Client(HTTP_HOST=PUBLIC_HOST)


pytest_plugins = ["tests.smtp", "tests.committed", "tests.payments.gpd_server", "tests.payments.io_server"]


@pytest.fixture(autouse=True)
def _documents_dir(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each test stores rendered PDFs and uploads in its own folders (files outlive a
    rolled-back transaction)."""
    settings.DOCUMENTS_DIR = tmp_path / "documenti"
    settings.UPLOADS_DIR = tmp_path / "allegati"
