"""The definition in the back office: answers with labels and the fee in the
detail, filters by answer, one export column per question with typed XLSX cells."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from enrollment.backoffice.exports import FEE_HEADER, export_headers
from enrollment.models import Enrollment, Service
from enrollment.selectors import enrollment_fee
from tests.enrollment.backoffice.conftest import client_for, submitted
from tests.enrollment.conftest import service
from tests.factories import PupilFactory

LIST = reverse("staff_admin:bo_list")
WEEK1, WEEK2 = "1ª settimana (29/6\u20133/7)", "2ª settimana (6/7\u201310/7)"


def _answered(cre: Service, name: str, extra: dict) -> Enrollment:  # type: ignore[type-arg]
    e = submitted(cre, last_name=name)
    Enrollment.objects.filter(pk=e.pk).update(extra=extra, definition_version=cre.definition_version)
    e.refresh_from_db()
    return e


@pytest.fixture
def cre_rows(palosco):  # type: ignore[no-untyped-def]
    """Three CRE requests: a diet with a low ISEE, no diet, and the diet family's second child."""
    with tenant_context(palosco):
        cre = service("CRE")
        dieta = _answered(cre, "Dieta", {"settimane": [WEEK1, WEEK2], "dieta": True, "isee": "7500.50"})
        normale = _answered(cre, "Normale", {"settimane": [WEEK2], "dieta": False, "lavoro": True})
        sister = PupilFactory.create(guardian=dieta.guardian, first_name="Sara", last_name="Dieta")
        second = Enrollment.objects.create(
            pupil=sister, guardian=dieta.guardian, service=cre, school_year=cre.school_year,
            status=Enrollment.Status.INVIATA, reference="2025-990001", submitted_at=dieta.submitted_at,
            extra={"settimane": [WEEK1], "dieta": True, "isee": "7500.50"},
        )  # fmt: skip
        return cre, dieta, normale, second


def test_the_detail_shows_answers_with_labels_version_and_fee(palosco, staff, cre_rows) -> None:  # type: ignore[no-untyped-def]
    cre, dieta, _, second = cre_rows
    client = client_for(palosco, staff["Sola lettura"])
    html = client.get(reverse("staff_admin:bo_detail", args=[dieta.pk])).content.decode()
    assert "Settimane richieste" in html and f"{WEEK1}, {WEEK2}" in html
    assert 'Dieta speciale per motivi di salute</dt><dd class="col-sm-7">sì' in html
    assert "7500,50" in html
    assert f"versione {cre.definition_version}" in html
    assert "€ 120,00" in html  # ISEE band up to 8,000
    # The second child of the family gets the sibling discount (20%).
    assert "€ 96,00" in client.get(reverse("staff_admin:bo_detail", args=[second.pk])).content.decode()


def test_a_staff_filter_per_choice_and_yes_no_question(palosco, staff, cre_rows) -> None:  # type: ignore[no-untyped-def]
    cre, dieta, normale, second = cre_rows
    client = client_for(palosco, staff["Sola lettura"])
    page = client.get(LIST, {"servizio": cre.pk}).content.decode()
    assert 'name="r_dieta"' in page and 'name="r_settimane"' in page
    assert 'name="r_isee"' not in page  # numbers are not a filter
    html = client.get(LIST, {"servizio": cre.pk, "r_dieta": "si"}).content.decode()
    assert dieta.reference in html and second.reference in html and normale.reference not in html
    html = client.get(LIST, {"servizio": cre.pk, "r_dieta": "no"}).content.decode()
    assert normale.reference in html and dieta.reference not in html
    html = client.get(LIST, {"servizio": cre.pk, "r_settimane": WEEK2}).content.decode()
    assert dieta.reference in html and normale.reference in html and second.reference not in html
    refused = client.get(LIST, {"servizio": cre.pk, "r_settimane": "Agosto"}).content.decode()
    assert "scegli una risposta dell&#x27;elenco" in refused


def test_a_service_export_has_a_column_per_question_and_typed_cells(palosco, staff, cre_rows) -> None:  # type: ignore[no-untyped-def]
    cre, dieta, _, second = cre_rows
    client = client_for(palosco, staff["Operatore"])
    response = client.get(reverse("staff_admin:bo_export_xlsx"), {"servizio": cre.pk, "r_dieta": "si"})
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    ws = wb["Iscrizioni"]
    header = [c.value for c in ws[1]]
    with tenant_context(palosco):
        assert header == export_headers(cre)
    assert header[-5:] == [
        "Settimane richieste", "Dieta speciale per motivi di salute", "Certificato medico della dieta",
        "Valore ISEE (euro)", "Entrambi i genitori lavorano",
    ]  # fmt: skip
    col = {h: i for i, h in enumerate(header)}
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    assert set(rows) == {dieta.reference, second.reference}  # the kitchen list: diets only
    row = rows[dieta.reference]
    assert row[col["Dieta speciale per motivi di salute"]].value == "sì"
    assert row[col["Settimane richieste"]].value == f"{WEEK1}, {WEEK2}"
    isee = row[col["Valore ISEE (euro)"]]
    assert isee.data_type == "n" and Decimal(str(isee.value)) == Decimal("7500.50")
    fee = row[col[FEE_HEADER]]
    assert fee.data_type == "n" and fee.value == 120
    assert rows[second.reference][col[FEE_HEADER]].value == 96
    born = row[col["Data di nascita alunno"]]
    assert born.is_date and born.value.date() == dieta.pupil.birth_date and born.number_format == "DD/MM/YYYY"
    sent = row[col["Data inserimento iscrizione"]]
    assert sent.is_date and isinstance(sent.value, datetime)
    wb.close()
    with tenant_context(palosco):
        assert enrollment_fee(enrollment=second) == Decimal("96.00")


def test_the_csv_writes_answers_the_italian_way(palosco, staff, cre_rows) -> None:  # type: ignore[no-untyped-def]
    cre, dieta, normale, _ = cre_rows
    response = client_for(palosco, staff["Operatore"]).get(
        reverse("staff_admin:bo_export_csv"), {"servizio": cre.pk}
    )
    table = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";")
    )
    by_ref = {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    assert by_ref[dieta.reference]["Valore ISEE (euro)"] == "7500,50"
    assert by_ref[dieta.reference][FEE_HEADER] == "120,00"
    assert by_ref[normale.reference]["Entrambi i genitori lavorano"] == "sì"
    assert by_ref[normale.reference][FEE_HEADER] == "300,00"  # no ISEE: the last band
    assert by_ref[dieta.reference]["Data di nascita alunno"] == date(2017, 3, 10).strftime("%d/%m/%Y")
