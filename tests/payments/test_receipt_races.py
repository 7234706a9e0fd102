"""Receipts committed at the same moment as another receipt or a cancellation (real connections).

Each receipt locks its position before its rata (payments.services.receipt_record), in the order
position_invalidate locks them. Before, it locked only its rata: two rate paid together both found
the other unpaid and left the position "aperta" forever, and a cancellation that had read no paid
rata overwrote the rata just paid with "annullata" (the money gone from the books).
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django_tenants.utils import tenant_context

import payments.services as services
from payments.models import DebtPosition, Instalment
from payments.services import position_create, receipt_record
from tenants.models import Comune
from tenants.service_definition import FeeInstalment
from tests.concurrency import together, until_another_waits_on_a_lock
from tests.payments.conftest import payments_configure


def _two_rate_position(source: str) -> DebtPosition:
    return position_create(
        source=source,
        payer_codice_fiscale="RSSMRA80A01H501U",
        payer_name="Mario Rossi",
        description=f"MENSA 2025/2026 – {source}",
        amount=Decimal("120.00"),
        instalments=[
            FeeInstalment(due_date=date(2099, 10, 31), share_percent=Decimal(50)),
            FeeInstalment(due_date=date(2100, 2, 28), share_percent=Decimal(50)),
        ],
        today=date(2099, 9, 1),
    )


def test_db_is_the_test_database(db) -> None:  # the committed fixture needs one `db` test in the module
    assert connection.settings_dict["NAME"].startswith("test_")


def test_two_rate_paid_at_the_same_moment_close_the_position(committed_comuni, monkeypatch) -> None:
    romano = committed_comuni["romanodilombardia"]
    old_config = dict(romano.config)
    comune = payments_configure(romano)
    try:
        with tenant_context(comune):
            position = _two_rate_position("enrollment:RACE-1")
            rate = list(position.instalments.order_by("number"))

        # The first to reach the audit write (after its "all paid?" read) waits there for the other.
        first_in, second_in, gate = threading.Event(), threading.Event(), threading.Lock()
        original = services.audit_record

        def audit_after_both_checked(**kwargs):
            with gate:
                first = not first_in.is_set()
                (first_in if first else second_in).set()
            if first:
                until_another_waits_on_a_lock(or_else=second_in)
            return original(**kwargs)

        monkeypatch.setattr(services, "audit_record", audit_after_both_checked)

        def pay(rata: Instalment, receipt: str):
            def call():
                with tenant_context(Comune.objects.get(pk=comune.pk)):
                    return receipt_record(
                        iuv=rata.iuv,
                        receipt_id=receipt,
                        amount_cents=rata.amount_cents,
                        paid_at=datetime.fromisoformat("2099-10-01T10:00:00+02:00"),
                        channel="test",
                    ).changed

            return call

        results = together([pay(rate[0], "RACE-R1"), pay(rate[1], "RACE-R2")])
        with tenant_context(comune):
            position.refresh_from_db()
            statuses = list(position.instalments.values_list("status", flat=True))
        assert results == [True, True]
        assert statuses == ["pagata", "pagata"]
        assert position.status == DebtPosition.Status.PAGATA
    finally:
        with tenant_context(comune):
            DebtPosition.objects.filter(source="enrollment:RACE-1").delete()
        Comune.objects.filter(pk=romano.pk).update(config=old_config)


def test_a_receipt_committing_while_staff_cancel_is_not_overwritten(committed_comuni, monkeypatch) -> None:
    """Staff reject/withdraw while pagoPA's receipt for rata 1 is being recorded."""
    from payments.services import position_invalidate

    romano = committed_comuni["romanodilombardia"]
    old_config = dict(romano.config)
    comune = payments_configure(romano)
    try:
        with tenant_context(comune):
            position = _two_rate_position("enrollment:RACE-2")
            rata = position.instalments.get(number=1)

        receipt_written = threading.Event()
        original = services.audit_record

        def slow_audit(**kwargs):
            if kwargs.get("action") == "payments.paid":
                receipt_written.set()  # rata 1 already "pagata" in this open transaction
                # Until the cancellation waits: on the position now, on the rata's row before.
                until_another_waits_on_a_lock()
            return original(**kwargs)

        monkeypatch.setattr(services, "audit_record", slow_audit)

        def pay():
            with tenant_context(Comune.objects.get(pk=comune.pk)):
                return receipt_record(
                    iuv=rata.iuv,
                    receipt_id="RACE2-R1",
                    amount_cents=rata.amount_cents,
                    paid_at=datetime.fromisoformat("2099-10-01T10:00:00+02:00"),
                    channel="test",
                ).changed

        def cancel():
            receipt_written.wait()
            with tenant_context(Comune.objects.get(pk=comune.pk)):
                return position_invalidate(source="enrollment:RACE-2", reason="iscrizione respinta").status

        results = together([pay, cancel])
        with tenant_context(comune):
            position.refresh_from_db()
            rata.refresh_from_db()
        # The cancellation waited for the receipt, saw the rata paid and kept the position.
        assert results == [True, DebtPosition.Status.APERTA]
        assert (rata.status, rata.receipt_id) == (Instalment.Status.PAGATA, "RACE2-R1")
        assert position.status == DebtPosition.Status.APERTA
    finally:
        with tenant_context(comune):
            DebtPosition.objects.filter(source="enrollment:RACE-2").delete()
        Comune.objects.filter(pk=romano.pk).update(config=old_config)
