"""Each process's copy of host → comune (tenants.host_cache), forgotten on PostgreSQL's notifications.

These tests commit (tests/committed.py): a notification is only delivered
for a committed write. "Another process" is a second psycopg connection of
the test, writing the rows as any other code or psql would; the waits are
for the notification's arrival, not bounds on how long it takes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY

from tenants import host_cache
from tenants.models import Comune
from tenants.services import comune_resume, comune_suspend
from tests.committed import committed_comuni  # noqa: F401 (fixture)
from tests.conftest import PALOSCO_HOST, ROMANO_HOST

AWAY = "palosco-prima.localhost"
ARRIVAL = 120.0  # seconds a notification may take on a loaded machine before the test gives up


@pytest.fixture
def local_hosts(settings, committed_comuni: dict[str, Comune]) -> Iterator[dict[str, Comune]]:  # noqa: F811
    settings.HOSTS_LOCAL_CACHE = True
    host_cache.stop()
    assert host_cache.wait_until(lambda s: s.listening, ARRIVAL)
    assert REGISTRY.get_sample_value("iscrizioni_host_cache_listening") == 1
    try:
        yield committed_comuni
    finally:
        # Its connection must be gone before the test database is dropped.
        host_cache.stop()


def _other_connection() -> psycopg.Connection[Any]:
    return psycopg.connect(**(host_cache._connect_kwargs() | {"application_name": "another process"}))


def _kept(host: str) -> bool:
    return host_cache.wait_until(lambda s: host in s.entries, 0)


def _forgotten(host: str) -> bool:
    return host_cache.wait_until(lambda s: host not in s.entries, ARRIVAL)


def test_the_channel_is_the_migrations(db) -> None:  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'tenants_comune_notify'")
        (source,) = cursor.fetchone()
    assert f"pg_notify('{host_cache.CHANNEL}'" in source


def test_a_comune_served_again_makes_no_query_to_find_it(local_hosts) -> None:  # type: ignore[no-untyped-def]
    palosco, romano = Client(HTTP_HOST=PALOSCO_HOST), Client(HTTP_HOST=ROMANO_HOST)
    with CaptureQueriesContext(connection) as first:
        assert palosco.get("/").status_code == 200
    assert any("tenants_domain" in q["sql"] for q in first.captured_queries)
    assert not any("iscrizioni_cache" in q["sql"] for q in first.captured_queries)
    romano.get("/")
    assert _kept(PALOSCO_HOST) and _kept(ROMANO_HOST)
    with CaptureQueriesContext(connection) as again:
        home = palosco.get("/")
    assert home.status_code == 200 and again.captured_queries == []
    assert home.wsgi_request.tenant.slug == "palosco"  # type: ignore[attr-defined]
    # Each host keeps its own comune.
    assert romano.get("/").wsgi_request.tenant.slug == "romanodilombardia"  # type: ignore[attr-defined]
    assert "Palosco" in home.content.decode() and "Romano" not in home.content.decode()


def test_a_comune_served_again_digests_its_config_no_more(local_hosts, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tenants import config

    palosco = Client(HTTP_HOST=PALOSCO_HOST)
    assert palosco.get("/").status_code == 200 and _kept(PALOSCO_HOST)
    digests: list[int] = []
    real = config.config_digest
    monkeypatch.setattr(config, "config_digest", lambda stored: digests.append(1) or real(stored))
    home = palosco.get("/")
    assert home.status_code == 200 and "Palosco" in home.content.decode()
    # The copy carries the digest the first lookup computed: not one JSON dump of the config.
    assert digests == []
    comune = home.wsgi_request.tenant  # type: ignore[attr-defined]
    before = (comune.config_digest, comune.shell_version)
    comune.config = comune.config | {"nome_portale": "Un altro nome"}  # a config assigned anew
    assert comune.config_digest == real(comune.config) and comune.shell_version != before[1]
    assert comune.config_digest != before[0] and digests == [1]


def test_a_suspension_committed_elsewhere_is_forgotten_and_answered(local_hosts) -> None:  # type: ignore[no-untyped-def]
    client = Client(HTTP_HOST=PALOSCO_HOST)
    assert client.get("/").status_code == 200
    assert _kept(PALOSCO_HOST)
    palosco_id = local_hosts["palosco"].pk
    with _other_connection() as other:
        other.execute("UPDATE tenants_comune SET status = 'sospeso' WHERE id = %s", [palosco_id])
        try:
            assert _forgotten(PALOSCO_HOST)
            assert client.get("/").status_code == 503
            # Romano was not named by the notification.
            assert Client(HTTP_HOST=ROMANO_HOST).get("/").status_code == 200
        finally:
            other.execute("UPDATE tenants_comune SET status = 'attivo' WHERE id = %s", [palosco_id])
    assert _forgotten(PALOSCO_HOST)
    assert client.get("/").status_code == 200


def test_a_host_taken_away_elsewhere_stops_answering(local_hosts) -> None:  # type: ignore[no-untyped-def]
    client = Client(HTTP_HOST=PALOSCO_HOST)
    assert client.get("/").status_code == 200
    with _other_connection() as other:
        other.execute("UPDATE tenants_domain SET domain = %s WHERE domain = %s", [AWAY, PALOSCO_HOST])
        try:
            assert _forgotten(PALOSCO_HOST)
            assert client.get("/").status_code == 404
        finally:
            other.execute("UPDATE tenants_domain SET domain = %s WHERE domain = %s", [PALOSCO_HOST, AWAY])
    # An unknown host is never kept: the restored one answers at once.
    assert client.get("/").status_code == 200


def test_a_change_made_here_is_forgotten_before_its_notification(local_hosts) -> None:  # type: ignore[no-untyped-def]
    client = Client(HTTP_HOST=PALOSCO_HOST)
    client.get("/")
    assert _kept(PALOSCO_HOST)
    palosco = Comune.objects.get(slug="palosco")
    with host_cache._current().lock:  # the listener cannot handle the notification meanwhile
        comune_suspend(comune=palosco, reason="prova")
        assert PALOSCO_HOST not in host_cache._current().entries
    try:
        assert client.get("/").status_code == 503
    finally:
        comune_resume(comune=palosco)
    assert client.get("/").status_code == 200


def test_a_lookup_that_a_change_overtook_is_not_kept(local_hosts) -> None:  # type: ignore[no-untyped-def]
    palosco = Comune.objects.get(slug="palosco")
    since = host_cache.generation()
    assert since is not None
    host_cache.forget_hosts(["altro.localhost"])  # what a notification does
    assert not host_cache.put(PALOSCO_HOST, palosco, since=since)
    assert not _kept(PALOSCO_HOST)
    assert host_cache.put(PALOSCO_HOST, palosco, since=host_cache.generation() or 0)
    assert _kept(PALOSCO_HOST)


def test_everything_and_nonsense_forget_everything(local_hosts) -> None:  # type: ignore[no-untyped-def]
    for payload in ("*", "non-un-numero"):
        Client(HTTP_HOST=PALOSCO_HOST).get("/")
        Client(HTTP_HOST=ROMANO_HOST).get("/")
        assert _kept(PALOSCO_HOST) and _kept(ROMANO_HOST)
        with _other_connection() as other:
            other.execute("SELECT pg_notify(%s, %s)", [host_cache.CHANNEL, payload])
        assert host_cache.wait_until(lambda s: not s.entries, ARRIVAL)


def test_a_lost_listener_forgets_everything_and_listens_again(local_hosts) -> None:  # type: ignore[no-untyped-def]
    client = Client(HTTP_HOST=PALOSCO_HOST)
    client.get("/")
    state = host_cache._current()
    assert _kept(PALOSCO_HOST) and state.connects == 1 and state.backend_pid is not None
    lost = REGISTRY.get_sample_value("iscrizioni_host_cache_connections_lost_total") or 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [state.backend_pid])
    # The entries went with the connection; a new one starts empty.
    assert host_cache.wait_until(lambda s: s.connects == 2 and s.listening, ARRIVAL)
    assert REGISTRY.get_sample_value("iscrizioni_host_cache_connections_lost_total") == lost + 1
    assert not _kept(PALOSCO_HOST)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert len(queries.captured_queries) == 1
    assert _kept(PALOSCO_HOST)


def test_while_nobody_listens_the_shared_cache_answers(local_hosts) -> None:  # type: ignore[no-untyped-def]
    state = host_cache._current()
    client = Client(HTTP_HOST=PALOSCO_HOST)
    client.get("/")
    with state.lock:
        state.listening = False  # as between a lost connection and the next
    try:
        assert host_cache.get(PALOSCO_HOST) is None and host_cache.generation() is None
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        assert [q["sql"] for q in queries.captured_queries if "iscrizioni_cache" in q["sql"]]
        assert not host_cache.put(PALOSCO_HOST, Comune.objects.get(slug="palosco"), since=state.generation)
    finally:
        with state.lock:
            state.listening = True


def test_the_copy_is_bounded_and_expires(local_hosts, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    palosco = Comune.objects.get(slug="palosco")
    monkeypatch.setattr(host_cache, "MAX_HOSTS", 2)
    for host in ("a.localhost", "b.localhost", "c.localhost"):
        assert host_cache.put(host, palosco, since=host_cache.generation() or 0)
    assert not _kept("a.localhost") and _kept("b.localhost") and _kept("c.localhost")
    monkeypatch.setattr(host_cache, "LOCAL_SECONDS", 0.0)
    assert host_cache.put("d.localhost", palosco, since=host_cache.generation() or 0)
    assert host_cache.get("d.localhost") is None
    assert host_cache.get("c.localhost") is not None


def test_a_forked_process_starts_afresh(local_hosts) -> None:  # type: ignore[no-untyped-def]
    Client(HTTP_HOST=PALOSCO_HOST).get("/")
    assert _kept(PALOSCO_HOST)
    child = os.fork()
    if child == 0:  # a gunicorn worker: neither the parent's entries nor its listener
        os._exit(0 if host_cache._state is None else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _kept(PALOSCO_HOST)
