"""Debt positions: codes, rate, the local and GPD adapters, outages, 409s, reconciliation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from core.models import AuditEntry
from payments.adapters import AdapterUnavailable
from payments.codes import codice_avviso_valid
from payments.errors import PaymentError
from payments.models import DebtPosition, Instalment
from payments.selectors import instalment_label
from payments.services import position_create, position_invalidate, position_sync, positions_reconcile
from tenants.models import Comune
from tenants.service_definition import FeeInstalment
from tests.jobs import run_pending_jobs
from tests.payments.conftest import ROMANO_CF
from tests.payments.gpd_server import GpdServer

TWO_RATE = [
    FeeInstalment(due_date=date(2099, 10, 31), share_percent=Decimal(50)),
    FeeInstalment(due_date=date(2100, 2, 28), share_percent=Decimal(50)),
]


def _create(**overrides: object) -> DebtPosition:
    data: dict[str, object] = {
        "source": "enrollment:2025-000001",
        "payer_codice_fiscale": "RSSMRA80A01H501U",
        "payer_name": "Mario Rossi",
        "description": "MENSA 2025/2026 – Luca Rossi",
        "amount": Decimal("120.00"),
        "instalments": TWO_RATE,
        "today": date(2099, 9, 1),
    }
    data.update(overrides)
    return position_create(**data)  # type: ignore[arg-type]


def test_codice_avviso_is_aux_digit_segregation_code_iuv_with_check_digits(local_romano: Comune) -> None:
    position = _create()
    for instalment in position.instalments.all():
        avviso = instalment.codice_avviso
        assert len(avviso) == 18 and avviso.isdigit()
        assert avviso == "3" + instalment.iuv
        assert avviso[1:3] == "01"  # the YAML's segregation code
        assert int(avviso[:16]) % 93 == int(avviso[16:])
        assert codice_avviso_valid(avviso)
        tampered = avviso[:5] + str((int(avviso[5]) + 1) % 10) + avviso[6:]
        assert not codice_avviso_valid(tampered)


def test_local_position_is_open_at_once_split_in_cents_and_created_once(local_romano: Comune) -> None:
    position = _create(amount=Decimal("100.01"))
    assert position.status == DebtPosition.Status.APERTA
    assert position.amount_cents == 10001
    rate = list(position.instalments.order_by("number"))
    assert [(i.amount_cents, i.due_date) for i in rate] == [
        (5001, date(2099, 10, 31)),
        (5000, date(2100, 2, 28)),
    ]
    assert instalment_label(rate[0], today=date(2099, 9, 1)) == "Da pagare"
    assert instalment_label(rate[0], today=date(2099, 11, 1)) == "Scaduto"
    again = _create(amount=Decimal("100.01"))
    assert again.pk == position.pk
    assert Instalment.objects.count() == 2
    assert not ProcrastinateJob.objects.filter(task_name="payments.position_send").exists()


def test_an_amount_too_small_for_its_rate_is_one_rata(local_romano: Comune) -> None:
    """0,02 € in four rate used to give rate of 1, 1, 1 and -1 cents (the last takes the rounding)."""
    quarters = [FeeInstalment(due_date=date(2099, 10, m), share_percent=Decimal(25)) for m in (1, 2, 3, 4)]
    position = _create(amount=Decimal("0.02"), instalments=quarters)
    assert list(position.instalments.values_list("number", "amount_cents", "due_date")) == [
        (1, 2, date(2099, 10, 1))
    ]
    # An amount that splits keeps its rate.
    other = _create(source="enrollment:2025-000002", amount=Decimal("0.04"), instalments=quarters)
    assert list(other.instalments.order_by("number").values_list("amount_cents", flat=True)) == [1, 1, 1, 1]


def test_amounts_are_never_float(local_romano: Comune) -> None:
    with pytest.raises(TypeError):
        _create(amount=120.0)
    with pytest.raises(PaymentError):
        _create(amount=Decimal("0.00"))


def test_a_rate_already_due_at_confirmation_gets_fifteen_days(local_romano: Comune) -> None:
    position = _create(today=date(2099, 10, 25))
    first = position.instalments.get(number=1)
    assert first.due_date == date(2099, 11, 9)


def test_gpd_position_is_queued_then_sent_with_the_spec_shape(
    gpd_romano: Comune, gpd_server: GpdServer
) -> None:
    position = _create()
    assert position.status == DebtPosition.Status.IN_PREPARAZIONE
    assert instalment_label(position.instalments.first(), today=date(2099, 9, 1)) == "In preparazione"  # type: ignore[arg-type]
    assert gpd_server.state.positions == {}
    assert run_pending_jobs(task_name="payments.position_send") == 1
    position.refresh_from_db()
    assert (position.status, position.sync, position.remote_created) == ("aperta", "allineata", True)
    remote = gpd_server.state.positions[(ROMANO_CF, position.iupd)]
    assert remote["status"] == "VALID"
    assert remote["fiscalCode"] == "RSSMRA80A01H501U"
    options = remote["paymentOption"]
    assert [o["amount"] for o in options] == [6000, 6000]
    assert {o["iuv"] for o in options} == set(position.instalments.values_list("iuv", flat=True))
    assert options[0]["transfer"][0]["category"] == "9/0201133IM/"
    assert options[0]["dueDate"].startswith("2099-10-31T23:59:59")


def test_outage_keeps_the_position_pending_and_a_retry_sends_it_once(
    gpd_romano: Comune, gpd_server: GpdServer
) -> None:
    position = _create()
    gpd_server.state.down_for = 2
    for _ in range(2):
        with pytest.raises(AdapterUnavailable):
            position_sync(position_id=position.pk)
    position.refresh_from_db()
    assert position.status == DebtPosition.Status.IN_PREPARAZIONE
    assert position.attempts == 2 and "503" in position.last_error
    position_sync(position_id=position.pk)
    position.refresh_from_db()
    assert position.status == DebtPosition.Status.APERTA and position.last_error == ""
    assert len(gpd_server.state.positions) == 1
    # A late duplicate job changes nothing and calls nobody.
    calls = len(gpd_server.state.requests)
    position_sync(position_id=position.pk)
    assert len(gpd_server.state.requests) == calls


def test_conflict_from_an_earlier_attempt_that_got_through_is_success(
    gpd_romano: Comune, gpd_server: GpdServer
) -> None:
    from payments.adapters import adapter_for
    from payments.services import _position_data, payments_config

    position = _create()
    # The first attempt reached pagoPA but its answer was lost (timeout).
    adapter_for(payments_config()).create(_position_data(position))
    position_sync(position_id=position.pk)
    position.refresh_from_db()
    assert (position.status, position.sync) == ("aperta", "allineata")
    assert len(gpd_server.state.positions) == 1
    assert (
        "GET",
        f"/gpd/debt-positions-service/v1/organizations/{ROMANO_CF}/debtpositions/{position.iupd}",
    ) in (gpd_server.state.requests)


def test_missing_subscription_key_is_an_error_for_staff_not_a_retry(
    gpd_romano: Comune, gpd_server: GpdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GPD_SUBSCRIPTION_KEY_TEST")
    position = _create()
    position_sync(position_id=position.pk)
    position.refresh_from_db()
    assert position.sync == DebtPosition.Sync.ERRORE
    assert "GPD_SUBSCRIPTION_KEY_TEST" in position.last_error


def test_invalidation_reaches_pagopa_and_a_paid_position_is_kept(
    gpd_romano: Comune, gpd_server: GpdServer
) -> None:
    position = _create()
    run_pending_jobs(task_name="payments.position_send")
    assert position_invalidate(source=position.source, reason="iscrizione respinta") is not None
    run_pending_jobs(task_name="payments.position_send")
    position.refresh_from_db()
    assert (position.status, position.sync) == ("annullata", "allineata")
    assert gpd_server.state.positions[(ROMANO_CF, position.iupd)]["status"] == "INVALID"
    assert set(position.instalments.values_list("status", flat=True)) == {"annullata"}
    # A new confirmation after the cancellation gets a new position.
    fresh = _create()
    assert fresh.pk != position.pk

    run_pending_jobs(task_name="payments.position_send")
    first = fresh.instalments.get(number=1)
    gpd_server.state.pay(ROMANO_CF, first.iuv)
    assert positions_reconcile() == 1
    assert position_invalidate(source=fresh.source, reason="ritiro") == fresh
    fresh.refresh_from_db()
    assert fresh.status == DebtPosition.Status.APERTA


def test_a_rata_paid_before_the_cancellation_reaches_pagopa_is_recorded(
    gpd_romano: Comune, gpd_server: GpdServer
) -> None:
    """The family pays rata 1 at a PSP while staff cancel, before its receipt arrives: pagoPA refuses
    the cancellation (409, partly paid). That used to count as "already invalid": the payment was
    never recorded, since the reconciliation reads only open positions (found by a review)."""
    position = _create()
    run_pending_jobs(task_name="payments.position_send")
    first = position.instalments.get(number=1)
    gpd_server.state.pay(ROMANO_CF, first.iuv, receipt="R-1")
    position_invalidate(source=position.source, reason="ritiro")
    run_pending_jobs(task_name="payments.position_send")
    position.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, first.receipt_id) == ("pagata", "R-1")
    assert (position.status, position.sync) == ("annullata", "errore")
    assert "non ha annullato la posizione: ha rate già pagate" in position.last_error
    assert gpd_server.state.positions[(ROMANO_CF, position.iupd)]["status"] != "INVALID"
    assert AuditEntry.objects.filter(action="payments.paid_cancelled").count() == 1


def test_reconciliation_records_payments_once(gpd_romano: Comune, gpd_server: GpdServer) -> None:
    position = _create()
    run_pending_jobs(task_name="payments.position_send")
    rate = list(position.instalments.order_by("number"))
    gpd_server.state.pay(ROMANO_CF, rate[0].iuv, receipt="R-1")
    assert positions_reconcile() == 1
    assert positions_reconcile() == 0
    rate[0].refresh_from_db()
    assert (rate[0].status, rate[0].receipt_id, rate[0].paid_amount_cents) == ("pagata", "R-1", 6000)
    assert instalment_label(rate[0]) == "Pagato"
    gpd_server.state.pay(ROMANO_CF, rate[1].iuv, receipt="R-2")
    gpd_server.state.down_for = 1
    with pytest.raises(AdapterUnavailable):
        positions_reconcile()
    assert positions_reconcile() == 1
    position.refresh_from_db()
    assert position.status == DebtPosition.Status.PAGATA
