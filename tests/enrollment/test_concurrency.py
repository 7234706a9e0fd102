"""Concurrent submissions on real, separate connections (threads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection, transaction
from django_tenants.utils import schema_context

from core.models import AuditEntry, OutgoingEmail
from enrollment.models import Enrollment, Service
from enrollment.services import enrollment_submit
from identity.models import Account
from tests.concurrency import together
from tests.enrollment.conftest import (
    SIBLING_BIRTH,
    SIBLING_CF,
    guardian_data,
    parent_create,
    pupil_data,
    service,
)
from tests.factories import GuardianFactory, ParentFactory, PupilFactory, _fields, domanda_create


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


def test_a_burst_fills_exactly_the_capacity_and_queues_the_rest_in_submission_order(
    committed_palosco,
) -> None:
    capacity, parents = 4, 14
    with schema_context("palosco"):
        post = service("POST")
        post.capacity = capacity
        post.save()
        drafts = []
        for n in range(parents):
            email = f"burst{n}@example.org"
            account = ParentFactory.create(email=email)
            (row,) = domanda_create(
                account,
                [post],
                guardian=_fields(GuardianFactory, "account", {"email": email}),
                pupil=_fields(PupilFactory, "guardian", {}),
            )
            drafts.append((row.pk, account.pk))

    def submit(pk: int, account_pk: int) -> Callable[[], object]:
        def call() -> object:
            with schema_context("palosco"):
                # Each parent presses "Invia Iscrizione" twice: the second finds it sent.
                _submit(pk, account_pk)()
                return _submit(pk, account_pk)()

        return call

    together([submit(pk, account_pk) for pk, account_pk in drafts])
    with schema_context("palosco"):
        rows = list(Enrollment.objects.filter(service=post).order_by("submitted_at", "pk"))
        assert len(rows) == parents
        assert {r.status for r in rows} == {Enrollment.Status.INVIATA}
        placed = [r for r in rows if r.waiting_position is None]
        waiting = [r for r in rows if r.waiting_position is not None]
        assert len(placed) == capacity
        # Places and waiting-list positions follow the submission time, with no gap or repeat.
        assert rows[:capacity] == placed
        assert [r.waiting_position for r in rows[capacity:]] == list(range(1, parents - capacity + 1))
        assert len({r.submitted_at for r in rows}) == parents
        for r in rows:
            assert AuditEntry.objects.filter(action="enrollment.submitted", object_id=str(r.pk)).count() == 1
        receipts = OutgoingEmail.objects.filter(purpose="enrollment_submitted")
        letters = OutgoingEmail.objects.filter(purpose="credentials_letter")
        assert sorted(m.to[0] for m in receipts) == sorted(f"burst{n}@example.org" for n in range(parents))
        assert letters.count() == parents
        for r in waiting:
            body = receipts.get(to=[r.guardian.email]).body
            assert f"lista d'attesa in posizione {r.waiting_position}." in body


def test_reference_numbers_are_consecutive(in_palosco) -> None:
    """Also makes pytest-django create the test database for this module's committed tests."""
    from enrollment.services import reference_allocate

    assert [reference_allocate(year=2031) for _ in range(3)] == ["2031-000001", "2031-000002", "2031-000003"]


def test_two_forms_of_one_account_submitted_together_send_one_credentials_letter(committed_palosco) -> None:
    """Only the first submission sends the letter, and "first" holds for two parallel ones too.

    The test keeps the service locked until both submissions are waiting on a
    lock: without the claim on the account's row (identity.services.
    credentials_letter_claim) each would find no letter of the other, not yet
    committed, and both would send one.
    """
    with schema_context("palosco"):
        parent = parent_create(username="PAL-000993", email="due@example.org")
        first = _draft(parent)
        second = _draft(parent, codice_fiscale=SIBLING_CF, birth_date=SIBLING_BIRTH)
        assert first.domanda != second.domanda
    locked, waiting = threading.Event(), threading.Event()

    def hold_the_service() -> None:
        try:
            with schema_context("palosco"), transaction.atomic():
                list(Service.objects.select_for_update().filter(pk=first.service_id).values_list("pk"))
                locked.set()
                with connection.cursor() as cursor:
                    for _ in range(1200):  # until both submissions wait: on the service, or on the account
                        # pg_stat_activity is read once per transaction unless its snapshot is cleared.
                        cursor.execute("SELECT pg_stat_clear_snapshot()")
                        cursor.execute(
                            "SELECT count(*) FROM pg_stat_activity"
                            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        )
                        if cursor.fetchone()[0] >= 2:
                            waiting.set()
                            break
                        time.sleep(0.05)
        finally:
            locked.set()
            connection.close()

    holder = threading.Thread(target=hold_the_service)
    holder.start()
    locked.wait()
    errors = run_together(_submit(first.pk, parent.pk), _submit(second.pk, parent.pk))
    holder.join()
    assert errors == []
    assert waiting.is_set()
    with schema_context("palosco"):
        assert Enrollment.objects.filter(status=Enrollment.Status.INVIATA).count() == 2
        assert OutgoingEmail.objects.filter(purpose="enrollment_submitted").count() == 2
        (letter,) = OutgoingEmail.objects.filter(purpose="credentials_letter")
        assert letter.to == ["due@example.org"]
        assert letter.attachments[0]["params"]["account_id"] == parent.pk
        parent.refresh_from_db()
        assert parent.credentials_letter_at is not None
