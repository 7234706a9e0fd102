"""Concurrent submissions on real, separate connections (threads)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection
from django_tenants.utils import schema_context

from core.models import AuditEntry, OutgoingEmail
from enrollment.models import Enrollment
from enrollment.services import enrollment_submit
from identity.models import Account
from tests.enrollment.conftest import (
    SIBLING_BIRTH,
    SIBLING_CF,
    guardian_data,
    parent_create,
    pupil_data,
    service,
)
from tests.factories import domanda_create


def run_together(*calls: Callable[[], object]) -> list[BaseException]:
    """Start the calls on their own connections at the same instant; return their errors."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            with schema_context("palosco"):
                barrier.wait()
                call()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return errors


def _draft(account: Account, **pupil: object) -> Enrollment:
    return domanda_create(
        account, [service("POST")], guardian=guardian_data(email=account.email), pupil=pupil_data(**pupil)
    )[0]


def _submit(pk: int, account_pk: int) -> Callable[[], object]:
    def call() -> object:
        enrollment = Enrollment.objects.get(pk=pk)
        return enrollment_submit(enrollment=enrollment, by=Account.objects.get(pk=account_pk))

    return call


def test_double_submit_in_parallel_submits_once(committed_palosco) -> None:
    with schema_context("palosco"):
        parent = parent_create(username="PAL-000990")
        e = _draft(parent)
    errors = run_together(_submit(e.pk, parent.pk), _submit(e.pk, parent.pk), _submit(e.pk, parent.pk))
    assert errors == []
    with schema_context("palosco"):
        e.refresh_from_db()
        assert e.status == Enrollment.Status.INVIATA
        assert Enrollment.objects.count() == 1
        assert AuditEntry.objects.filter(action="enrollment.submitted", object_id=str(e.pk)).count() == 1
        assert OutgoingEmail.objects.filter(purpose="enrollment_submitted").count() == 1


def test_last_place_goes_to_one_of_two_parallel_submissions(committed_palosco) -> None:
    with schema_context("palosco"):
        post = service("POST")
        post.capacity = 1
        post.save()
        a_parent = parent_create(username="PAL-000991", email="a@example.org")
        b_parent = parent_create(username="PAL-000992", email="b@example.org")
        a = _draft(a_parent)
        b = _draft(b_parent, codice_fiscale=SIBLING_CF, birth_date=SIBLING_BIRTH)
    errors = run_together(_submit(a.pk, a_parent.pk), _submit(b.pk, b_parent.pk))
    assert errors == []
    with schema_context("palosco"):
        rows = list(Enrollment.objects.filter(pk__in=[a.pk, b.pk]))
        assert {r.status for r in rows} == {Enrollment.Status.INVIATA}
        assert sorted(r.waiting_position or 0 for r in rows) == [0, 1]


def test_reference_numbers_are_consecutive(in_palosco) -> None:
    """Also makes pytest-django create the test database for this module's committed tests."""
    from enrollment.services import reference_allocate

    assert [reference_allocate(year=2031) for _ in range(3)] == ["2031-000001", "2031-000002", "2031-000003"]
