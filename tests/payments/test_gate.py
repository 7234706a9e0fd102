"""Enrollment gated on expired unpaid debts (block_if_unpaid), and the staff's audited exception."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from core.models import AuditEntry
from enrollment.errors import EnrollmentError
from enrollment.models import Enrollment, Service
from enrollment.services import enrollments_submit, service_catalogue_sync
from payments.errors import PaymentError
from payments.services import gate_exception_grant, position_create, receipt_record
from tenants.config import ServiceConfig, config_parse
from tenants.models import Comune
from tests.enrollment.conftest import GUARDIAN_CF, parent_create
from tests.factories import StaffFactory, domanda_create


def _trasporto_blocking() -> Service:
    path = settings.BASE_DIR / "tenant_configs" / "romanodilombardia.yaml"
    config = config_parse(path.read_text(encoding="utf-8"), source=path.name)
    data = next(s for s in config.services if s.code == "TRASPORTO" and s.school_year == "2025/2026")
    dumped = data.model_dump(mode="json")
    dumped["fees"]["block_if_unpaid"] = True
    service_catalogue_sync(services=[ServiceConfig.model_validate(dumped)])
    return Service.objects.get(code="TRASPORTO", school_year="2025/2026")


def _old_debt(cf: str = GUARDIAN_CF) -> None:
    position = position_create(
        source="pregresso:1",
        payer_codice_fiscale=cf,
        payer_name="Mario Rossi",
        description="MENSA 2024/2025 – Luca Rossi",
        amount=Decimal("45.00"),
    )
    position.instalments.update(due_date=date(2025, 5, 31))


def _draft(service: Service) -> list[Enrollment]:
    return domanda_create(parent_create(username="ROM-000920"), [service])


def test_expired_debt_blocks_submission_naming_what_is_owed_and_how_to_pay(local_romano: Comune) -> None:
    service = _trasporto_blocking()
    _old_debt()
    rows = _draft(service)
    with pytest.raises(EnrollmentError) as exc:
        enrollments_submit(enrollments=rows, by=rows[0].guardian.account)
    assert exc.value.code == "unpaid_debts"
    message = exc.value.message
    assert "45,00 €" in message and "MENSA 2024/2025 – Luca Rossi" in message and "31/05/2025" in message
    assert "Pagamenti" in message and "Servizi scolastici e culturali" in message
    assert Enrollment.objects.get(pk=rows[0].pk).status == Enrollment.Status.BOZZA


def test_once_paid_the_family_may_submit(local_romano: Comune) -> None:
    service = _trasporto_blocking()
    _old_debt()
    rows = _draft(service)
    from payments.models import Instalment

    debt = Instalment.objects.get(position__source="pregresso:1")
    receipt_record(
        iuv=debt.iuv, receipt_id="R-9", amount_cents=4500, paid_at=timezone.now(), channel="pagoPA"
    )
    (row,) = enrollments_submit(enrollments=rows, by=rows[0].guardian.account)
    assert row.status == Enrollment.Status.INVIATA


def test_staff_exception_with_reason_lets_the_family_submit_and_is_audited(local_romano: Comune) -> None:
    service = _trasporto_blocking()
    _old_debt()
    rows = _draft(service)
    staff = StaffFactory()
    with pytest.raises(PaymentError):
        gate_exception_grant(
            codice_fiscale=GUARDIAN_CF,
            service_code="TRASPORTO",
            school_year="2025/2026",
            reason=" ",
            by=staff,
        )
    gate_exception_grant(
        codice_fiscale=GUARDIAN_CF, service_code="TRASPORTO", school_year="2025/2026",
        reason="Piano di rientro concordato", by=staff,
    )  # fmt: skip
    (row,) = enrollments_submit(enrollments=rows, by=rows[0].guardian.account)
    assert row.status == Enrollment.Status.INVIATA
    entry = AuditEntry.objects.get(action="payments.gate_exception")
    assert entry.actor == staff and "Piano di rientro" in entry.message


def test_debts_not_yet_due_or_of_others_and_services_without_the_flag_do_not_block(
    local_romano: Comune,
) -> None:
    service = _trasporto_blocking()
    _old_debt(cf="VRDLCU79A08H509Q")  # another family
    position_create(
        source="enrollment:x",
        payer_codice_fiscale=GUARDIAN_CF,
        payer_name="Mario Rossi",
        description="MENSA 2025/2026",
        amount=Decimal("10.00"),
        today=timezone.localdate() + timedelta(days=1),
    )
    rows = _draft(service)
    (row,) = enrollments_submit(enrollments=rows, by=rows[0].guardian.account)
    assert row.status == Enrollment.Status.INVIATA
