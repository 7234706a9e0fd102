"""Exports of a filtered enrollment list: CSV for Italian Excel and XLSX.

Filtered by one service, the export has a column per question of that
service (its label as header, read by question id, so relabelling a
question never loses its answers): the kitchen list (dieta) or the bus list
(fermata) the office needs. Every export has the annual fee. XLSX cells are
typed: dates and date-times as dates, the fee as a number, positions as
integers; the CSV writes them the Italian way (gg/mm/aaaa, decimal comma).

Both read the queryset in chunks (`.iterator(chunk_size=...)`): the CSV is
streamed to the client row by row; the XLSX is written by openpyxl's
write-only workbook to a temporary file, then sent as a file. Neither holds
the whole list in memory.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from enrollment.answers import answers_from_json
from enrollment.definitions import service_definition
from enrollment.models import Enrollment, Service
from enrollment.selectors import enrollment_fees
from tenants.config import ROME
from tenants.service_definition import Question

CHUNK = 2000
HEADERS = [
    "Numero di riferimento",
    "Servizio",
    "Anno scolastico",
    "Tipo",
    "Stato",
    "Posizione in lista d'attesa",
    "Inserita allo sportello",
    "Data inserimento iscrizione",
    "Data esito",
    "Note sull'esito",
    "Cognome alunno",
    "Nome alunno",
    "Codice fiscale alunno",
    "Data di nascita alunno",
    "Scuola",
    "Classe e sezione",
    "Cognome genitore/tutore",
    "Nome genitore/tutore",
    "Codice fiscale genitore/tutore",
    "Email",
    "Telefono",
    "Indirizzo di residenza",
    "CAP",
    "Comune di residenza",
]


FEE_HEADER = "Tariffa annua (euro)"
# Columns holding a date or a date and time (typed cells in XLSX).
DATE_FORMAT, DATETIME_FORMAT, EURO_FORMAT = "DD/MM/YYYY", "DD/MM/YYYY HH:MM", "#,##0.00"


def _local(dt: datetime | None) -> datetime | None:
    # Excel has no time zones: the comune's wall-clock time, naive.
    return timezone.localtime(dt, ROME).replace(tzinfo=None) if dt else None


def export_headers(service: Service | None) -> list[str]:
    """The columns: the fixed ones, the fee, then one per question of the chosen service."""
    questions = service_definition(service).questions if service is not None else []
    return [*HEADERS, FEE_HEADER, *(q.label for q in questions)]


def _chunks(qs: QuerySet[Enrollment]) -> Iterator[list[Enrollment]]:
    chunk: list[Enrollment] = []
    for e in qs.iterator(chunk_size=CHUNK):
        chunk.append(e)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def export_rows(qs: QuerySet[Enrollment], *, service: Service | None = None) -> Iterator[list[Any]]:
    """Typed values (dates, datetimes, Decimals, ints, bools, lists) in `export_headers` order.

    The fee is `enrollment.selectors.enrollment_fees` of each chunk: the
    families' earlier requests read in one query per chunk rather than one per
    row, so memory stays bounded by the chunk.
    """
    kinds, statuses = dict(Enrollment.Kind.choices), dict(Enrollment.Status.choices)
    questions = service_definition(service).questions if service is not None else []
    for chunk in _chunks(qs):
        fees = enrollment_fees(enrollments=chunk)
        for e in chunk:
            yield _row(e, questions, fees[e.pk], kinds, statuses)


def _row(
    e: Enrollment,
    questions: list[Question],
    fee: Decimal | None,
    kinds: dict[str, str],
    statuses: dict[str, str],
) -> list[Any]:
    p, g = e.pupil, e.guardian_shown
    # Parsed once per service by enrollment_fees (service_definitions_share).
    answers = answers_from_json(questions=service_definition(e.service).questions, data=e.extra or {})
    return [
        e.reference,
        e.service.name,
        e.school_year,
        kinds[e.kind],
        statuses[e.status],
        e.waiting_position if e.on_waiting_list else None,
        e.via_sportello,
        _local(e.submitted_at),
        _local(e.decided_at),
        e.outcome_note,
        p.last_name,
        p.first_name,
        p.codice_fiscale,
        p.birth_date,
        p.get_school_display(),
        p.class_section,
        g.last_name,
        g.first_name,
        g.codice_fiscale,
        g.email,
        g.phone,
        g.address,
        g.cap,
        g.city,
        fee,
        *(answers.get(q.id) for q in questions),
    ]


class _Line:
    """A file-like object whose `write` returns what was written, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    # Control characters (a vertical tab pasted from a word processor) have no place in a cell,
    # and openpyxl refuses the whole file for one of them.
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    # A cell starting with = + - @ would be run as a formula by Excel (CSV injection).
    if value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _text(value: Any) -> str:
    """A typed value as the Italian CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("filename") or "")
    return str(value)


def csv_lines(qs: QuerySet[Enrollment], *, service: Service | None = None) -> Iterator[str]:
    """The CSV as Italian Excel opens it: UTF-8 with BOM, `;` separator."""
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([_safe(h) for h in export_headers(service)])
    for row in export_rows(qs, service=service):
        yield writer.writerow([_safe(_text(v)) for v in row])


def _cell(ws: Any, value: Any) -> Any:
    """A typed XLSX cell: numbers and dates stay numbers and dates, with an Italian format."""
    if isinstance(value, bool | list | tuple | dict):
        return _safe(_text(value))
    if isinstance(value, datetime | date | Decimal):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = (
            DATETIME_FORMAT
            if isinstance(value, datetime)
            else DATE_FORMAT
            if isinstance(value, date)
            else EURO_FORMAT
        )
        return cell
    return _safe(value)


def xlsx_file(qs: QuerySet[Enrollment], *, service: Service | None = None) -> IO[bytes]:
    """The XLSX in a temporary file (rewound), written row by row."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Iscrizioni")
    ws.append([_safe(h) for h in export_headers(service)])
    for row in export_rows(qs, service=service):
        ws.append([_cell(ws, v) for v in row])
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    wb.save(out)
    out.seek(0)
    return out


def export_filename(ext: str) -> str:
    return f"iscrizioni-{timezone.localtime(timezone.now(), ROME):%Y%m%d-%H%M}.{ext}"
