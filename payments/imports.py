"""CSV imports of the back office: the treasurer's payments and the previous software's debts.

Each file is read whole and every row validated first; if any row is wrong
the report names each row and reason and nothing is written. Rows are
separated by `;` or `,` (sniffed), amounts are euro with comma or point
("120,00", "120.00"), dates dd/mm/yyyy or yyyy-mm-dd.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from stdnum.it import codicefiscale

from payments.codes import codice_avviso_valid
from payments.errors import PaymentError
from payments.models import RECEIPT_ID_MAX, DebtPosition, Instalment
from payments.money import to_cents
from payments.services import position_create, receipt_record
from tenants.config import ROME

TREASURER_COLUMNS = ("codice_avviso", "importo", "data_pagamento", "id_operazione")
DEBT_COLUMNS = ("codice_fiscale", "importo", "scadenza", "descrizione")
MAX_ROWS = 20000


@dataclass
class ImportReport:
    errors: list[tuple[int, str]] = field(default_factory=list)
    written: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    # Written, but for staff to look at (a payment of a cancelled avviso).
    notices: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _rows(text: str, columns: tuple[str, ...], report: ImportReport) -> list[tuple[int, dict[str, str]]]:
    text = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=";,")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";"
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    if missing:
        report.errors.append((1, f"mancano le colonne: {', '.join(missing)} (attese: {';'.join(columns)})"))
        return []
    rows = []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            report.errors.append((number, f"il file ha più di {MAX_ROWS} righe: dividilo"))
            break
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        rows.append((number, row))
    if not rows and not report.errors:
        report.errors.append((1, "il file non contiene righe"))
    return rows


def _amount(value: str) -> Decimal:
    text = value.replace("€", "").strip()
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"importo non valido: {value!r}") from exc
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f"importo non valido: {value!r} (euro, al più due decimali, maggiore di zero)")
    return amount


def _date(value: str) -> date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    raise ValueError(f"data non valida: {value!r} (gg/mm/aaaa)")


# The receipt id of a treasurer's operation (Instalment.receipt_id).
TREASURER_RECEIPT = "tesoreria-{operation}"


def treasurer_payments_import(*, text: str, by: Any) -> ImportReport:
    """Record the payments of the treasurer's file (comuni on the `local` adapter)."""
    report = ImportReport()
    rows = _rows(text, TREASURER_COLUMNS, report)
    planned: list[tuple[int, Instalment, int, date, str]] = []
    seen: set[str] = set()
    for number, row in rows:
        try:
            avviso = row["codice_avviso"].replace(" ", "")
            if not codice_avviso_valid(avviso):
                raise ValueError(f"codice avviso non valido: {row['codice_avviso']!r}")
            instalment = Instalment.objects.select_related("position").filter(codice_avviso=avviso).first()
            if instalment is None:
                raise ValueError(f"nessuna rata con codice avviso {avviso}")
            cents = to_cents(_amount(row["importo"]))
            if cents != instalment.amount_cents:
                raise ValueError(
                    f"importo {row['importo']} diverso dalla rata ({instalment.amount_cents / 100:.2f})"
                )
            paid_on = _date(row["data_pagamento"])
            operation = row["id_operazione"]
            if not operation:
                raise ValueError("manca id_operazione")
            if len(TREASURER_RECEIPT.format(operation=operation)) > RECEIPT_ID_MAX:
                limit = RECEIPT_ID_MAX - len(TREASURER_RECEIPT.format(operation=""))
                raise ValueError(f"id_operazione troppo lungo: al più {limit} caratteri")
            if operation in seen:
                raise ValueError(f"id_operazione {operation} ripetuto nel file")
            seen.add(operation)
        except ValueError as exc:
            report.errors.append((number, str(exc)))
            continue
        if instalment.status == Instalment.Status.PAGATA:
            report.skipped.append((number, f"rata {avviso} già pagata"))
            continue
        planned.append((number, instalment, cents, paid_on, operation))
    if report.errors:
        return report
    with transaction.atomic():
        for number, instalment, cents, paid_on, operation in planned:
            try:
                outcome = receipt_record(
                    iuv=instalment.iuv,
                    receipt_id=TREASURER_RECEIPT.format(operation=operation),
                    amount_cents=cents,
                    paid_at=datetime.combine(paid_on, time(12), tzinfo=ROME),
                    channel="tesoreria",
                    by=by,
                )
            except PaymentError as exc:
                report.errors.append((number, exc.message))
                continue
            if outcome.position_cancelled:
                report.notices.append(
                    (
                        number,
                        f"rata {instalment.codice_avviso} pagata, ma la posizione è annullata: "
                        "da rimborsare o imputare",
                    )
                )
        if report.errors:
            transaction.set_rollback(True)
            return report
    report.written = len(planned)
    return report


def previous_debts_import(*, text: str, by: Any, today: date) -> ImportReport:
    """The previous software's unpaid debts, one position each (they count for the gate)."""
    report = ImportReport()
    rows = _rows(text, DEBT_COLUMNS, report)
    planned = []
    for number, row in rows:
        try:
            cf = row["codice_fiscale"].upper()
            if not codicefiscale.is_valid(cf):
                raise ValueError(f"codice fiscale non valido: {row['codice_fiscale']!r}")
            amount = _amount(row["importo"])
            due = _date(row["scadenza"])
            description = row["descrizione"]
            if not description:
                raise ValueError("manca la descrizione")
            if len(description) > 140:
                raise ValueError("descrizione oltre 140 caratteri")
        except ValueError as exc:
            report.errors.append((number, str(exc)))
            continue
        planned.append((number, cf, amount, due, description, row))
    if report.errors:
        return report
    with transaction.atomic():
        for number, cf, amount, due, description, row in planned:
            key = f"pregresso:{cf}:{due.isoformat()}:{to_cents(amount)}:"
            # The description's digest, not its start: cut to the column, two debts of one family
            # whose descriptions differed after 35 characters were taken for one. The old key is
            # still looked for, so a file imported before this release is not imported again.
            source = key + hashlib.sha256(description.encode()).hexdigest()[:16]
            legacy = (key + description)[:80]
            if DebtPosition.objects.filter(source__in=[source, legacy]).exists():
                report.skipped.append((number, "già importato"))
                continue
            position = position_create(
                source=source,
                payer_codice_fiscale=cf,
                payer_name=row.get("nominativo") or cf,
                description=description,
                amount=amount,
                origin=DebtPosition.Origin.PREGRESSO,
                by=by,
                today=today,
            )
            # The debt's own due date, even if past: that is what makes it overdue.
            position.instalments.update(due_date=due)
            report.written += 1
    return report
