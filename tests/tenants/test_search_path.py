"""`SET search_path` once per schema switch (TENANT_LIMIT_SET_CALLS), and never a stale one.

A rollback, or a rollback to a savepoint, undoes a SET issued inside it: the
next query must set the comune's schema again instead of running on
whatever path the rollback left.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import ProgrammingError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import get_public_schema_name, schema_context

from enrollment.models import Service
from tenants.models import Comune
from tenants.provisioning import schema_clone, template_schema_name
from tenants.services import HOSTS_CACHE, comune_suspend, host_cache_key
from tests.conftest import PALOSCO_HOST, ROMANO_HOST


def _current_schema() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return str(cursor.fetchone()[0])


def test_queries_in_one_schema_set_the_search_path_once(palosco, romano) -> None:
    with CaptureQueriesContext(connection) as queries:
        with schema_context("palosco"):
            for code in ("PRE", "POST", "MENSA"):
                Service.objects.filter(code=code).exists()
        with schema_context("romanodilombardia"):
            Service.objects.count()
            Service.objects.count()
    sets = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SET search_path")]
    assert sets == ['SET search_path = "palosco","public"', 'SET search_path = "romanodilombardia","public"']
    assert len(queries.captured_queries) == len(sets) + 5


@pytest.mark.parametrize("undo", ["savepoint", "error"])
def test_after_a_rollback_queries_still_run_in_the_comune_schema(palosco, romano, undo: str) -> None:
    with schema_context("romanodilombardia"):
        romano_ids = set(Service.objects.values_list("pk", "code"))
    with schema_context("palosco"):
        palosco_ids = set(Service.objects.values_list("pk", "code"))
        assert palosco_ids != romano_ids
        # The SET issued first inside the savepoint is undone with it.
        connection.search_path_set_schemas = None  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError), transaction.atomic():
            assert _current_schema() == "palosco"
            if undo == "error":
                with connection.cursor() as cursor, pytest.raises(ProgrammingError), transaction.atomic():
                    cursor.execute("SELECT * FROM no_such_table_anywhere")
            raise RuntimeError
        assert _current_schema() == "palosco"
        assert set(Service.objects.values_list("pk", "code")) == palosco_ids


def test_the_fast_clone_leaves_the_connection_in_its_comune(palosco, romano) -> None:
    # The clone runs raw `SET search_path` statements django-tenants does not see.
    with schema_context("palosco"):
        palosco_ids = set(Service.objects.values_list("pk", "code"))
        assert schema_clone(template=template_schema_name(), new="clonepath") is True
        assert _current_schema() == "palosco"
        assert set(Service.objects.values_list("pk", "code")) == palosco_ids
    with connection.cursor() as cursor:
        cursor.execute('DROP SCHEMA "clonepath" CASCADE')


def _sets(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SET search_path")]


def test_requests_to_the_comune_the_connection_serves_send_no_search_path(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    # The host lookup runs before any switch, on whatever path the connection has;
    # the comune's queries then run on the path the server already has.
    palosco_client, romano_client = Client(HTTP_HOST=PALOSCO_HOST), Client(HTTP_HOST=ROMANO_HOST)
    with schema_context("palosco"):
        palosco_codes = sorted(Service.objects.values_list("code", flat=True))
    with schema_context("romanodilombardia"):
        romano_codes = sorted(Service.objects.values_list("code", flat=True))
    assert palosco_codes != romano_codes

    def codes(client: Client) -> list[str]:
        response = client.get("/api/v1/services/", HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        return sorted(s["code"] for s in response.json()["results"])

    assert codes(romano_client) == romano_codes  # both hosts in the cache
    assert codes(palosco_client) == palosco_codes
    with CaptureQueriesContext(connection) as queries:
        assert codes(palosco_client) == palosco_codes
    assert _sets(queries) == []
    # Another comune: its path once, and its own rows, then the first comune's again.
    with CaptureQueriesContext(connection) as queries:
        assert codes(romano_client) == romano_codes
        assert codes(palosco_client) == palosco_codes
    assert _sets(queries) == [
        'SET search_path = "romanodilombardia","public"',
        'SET search_path = "palosco","public"',
    ]
    # A rollback undoes the path: the next request sets it again.
    transaction.savepoint_rollback(transaction.savepoint())
    with CaptureQueriesContext(connection) as queries:
        assert codes(palosco_client) == palosco_codes
    assert _sets(queries) == ['SET search_path = "palosco","public"']


@pytest.mark.parametrize("table", ["the shared cache", "tenants_comune", "tenants_domain"])
def test_the_host_lookups_tables_are_found_in_public_from_any_comune_path(palosco, romano, table) -> None:  # type: ignore[no-untyped-def]
    # The lookup runs on the path the last request left ("<comune>, public"):
    # in the shared cache, or in the tables themselves (tenants.host_cache).
    name = settings.CACHES["default"]["LOCATION"] if table == "the shared cache" else table
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = %s", [name])
        assert [row[0] for row in cursor.fetchall()] == [get_public_schema_name()]


def test_the_host_cache_has_the_public_schemas_keys_from_any_schema(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    hosts = caches[HOSTS_CACHE]
    with schema_context(get_public_schema_name()):
        public_key = cache.make_key(host_cache_key(PALOSCO_HOST))
    for schema in ("palosco", "romanodilombardia", get_public_schema_name()):
        with schema_context(schema):
            assert hosts.make_key(host_cache_key(PALOSCO_HOST)) == public_key


def test_a_suspension_made_from_a_comune_schema_shows_on_the_next_request(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    client = Client(HTTP_HOST=PALOSCO_HOST)
    assert client.get("/").status_code == 200
    with schema_context("romanodilombardia"):  # the lookup's keys do not depend on this
        comune_suspend(comune=Comune.objects.get(pk=palosco.pk), reason="prova")
    assert client.get("/").status_code == 503
