"""The filtered list (filters, search, sorting, pagination) and its CSV/XLSX exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from core.models import AuditEntry
from enrollment.backoffice import views
from enrollment.backoffice.exports import export_headers
from enrollment.models import Enrollment, Service
from tests.enrollment.backoffice.conftest import client_for, submitted
from tests.enrollment.conftest import service

S = Enrollment.Status
LIST = reverse("staff_admin:bo_list")


@pytest.fixture
def rows(palosco):  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        a = submitted(service("PRE"), last_name="Bianchi", first_name="Anna")
        b = submitted(service("POST"), last_name="Verdi", first_name="Marco")
        c = submitted(service("PRE"), last_name="Neri", first_name="=HYPERLINK(1)")
        Enrollment.objects.filter(pk=b.pk).update(
            status=S.CONFERMATA,
            kind=Enrollment.Kind.RINNOVO,
            submitted_at=timezone.now() - timedelta(days=10),
        )
        for e in (a, b, c):
            e.refresh_from_db()
        return a, b, c


def _refs(response) -> set[str]:  # type: ignore[no-untyped-def]
    """The reference numbers linked in the list."""
    return set(re.findall(r'href="/admin/iscrizioni/\d+/">([\d-]+)<', response.content.decode()))


def _list(client, **params) -> set[str]:  # type: ignore[no-untyped-def]
    response = client.get(LIST, params)
    assert response.status_code == 200
    return _refs(response)


def test_filters_and_search(palosco, staff, rows) -> None:  # type: ignore[no-untyped-def]
    a, b, c = rows
    client = client_for(palosco, staff["Sola lettura"])
    everything = {a.reference, b.reference, c.reference}
    assert _list(client) == everything
    assert _list(client, servizio=a.service_id) == {a.reference, c.reference}
    assert _list(client, stato="confermata") == {b.reference}
    assert _list(client, tipo="rinnovo") == {b.reference}
    assert _list(client, anno="2025/2026") == everything
    assert _list(client, anno="2024/2025") == set()
    today = timezone.localdate()
    assert _list(client, dal=today.isoformat()) == {a.reference, c.reference}
    assert _list(client, al=(today - timedelta(days=5)).isoformat()) == {b.reference}
    assert _list(client, q="bian") == {a.reference}
    assert _list(client, q="marco verdi") == {b.reference}
    assert _list(client, q=a.pupil.codice_fiscale) == {a.reference}
    assert _list(client, q=b.guardian.codice_fiscale.lower()) == {b.reference}
    year, number = c.reference.split("-")
    assert _list(client, q=f"{year}-{int(number)}") == {c.reference}
    assert _list(client, q="nessuno") == set()
    with tenant_context(palosco):
        Enrollment.objects.filter(pk=c.pk).update(via_sportello=True)
    assert _list(client, canale="sportello") == {c.reference}
    assert _list(client, canale="portale") == {a.reference, b.reference}


def test_invalid_filters_are_explained(palosco, staff, rows) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, staff["Operatore"])
    html = client.get(LIST, {"dal": "2026-05-10", "al": "2026-05-01"}).content.decode()
    assert 'role="alert"' in html and "La data finale deve essere uguale o successiva" in html
    html = client.get(LIST, {"dal": "ieri"}).content.decode()
    assert "inserisci una data nel formato gg/mm/aaaa" in html


def test_sorting_and_pagination(palosco, staff, rows, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    a, b, c = rows
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = client_for(palosco, staff["Operatore"])
    first = client.get(LIST, {"ordina": "alunno"}).content.decode()
    assert first.index(a.reference) < first.index(c.reference)  # Bianchi, Neri (Verdi on page 2)
    assert b.reference not in first and "pagina 1 di 2" in first
    assert 'href="?ordina=alunno&amp;pagina=2"' in first
    second = client.get(LIST, {"ordina": "alunno", "pagina": 2}).content.decode()
    assert b.reference in second and a.reference not in second


def test_bulk_checkboxes_only_for_roles_that_decide(palosco, staff, rows) -> None:  # type: ignore[no-untyped-def]
    a, _, _ = rows
    assert f'value="{a.pk}"' in client_for(palosco, staff["Operatore"]).get(LIST).content.decode()
    html = client_for(palosco, staff["Sola lettura"]).get(LIST).content.decode()
    assert f'value="{a.pk}"' not in html and "Conferma le selezionate" not in html
    assert "Esporta CSV" in html


def test_csv_export_for_italian_excel(palosco, staff, rows) -> None:  # type: ignore[no-untyped-def]
    a, _, c = rows
    response = client_for(palosco, staff["Sola lettura"]).get(
        reverse("staff_admin:bo_export_csv"), {"servizio": a.service_id}
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="iscrizioni-')
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    with tenant_context(palosco):
        headers = export_headers(Service.objects.get(pk=a.service_id))
    assert table[0] == headers
    by_ref = {row[0]: dict(zip(headers, row, strict=True)) for row in table[1:]}
    assert set(by_ref) == {a.reference, c.reference}
    assert by_ref[a.reference]["Cognome alunno"] == "Bianchi"
    assert by_ref[a.reference]["Stato"] == "Inviata"
    assert by_ref[a.reference]["Servizio"] == "PRE SCUOLA"
    assert by_ref[a.reference]["Codice fiscale alunno"] == a.pupil.codice_fiscale
    assert by_ref[a.reference]["Data di nascita alunno"] == a.pupil.birth_date.strftime("%d/%m/%Y")
    # A value that Excel would run as a formula is neutralised.
    assert by_ref[c.reference]["Nome alunno"] == "'=HYPERLINK(1)"
    with tenant_context(palosco):
        entry = AuditEntry.objects.get(action="enrollment.exported")
        assert entry.actor == staff["Sola lettura"]
        assert entry.data == {"format": "csv", "filters": {"servizio": str(a.service_id)}}


def test_xlsx_export(palosco, staff, rows) -> None:  # type: ignore[no-untyped-def]
    _, b, _ = rows
    response = client_for(palosco, staff["Operatore"]).get(
        reverse("staff_admin:bo_export_xlsx"), {"stato": "confermata"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    table = [list(r) for r in wb["Iscrizioni"].iter_rows(values_only=True)]
    wb.close()
    assert table[0] == export_headers(None)
    assert len(table) == 2
    headers = export_headers(None)
    # A read-only workbook drops a row's empty trailing cells (here: no fee for POST).
    row = dict(zip(headers, table[1] + [None] * (len(headers) - len(table[1])), strict=True))
    assert row["Numero di riferimento"] == b.reference
    assert row["Tipo"] == "Rinnovo" and row["Stato"] == "Confermata"
    assert row["Cognome genitore/tutore"] == "Rossi"


def test_export_with_invalid_filters_exports_nothing(palosco, staff, rows) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, staff["Operatore"])
    for name in ("bo_export_csv", "bo_export_xlsx"):
        response = client.get(reverse(f"staff_admin:{name}"), {"dal": "ieri"}, follow=True)
        html = response.content.decode()
        assert response.redirect_chain[0][0] == f"{LIST}?dal=ieri"
        assert "Correggi i filtri prima di esportare" in html and "formato gg/mm/aaaa" in html
    with tenant_context(palosco):
        assert not AuditEntry.objects.filter(action="enrollment.exported").exists()


def test_a_control_character_in_an_answer_does_not_break_the_xlsx(palosco, staff) -> None:  # type: ignore[no-untyped-def]
    """A vertical tab pasted from a word processor: openpyxl refused the whole file (a 500)."""
    from enrollment.answers import answers_clean
    from enrollment.backoffice.roles import OPERATORE
    from enrollment.definitions import service_definition
    from tests.factories import ParentFactory, domanda_create

    with tenant_context(palosco):
        pre = Service.objects.get(code="PRE", school_year="2025/2026")
        cleaned = answers_clean(
            questions=[service_definition(pre).question("motivo")], answers={"motivo": "Lavoro\x0bturni"}
        )
        domanda_create(ParentFactory.create(), [pre], extra={"PRE": dict(cleaned.values)}, submit=True)
    response = client_for(palosco, staff[OPERATORE]).get(
        reverse("staff_admin:bo_export_xlsx"), {"servizio": pre.pk}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert "Lavoroturni" in [cell for row in sheet.iter_rows(values_only=True) for cell in row]
