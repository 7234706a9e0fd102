"""The receipts' callback: signed, for this ente, recorded once; everything else refused and logged."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from core.models import AuditEntry
from payments.models import Instalment
from payments.receipts import signature
from payments.services import position_create
from tenants.models import Comune
from tests.conftest import host_of
from tests.payments.conftest import ROMANO_CF

SECRET = "segreto-di-prova-romano"


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PAGOPA_CALLBACK_SECRET_TEST", SECRET)
    return SECRET


def _instalment() -> Instalment:
    position = position_create(
        source="enrollment:2025-000010",
        payer_codice_fiscale="RSSMRA80A01H501U",
        payer_name="Mario Rossi",
        description="MENSA 2025/2026 – Luca Rossi",
        amount=Decimal("75.50"),
    )
    return position.instalments.get()


def _post(comune: Comune, body: dict[str, object], *, key: str | None) -> tuple[int, dict[str, object]]:
    raw = json.dumps(body).encode()
    headers = {"HTTP_X_SIGNATURE": signature(raw, key)} if key else {}
    response = Client(HTTP_HOST=host_of(comune)).post(
        "/pagamenti/ricevute/", data=raw, content_type="application/json", **headers
    )
    return response.status_code, response.json()


def _body(instalment: Instalment, **overrides: object) -> dict[str, object]:
    return {
        "organizationFiscalCode": ROMANO_CF,
        "iuv": instalment.iuv,
        "idReceipt": "RCPT-0001",
        "amount": instalment.amount_cents,
        "paymentDate": "2025-10-01T10:15:00+02:00",
        "pspCompany": "Banca di Prova",
        **overrides,
    }


def test_a_signed_receipt_marks_the_rata_paid_and_a_duplicate_changes_nothing(
    local_romano: Comune, secret: str
) -> None:
    instalment = _instalment()
    assert _post(local_romano, _body(instalment), key=secret) == (200, {"esito": "OK", "registrata": True})
    instalment.refresh_from_db()
    assert (instalment.status, instalment.paid_amount_cents, instalment.receipt_id) == (
        "pagata",
        7550,
        "RCPT-0001",
    )
    assert instalment.position.status == "pagata"
    paid_at = instalment.paid_at
    assert _post(local_romano, _body(instalment), key=secret) == (200, {"esito": "OK", "registrata": False})
    instalment.refresh_from_db()
    assert instalment.paid_at == paid_at
    assert AuditEntry.objects.filter(action="payments.paid").count() == 1


@pytest.mark.parametrize(
    ("key", "overrides", "status"),
    [
        ("un-altro-segreto", {}, 403),
        (None, {}, 403),
        (SECRET, {"organizationFiscalCode": "00681530168"}, 403),
        (SECRET, {"amount": 75.5}, 400),
        (SECRET, {"amount": 100}, 409),
    ],
)
def test_bad_callbacks_are_refused_and_logged(
    local_romano: Comune, secret: str, key: str | None, overrides: dict[str, object], status: int
) -> None:
    instalment = _instalment()
    code, body = _post(local_romano, _body(instalment, **overrides), key=key)
    assert code == status and body["esito"] == "KO"
    instalment.refresh_from_db()
    assert instalment.status == Instalment.Status.DA_PAGARE
    if status in (400, 403):
        assert AuditEntry.objects.filter(action="payments.callback_refused").exists()


def test_a_receipt_signed_for_one_comune_is_refused_on_another(
    local_romano: Comune, palosco: Comune, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.payments.conftest import payments_configure

    monkeypatch.setenv("PAGOPA_CALLBACK_SECRET_PALOSCO", "segreto-palosco")
    palosco = payments_configure(palosco, callback_secret_env="PAGOPA_CALLBACK_SECRET_PALOSCO")
    instalment = _instalment()
    code, _ = _post(palosco, _body(instalment, organizationFiscalCode="00681530168"), key=secret)
    assert code == 403
    with tenant_context(local_romano):
        instalment.refresh_from_db()
    assert instalment.status == Instalment.Status.DA_PAGARE


def test_a_forged_signature_beyond_ascii_is_refused_not_an_error(local_romano: Comune, secret: str) -> None:
    instalment = _instalment()
    raw = json.dumps(_body(instalment)).encode()
    response = Client(HTTP_HOST=host_of(local_romano)).post(
        "/pagamenti/ricevute/", data=raw, content_type="application/json", HTTP_X_SIGNATURE="sha256=é"
    )
    assert response.status_code == 403 and response.json()["errore"] == "firma non valida"


def test_a_receipt_id_longer_than_the_column_is_refused(local_romano: Comune, secret: str) -> None:
    instalment = _instalment()
    code, body = _post(local_romano, _body(instalment, idReceipt="R" * 65), key=secret)
    assert code == 400 and "idReceipt più lungo di 64" in str(body["errore"])
    instalment.refresh_from_db()
    assert instalment.status == Instalment.Status.DA_PAGARE


def test_a_payment_of_a_cancelled_avviso_is_recorded_and_flagged_not_revived(
    local_romano: Comune, secret: str
) -> None:
    """The family pays the old avviso after a rejection, and after the enrollment was confirmed again
    (a new live position for the same source): the money is recorded, the old position stays
    cancelled (it used to become "pagata", or break the one-live-position rule with a 500)."""
    from payments.models import DebtPosition
    from payments.services import position_invalidate

    old = _instalment()
    position_invalidate(source=old.position.source, reason="iscrizione respinta")
    fresh = _instalment().position
    assert _post(local_romano, _body(old), key=secret) == (200, {"esito": "OK", "registrata": True})
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, old.receipt_id) == ("pagata", "RCPT-0001")
    assert old.position.status == DebtPosition.Status.ANNULLATA
    assert fresh.status == DebtPosition.Status.APERTA
    entry = AuditEntry.objects.get(action="payments.paid_cancelled")
    assert "da rimborsare o imputare" in entry.message
    # pagoPA sending it again changes nothing.
    assert _post(local_romano, _body(old), key=secret) == (200, {"esito": "OK", "registrata": False})
