"""A confirmed enrollment with a fee becomes a debt position; rejection and withdrawal cancel it."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings

from core import attachments
from core.models import OutgoingEmail
from enrollment.billing import enrollment_source
from enrollment.models import Enrollment, Service
from enrollment.services import (
    enrollment_confirm,
    enrollment_reject,
    enrollment_reopen,
    enrollment_withdraw,
    service_catalogue_sync,
)
from payments.models import DebtPosition
from tenants.config import ServiceConfig, config_parse
from tenants.models import Comune
from tests.factories import EnrollmentFactory, StaffFactory


def _cre_with_rate() -> Service:
    path = settings.BASE_DIR / "tenant_configs" / "palosco.yaml"
    config = config_parse(path.read_text(encoding="utf-8"), source=path.name)
    cre = next(s for s in config.services if s.code == "CRE").model_dump(mode="json")
    # Confirmed one by one here: a ranked service is confirmed only by publishing its graduatoria.
    cre["ranking"] = None
    cre["fees"]["instalments"] = [
        {"due_date": "2099-10-31", "share_percent": 40},
        {"due_date": "2100-01-31", "share_percent": 60},
    ]
    service_catalogue_sync(services=[ServiceConfig.model_validate(cre)])
    return Service.objects.get(code="CRE", school_year="2025/2026")


def _submitted(service: Service, isee: str = "8000") -> Enrollment:
    return EnrollmentFactory(service=service, status=Enrollment.Status.INVIATA, extra={"isee": isee})


def test_confirmation_creates_the_position_in_rate_and_mails_the_avviso(local_palosco: Comune) -> None:
    enrollment = _submitted(_cre_with_rate())
    staff = StaffFactory()
    enrollment_confirm(enrollment=enrollment, by=staff)
    position = DebtPosition.objects.get(source=enrollment_source(enrollment))
    assert position.amount_cents == 12000  # first ISEE band, 120.00
    assert position.payer_codice_fiscale == enrollment.guardian.codice_fiscale
    assert position.payer_account == enrollment.guardian.account
    assert position.description == "CENTRO RICREATIVO ESTIVO 2025/2026 – Luca Rossi"
    rate = list(position.instalments.order_by("number"))
    assert [(i.amount_cents, i.due_date) for i in rate] == [
        (4800, date(2099, 10, 31)),
        (7200, date(2100, 1, 31)),
    ]
    mail = OutgoingEmail.objects.get(purpose="enrollment_confirmed")
    assert mail.attachments == [{"document": "payments.avviso", "params": {"position_id": position.pk}}]
    assert "120,00 €" in mail.body and rate[0].codice_avviso in mail.body and "48,00 €" in mail.body
    name, pdf, mimetype = attachments.render(mail.attachments[0])
    assert (name, mimetype) == (f"avviso-pagamento-{rate[0].codice_avviso}.pdf", "application/pdf")
    assert pdf.startswith(b"%PDF")


def test_reopening_keeps_the_position_and_confirming_again_reuses_it(local_palosco: Comune) -> None:
    enrollment = _submitted(_cre_with_rate())
    staff = StaffFactory()
    enrollment_confirm(enrollment=enrollment, by=staff)
    enrollment_reopen(enrollment=enrollment, by=staff)
    enrollment_confirm(enrollment=enrollment, by=staff)
    assert DebtPosition.objects.filter(source=enrollment_source(enrollment)).count() == 1


@pytest.mark.parametrize("how", ["reject", "withdraw"])
def test_rejection_or_withdrawal_after_reopening_cancels_the_position(
    local_palosco: Comune, how: str
) -> None:
    enrollment = _submitted(_cre_with_rate())
    staff = StaffFactory()
    enrollment_confirm(enrollment=enrollment, by=staff)
    enrollment_reopen(enrollment=enrollment, by=staff)
    if how == "reject":
        enrollment_reject(enrollment=enrollment, by=staff, reason="Posti esauriti")
    else:
        enrollment_withdraw(enrollment=enrollment, by=enrollment.guardian.account)
    position = DebtPosition.objects.get(source=enrollment_source(enrollment))
    assert position.status == DebtPosition.Status.ANNULLATA
    assert set(position.instalments.values_list("status", flat=True)) == {"annullata"}


def test_free_services_get_no_position(local_palosco: Comune) -> None:
    pre = EnrollmentFactory(status=Enrollment.Status.INVIATA)  # PRE has no fee
    enrollment_confirm(enrollment=pre, by=StaffFactory())
    assert not DebtPosition.objects.exists()


def test_a_comune_without_payments_gets_no_position(in_palosco: Comune) -> None:
    enrollment = _submitted(_cre_with_rate())
    enrollment_confirm(enrollment=enrollment, by=StaffFactory())
    assert not DebtPosition.objects.exists()
    assert "avviso" not in OutgoingEmail.objects.get(purpose="enrollment_confirmed").body
