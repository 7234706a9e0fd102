"""The portal homes rendered in the gunicorn master before the fork (enrollment.warmup).

A real request after the warm-up must find every entry it needs (it adds
none), get the same page as a cold render, and see nothing of another
comune; a suspended comune is neither rendered nor let in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.test import Client

from core.tenancy import tenant_connection
from enrollment import warmup
from enrollment.selectors import LOCAL_CACHE
from tenants.models import Comune
from tenants.services import _forget_hosts as forget_hosts
from tests.conftest import PALOSCO_HOST, ROMANO_HOST


@pytest.fixture
def local() -> Iterator[object]:
    cache = caches[LOCAL_CACHE]
    cache.clear()
    yield cache
    cache.clear()


def _keys(cache: object) -> set[str]:
    return set(cache._cache)  # type: ignore[attr-defined]  # LocMemCache's own dict


def _page(host: str) -> str:
    response = Client(HTTP_HOST=host).get("/")
    assert response.status_code == 200
    # The CSRF token of the language form differs per request; nothing else may.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_a_request_after_the_warm_up_finds_every_entry_it_needs(palosco, romano, local) -> None:  # type: ignore[no-untyped-def]
    assert warmup.portal_homes_render(limit=10) == 2
    warmed = _keys(local)
    # The catalogue and the three fragments of each comune.
    assert len(warmed) == 8
    assert sum(1 for k in warmed if palosco.schema_name in k) == 4
    _page(PALOSCO_HOST)
    _page(ROMANO_HOST)
    assert _keys(local) == warmed, "the real requests rendered something the warm-up did not"


def test_the_warmed_page_is_the_cold_page(palosco, romano, local) -> None:  # type: ignore[no-untyped-def]
    cold = {host: _page(host) for host in (PALOSCO_HOST, ROMANO_HOST)}
    local.clear()  # type: ignore[attr-defined]
    warmup.portal_homes_render(limit=10)
    assert {host: _page(host) for host in (PALOSCO_HOST, ROMANO_HOST)} == cold
    assert "Palosco" in cold[PALOSCO_HOST] and "Romano di Lombardia" not in cold[PALOSCO_HOST]
    assert "Romano di Lombardia" in cold[ROMANO_HOST] and "Palosco" not in cold[ROMANO_HOST]


def test_the_limit_and_the_connection_left_on_public(palosco, romano, local) -> None:  # type: ignore[no-untyped-def]
    assert warmup.portal_homes_render(limit=1) == 1
    assert {k for k in _keys(local) if romano.schema_name in k} == set()
    assert warmup.portal_homes_render(limit=0) == 0
    assert tenant_connection().schema_name == "public"


def test_a_suspended_comune_is_not_rendered_and_still_refused(palosco, romano, local) -> None:  # type: ignore[no-untyped-def]
    Comune.objects.filter(pk=romano.pk).update(status=Comune.Status.SUSPENDED)
    forget_hosts([d.domain for d in romano.domains.all()])
    assert warmup.portal_homes_render(limit=10) == 1
    assert not any(romano.schema_name in k for k in _keys(local))
    assert Client(HTTP_HOST=ROMANO_HOST).get("/").status_code == 503


def test_a_comune_whose_home_fails_is_skipped(palosco, romano, local, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = warmup.portal_home

    def failing_for_palosco(request):  # type: ignore[no-untyped-def]
        if request.tenant.schema_name == palosco.schema_name:
            raise ValueError("a config the templates cannot show")
        return real(request)

    monkeypatch.setattr(warmup, "portal_home", failing_for_palosco)
    assert warmup.portal_homes_render(limit=10) == 1
    assert any(romano.schema_name in k for k in _keys(local))
    assert tenant_connection().schema_name == "public"
