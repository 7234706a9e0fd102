"""`SET search_path` once per schema switch (TENANT_LIMIT_SET_CALLS), and never a stale one.

A rollback, or a rollback to a savepoint, undoes a SET issued inside it: the
next query must set the comune's schema again instead of running on
whatever path the rollback left.
"""

from __future__ import annotations

import pytest
from django.db import ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from enrollment.models import Service
from tenants.provisioning import schema_clone, template_schema_name


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
