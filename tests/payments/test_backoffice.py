"""The staff's Pagamenti page: totals, pending positions, exports, CSV import report, exceptions."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from core.models import AuditEntry
from enrollment.backoffice.roles import OPERATORE, SOLA_LETTURA
from payments.models import GateException, Instalment
from payments.services import position_create
from tenants.models import Comune
from tests.enrollment.conftest import logged_in
from tests.factories import StaffFactory
from tests.payments.conftest import payments_configure


def _positions() -> list[Instalment]:
    rows = []
    for n, cf in enumerate(["RSSMRA80A01H501U", "BNCGLI85L70H509E"]):
        position = position_create(
            source=f"enrollment:2025-00005{n}",
            payer_codice_fiscale=cf,
            payer_name=f"Famiglia {n}",
            description=f"TRASPORTO 2025/2026 – Alunno {n}",
            amount=Decimal("90.00"),
            service_code="TRASPORTO",
            school_year="2025/2026",
        )
        rows.append(position.instalments.get())
    return rows


def test_staff_see_totals_and_rate_and_export_them(local_romano: Comune) -> None:
    first, _ = _positions()
    client = logged_in(local_romano, StaffFactory(username="op.pag", role=OPERATORE))
    html = client.get("/admin/pagamenti/").content.decode()
    assert "TRASPORTO 2025/2026" in html and "180,00 €" in html
    assert "Famiglia 0" in html and "Famiglia 1" in html
    filtered = client.get("/admin/pagamenti/", {"cf": "rssmra80a01h501u"}).content.decode()
    assert "Famiglia 0" in filtered and "Famiglia 1" not in filtered
    csv_text = client.get("/admin/pagamenti/esporta.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("debitore;codice_fiscale;causale")
    assert f"{first.codice_avviso};90.00" in csv_text
    book = load_workbook(io.BytesIO(client.get("/admin/pagamenti/esporta.xlsx").content))
    assert book.active.max_row == 3
    assert AuditEntry.objects.filter(action="payments.exported").count() == 2


def test_gpd_positions_not_sent_yet_show_as_pending(romano: Comune) -> None:
    comune = payments_configure(romano, adapter="gpd", gpd_base_url="http://127.0.0.1:9/none")
    from django_tenants.utils import tenant_context

    with tenant_context(comune):
        _positions()
        client = logged_in(comune, StaffFactory(username="op.pag2", role=OPERATORE))
    html = client.get("/admin/pagamenti/").content.decode()
    assert "In attesa di invio a pagoPA" in html


def test_import_report_names_bad_rows_and_writes_nothing(local_romano: Comune) -> None:
    first, _ = _positions()
    client = logged_in(local_romano, StaffFactory(username="op.pag3", role=OPERATORE))
    text = f"codice_avviso;importo;data_pagamento;id_operazione\n{first.codice_avviso};91,00;01/10/2025;T1\n"
    response = client.post(
        "/admin/pagamenti/importa/tesoreria/",
        {"file": SimpleUploadedFile("tesoreria.csv", text.encode(), content_type="text/csv")},
        follow=True,
    )
    html = response.content.decode()
    assert "nessuna riga registrata" in html and "riga 2" in html and "diverso dalla rata" in html
    first.refresh_from_db()
    assert first.status == Instalment.Status.DA_PAGARE


def test_exceptions_need_the_decide_role_and_a_reason(local_romano: Comune) -> None:
    reader = logged_in(local_romano, StaffFactory(username="ro.pag", role=SOLA_LETTURA))
    data = {"codice_fiscale": "RSSMRA80A01H501U", "service": "TRASPORTO 2025/2026", "reason": "Rateizzazione"}
    assert reader.post("/admin/pagamenti/eccezione/", data).status_code == 403
    operator = logged_in(local_romano, StaffFactory(username="op.pag4", role=OPERATORE))
    operator.post("/admin/pagamenti/eccezione/", data)
    exception = GateException.objects.get()
    assert (exception.service_code, exception.school_year, exception.reason) == (
        "TRASPORTO",
        "2025/2026",
        "Rateizzazione",
    )
