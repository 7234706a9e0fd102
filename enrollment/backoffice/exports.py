"""Exports of a filtered enrollment list: CSV for Italian Excel and XLSX.

Both read the queryset in chunks (`.iterator(chunk_size=...)`): the CSV is
streamed to the client row by row; the XLSX is written by openpyxl's
write-only workbook to a temporary file, then sent as a file. Neither holds
the whole list in memory.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook

from enrollment.models import Enrollment
from tenants.config import ROME

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


def _when(dt: Any) -> str:
    return timezone.localtime(dt, ROME).strftime("%d/%m/%Y %H:%M") if dt else ""


def export_rows(qs: QuerySet[Enrollment]) -> Iterator[list[Any]]:
    kinds, statuses = dict(Enrollment.Kind.choices), dict(Enrollment.Status.choices)
    for e in qs.iterator(chunk_size=CHUNK):
        p, g = e.pupil, e.guardian_shown
        yield [
            e.reference,
            e.service.name,
            e.school_year,
            kinds[e.kind],
            statuses[e.status],
            e.waiting_position if e.on_waiting_list else "",
            "sì" if e.via_sportello else "no",
            _when(e.submitted_at),
            _when(e.decided_at),
            e.outcome_note,
            p.last_name,
            p.first_name,
            p.codice_fiscale,
            p.birth_date.strftime("%d/%m/%Y"),
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
        ]


class _Line:
    """A file-like object whose `write` returns what was written, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> Any:
    # A cell starting with = + - @ would be run as a formula by Excel (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def csv_lines(qs: QuerySet[Enrollment]) -> Iterator[str]:
    """The CSV as Italian Excel opens it: UTF-8 with BOM, `;` separator."""
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(HEADERS)
    for row in export_rows(qs):
        yield writer.writerow([_safe(v) for v in row])


def xlsx_file(qs: QuerySet[Enrollment]) -> IO[bytes]:
    """The XLSX in a temporary file (rewound), written row by row."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Iscrizioni")
    ws.append(HEADERS)
    for row in export_rows(qs):
        ws.append([_safe(v) for v in row])
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    wb.save(out)
    out.seek(0)
    return out


def export_filename(ext: str) -> str:
    return f"iscrizioni-{timezone.localtime(timezone.now(), ROME):%Y%m%d-%H%M}.{ext}"
