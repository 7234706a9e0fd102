"""Positions created in bulk: one sending job per batch, one connection, retries of what is not done."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context
from procrastinate.contrib.django.models import ProcrastinateJob

from enrollment.backoffice.roles import AMMINISTRATORE
from enrollment.backoffice.services import enrollments_confirm_bulk
from enrollment.billing import enrollment_source
from enrollment.models import Enrollment
from payments.adapters import AdapterUnavailable, adapter_for
from payments.models import DebtPosition
from payments.services import (
    _position_data,
    payments_config,
    position_create,
    position_sync,
    positions_batched,
    positions_sync,
)
from tenants.models import Comune
from tests.factories import EnrollmentFactory, StaffFactory
from tests.jobs import run_pending_jobs
from tests.payments.conftest import ROMANO_CF, payments_configure
from tests.payments.gpd_server import GpdServer
from tests.payments.test_enrollment_debts import _cre_with_rate


def _create(n: int) -> DebtPosition:
    return position_create(
        source=f"enrollment:2025-{n:06d}",
        payer_codice_fiscale="RSSMRA80A01H501U",
        payer_name="Mario Rossi",
        description=f"MENSA 2025/2026 – Alunno {n}",
        amount=Decimal("120.00"),
        today=date(2099, 9, 1),
    )


def _batch_jobs() -> list[list[int]]:
    return [
        j.args["position_ids"]
        for j in ProcrastinateJob.objects.filter(task_name="payments.positions_send").order_by("id")
    ]


def test_positions_created_in_a_batch_get_one_job_per_batch_and_share_one_connection(
    gpd_romano: Comune, gpd_server: GpdServer
) -> None:
    with positions_batched(batch_size=2):
        positions = [_create(n) for n in range(1, 4)]
    assert _batch_jobs() == [[positions[0].pk, positions[1].pk], [positions[2].pk]]
    assert not ProcrastinateJob.objects.filter(task_name="payments.position_send").exists()
    assert gpd_server.state.positions == {}  # queued, not sent yet
    assert run_pending_jobs(task_name="payments.positions_send") == 2
    for position in positions:
        position.refresh_from_db()
        assert (position.status, position.sync, position.attempts) == ("aperta", "allineata", 1)
    assert len(gpd_server.state.positions) == 3
    # The first batch's two calls went over one keep-alive connection.
    assert len(gpd_server.state.clients) == 3
    assert gpd_server.state.clients[0] == gpd_server.state.clients[1]


def test_outside_a_batch_each_position_keeps_its_own_job(gpd_romano: Comune) -> None:
    position = _create(1)
    assert _batch_jobs() == []
    jobs = ProcrastinateJob.objects.filter(task_name="payments.position_send")
    assert [j.args["position_id"] for j in jobs] == [position.pk]


def test_a_batch_rolled_back_leaves_neither_positions_nor_jobs(gpd_romano: Comune) -> None:
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic(), positions_batched():
        _create(1)
        raise RuntimeError("rollback")
    assert not DebtPosition.objects.exists()
    assert _batch_jobs() == []


def test_a_batch_interrupted_by_an_outage_and_a_409_retries_only_what_is_not_done(
    gpd_romano: Comune, gpd_server: GpdServer
) -> None:
    first, second, third, fourth = positions = [_create(n) for n in range(1, 5)]
    ids = [p.pk for p in positions]
    # An earlier run sent the first; the second's create reached pagoPA but its answer was lost.
    position_sync(position_id=first.pk)
    with adapter_for(payments_config()) as adapter:
        adapter.create(_position_data(second))
    mark = len(gpd_server.state.requests)
    # pagoPA answers two more calls (the second's 409 and the GET confirming it), then goes down.
    gpd_server.state.up_for = 2
    with pytest.raises(AdapterUnavailable):
        positions_sync(position_ids=ids)
    gpd_server.state.down_for = 0
    for p in positions:
        p.refresh_from_db()
    assert (first.sync, first.attempts) == ("allineata", 1)
    assert (second.sync, second.status, second.attempts) == ("allineata", "aperta", 1)
    assert (third.sync, third.status, third.attempts) == ("da_inviare", "in_preparazione", 1)
    assert "503" in third.last_error
    assert (fourth.sync, fourth.attempts) == ("da_inviare", 0)
    # The retry of the whole batch calls pagoPA only for the third and the fourth.
    assert positions_sync(position_ids=ids) == 4
    base = f"/gpd/debt-positions-service/v1/organizations/{ROMANO_CF}/debtpositions"
    assert gpd_server.state.requests[mark:] == [
        ("POST", base),  # the second: 409
        ("GET", f"{base}/{second.iupd}"),  # it is there: done
        ("POST", base),  # the third: 503, the batch stops
        ("POST", base),  # the retry: the third
        ("POST", base),  # and the fourth; nothing for the first two
    ]
    for p in positions:
        p.refresh_from_db()
        assert (p.status, p.sync, p.remote_created) == ("aperta", "allineata", True)
    assert {iupd for _, iupd in gpd_server.state.positions} == {p.iupd for p in positions}
    assert (third.attempts, third.last_error) == (2, "")
    # A late duplicate of the job calls nobody.
    mark = len(gpd_server.state.requests)
    positions_sync(position_ids=ids)
    assert len(gpd_server.state.requests) == mark


def test_an_id_no_longer_in_the_table_is_skipped(gpd_romano: Comune, gpd_server: GpdServer) -> None:
    position = _create(1)
    assert positions_sync(position_ids=[position.pk + 1000, position.pk]) == 2
    assert len(gpd_server.state.requests) == 1
    position.refresh_from_db()
    assert position.sync == "allineata"


def test_bulk_confirmation_queues_one_job_per_batch_of_positions(
    palosco: Comune, gpd_server: GpdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("payments.services.SEND_BATCH", 2)
    comune = payments_configure(palosco, adapter="gpd", gpd_base_url=gpd_server.url)
    with tenant_context(comune):
        service = _cre_with_rate()
        rows = [
            EnrollmentFactory(service=service, status=Enrollment.Status.INVIATA, extra={"isee": "8000"})
            for _ in range(3)
        ]
        decided = EnrollmentFactory(service=service, status=Enrollment.Status.CONFERMATA)
        result = enrollments_confirm_bulk(enrollments=[*rows, decided], by=StaffFactory(role=AMMINISTRATORE))
        assert len(result.done) == 3 and len(result.skipped) == 1
        positions = [DebtPosition.objects.get(source=enrollment_source(e)) for e in rows]
        assert all(p.status == DebtPosition.Status.IN_PREPARAZIONE for p in positions)
        assert _batch_jobs() == [[positions[0].pk, positions[1].pk], [positions[2].pk]]
        assert not ProcrastinateJob.objects.filter(task_name="payments.position_send").exists()
        assert run_pending_jobs(task_name="payments.positions_send") == 2
        assert set(DebtPosition.objects.values_list("status", "sync")) == {("aperta", "allineata")}
        assert len(gpd_server.state.positions) == 3
