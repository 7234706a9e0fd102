"""Shared state on both backends: PostgreSQL (default) and Redis (CACHE_URL=redis://)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context

from core import shared_state


@pytest.fixture(params=["postgresql", "redis"])
def backend(request, settings, db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379/7",
                "KEY_FUNCTION": "django_tenants.cache.make_key",
                "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
            }
        }
        cache.clear()
    yield request.param
    if request.param == "redis":
        cache.clear()


def test_counter_counts_per_comune_and_clears(backend: str, palosco, romano) -> None:  # type: ignore[no-untyped-def]
    with schema_context("palosco"):
        assert [shared_state.counter_incr("c", window=60) for _ in range(3)] == [1, 2, 3]
        shared_state.counter_decr("c")
        assert shared_state.counter_get("c") == 2
    with schema_context("romanodilombardia"):
        assert shared_state.counter_get("c") == 0
        assert shared_state.counter_incr("c", window=60) == 1
    with schema_context("palosco"):
        shared_state.counter_delete("c")
        assert shared_state.counter_get("c") == 0


def test_counter_says_when_it_restarts(backend: str, palosco, romano) -> None:  # type: ignore[no-untyped-def]
    with schema_context("palosco"):
        assert shared_state.counter_seconds_left("w") == 0
        shared_state.counter_incr("w", window=60)
        shared_state.counter_incr("w", window=60)  # the window runs from the first increment
        assert 0 < shared_state.counter_seconds_left("w") <= 60
    with schema_context("romanodilombardia"):
        assert shared_state.counter_seconds_left("w") == 0


def test_mark_is_set_once_per_comune(backend: str, palosco, romano) -> None:  # type: ignore[no-untyped-def]
    with schema_context("palosco"):
        assert shared_state.mark_add("m", ttl=60)
        assert not shared_state.mark_add("m", ttl=60)
        assert shared_state.mark_exists("m")
    with schema_context("romanodilombardia"):
        assert not shared_state.mark_exists("m")
        assert shared_state.mark_add("m", ttl=60)


def test_backend_is_the_one_configured(backend: str) -> None:
    assert shared_state._uses_redis() == (backend == "redis")


def test_counters_go_up_together_each_on_its_own_window(backend: str, palosco, romano) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with schema_context("palosco"):
        shared_state.counter_incr("ip", window=60)
        with CaptureQueriesContext(connection) as queries:
            # Given out of the keys' order: the rows are still written in it.
            assert shared_state.counters_incr({"user": 1, "ip": 60}) == {"user": 1, "ip": 2}
        assert len(queries) == (0 if backend == "redis" else 1)
        assert shared_state.counters_incr({}) == {}
        assert shared_state.counter_get("ip") == 2
        assert 0 < shared_state.counter_seconds_left("user") <= 1 < shared_state.counter_seconds_left("ip")
    with schema_context("romanodilombardia"):
        assert shared_state.counters_incr({"user": 60, "ip": 60}) == {"user": 1, "ip": 1}
