"""CSV imports: the treasurer's payments and the previous software's debts, all rows or none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from payments.imports import previous_debts_import, treasurer_payments_import
from payments.models import DebtPosition, Instalment
from payments.selectors import instalments_overdue
from payments.services import position_create
from tenants.models import Comune
from tests.factories import StaffFactory


def _rate() -> list[Instalment]:
    position = position_create(
        source="enrollment:2025-000020",
        payer_codice_fiscale="RSSMRA80A01H501U",
        payer_name="Mario Rossi",
        description="MENSA 2025/2026 – Luca Rossi",
        amount=Decimal("120.00"),
    )
    other = position_create(
        source="enrollment:2025-000021",
        payer_codice_fiscale="RSSMRA80A01H501U",
        payer_name="Mario Rossi",
        description="TRASPORTO 2025/2026 – Luca Rossi",
        amount=Decimal("80.00"),
    )
    return [position.instalments.get(), other.instalments.get()]


def test_treasurer_file_marks_every_row_paid(local_romano: Comune) -> None:
    mensa, trasporto = _rate()
    text = (
        "codice_avviso;importo;data_pagamento;id_operazione\n"
        f"{mensa.codice_avviso};120,00;03/10/2025;T-1\n"
        f"{trasporto.codice_avviso};80.00;2025-10-04;T-2\n"
    )
    report = treasurer_payments_import(text=text, by=StaffFactory())
    assert report.ok and report.written == 2
    assert set(Instalment.objects.values_list("status", flat=True)) == {"pagata"}
    again = treasurer_payments_import(text=text, by=StaffFactory())
    assert again.ok and again.written == 0 and len(again.skipped) == 2


def test_one_bad_row_writes_nothing_and_each_bad_row_is_named(local_romano: Comune) -> None:
    mensa, trasporto = _rate()
    text = (
        "codice_avviso;importo;data_pagamento;id_operazione\n"
        f"{mensa.codice_avviso};120,00;03/10/2025;T-1\n"
        f"{trasporto.codice_avviso};90,00;04/10/2025;T-2\n"
        "301000000000000199;10,00;04/10/2025;T-3\n"
        f"{mensa.codice_avviso};120,00;31/02/2025;T-1\n"
    )
    report = treasurer_payments_import(text=text, by=StaffFactory())
    assert not report.ok
    assert [n for n, _ in report.errors] == [3, 4, 5]
    assert "diverso dalla rata" in report.errors[0][1]
    assert "codice avviso" in report.errors[1][1]
    assert "data non valida" in report.errors[2][1]
    assert not Instalment.objects.filter(status="pagata").exists()


def test_missing_columns_are_named(local_romano: Comune) -> None:
    report = treasurer_payments_import(text="avviso;soldi\n1;2\n", by=StaffFactory())
    assert report.errors == [
        (
            1,
            "mancano le colonne: codice_avviso, importo, data_pagamento, id_operazione "
            "(attese: codice_avviso;importo;data_pagamento;id_operazione)",
        )
    ]


def test_previous_debts_are_imported_as_overdue_positions_once(local_romano: Comune) -> None:
    text = (
        "codice_fiscale;importo;scadenza;descrizione\n"
        "RSSMRA80A01H501U;45,00;31/05/2025;Mensa 2024/2025 saldo\n"
        "VRDGPP75B02F205E;12,50;30/04/2025;Trasporto 2024/2025\n"
    )
    report = previous_debts_import(text=text, by=StaffFactory(), today=date(2025, 9, 1))
    assert report.ok and report.written == 2
    overdue = list(instalments_overdue(codice_fiscale="RSSMRA80A01H501U", today=date(2025, 9, 1)))
    assert [(i.amount_cents, i.due_date) for i in overdue] == [(4500, date(2025, 5, 31))]
    assert overdue[0].position.origin == DebtPosition.Origin.PREGRESSO
    assert previous_debts_import(text=text, by=StaffFactory(), today=date(2025, 9, 1)).written == 0
    bad = previous_debts_import(
        text="codice_fiscale;importo;scadenza;descrizione\nXXX;1,00;31/05/2025;x\nRSSMRA80A01H501U;-3;31/05/2025;x\n",
        by=StaffFactory(),
        today=date(2025, 9, 1),
    )
    assert [n for n, _ in bad.errors] == [2, 3]
    assert DebtPosition.objects.count() == 2


def test_two_debts_whose_descriptions_differ_late_are_two_debts(local_romano: Comune) -> None:
    """The key used to hold the description cut to the column: two debts of one family differing
    after about 35 characters were taken for one, the second skipped as "già importato"."""
    text = (
        "codice_fiscale;importo;scadenza;descrizione\n"
        "RSSMRA80A01H501U;45,00;31/05/2025;Mensa scolastica anno 2024/2025, saldo dovuto per Luca\n"
        "RSSMRA80A01H501U;45,00;31/05/2025;Mensa scolastica anno 2024/2025, saldo dovuto per Anna\n"
    )
    report = previous_debts_import(text=text, by=StaffFactory(), today=date(2025, 9, 1))
    assert report.ok and report.written == 2 and not report.skipped
    assert previous_debts_import(text=text, by=StaffFactory(), today=date(2025, 9, 1)).written == 0


def test_a_debt_imported_with_the_older_key_is_not_imported_again(local_romano: Comune) -> None:
    description = "Trasporto 2024/2025"
    position_create(
        source=f"pregresso:VRDGPP75B02F205E:2025-04-30:1250:{description}",  # the key before the digest
        payer_codice_fiscale="VRDGPP75B02F205E",
        payer_name="Giuseppe Verdi",
        description=description,
        amount=Decimal("12.50"),
        origin=DebtPosition.Origin.PREGRESSO,
    )
    text = f"codice_fiscale;importo;scadenza;descrizione\nVRDGPP75B02F205E;12,50;30/04/2025;{description}\n"
    report = previous_debts_import(text=text, by=StaffFactory(), today=date(2025, 9, 1))
    assert report.ok and report.written == 0 and report.skipped == [(2, "già importato")]


def test_values_beyond_a_number_or_the_column_are_named_not_raised(local_romano: Comune) -> None:
    mensa, trasporto = _rate()
    text = (
        "codice_avviso;importo;data_pagamento;id_operazione\n"
        f"{mensa.codice_avviso};NaN;03/10/2025;T-1\n"
        f"{trasporto.codice_avviso};Infinity;03/10/2025;T-2\n"
        f"{mensa.codice_avviso};120,00;03/10/2025;{'X' * 55}\n"
    )
    report = treasurer_payments_import(text=text, by=StaffFactory())
    assert [n for n, _ in report.errors] == [2, 3, 4]
    assert "importo non valido" in report.errors[0][1] and "importo non valido" in report.errors[1][1]
    assert "al più 54 caratteri" in report.errors[2][1]
    assert not Instalment.objects.filter(status="pagata").exists()


def test_a_cancelled_avviso_paid_at_the_treasury_is_written_and_named(local_romano: Comune) -> None:
    from payments.services import position_invalidate

    mensa, _ = _rate()
    position_invalidate(source=mensa.position.source, reason="iscrizione respinta")
    position_create(  # confirmed again: a new live position for the same source
        source=mensa.position.source,
        payer_codice_fiscale="RSSMRA80A01H501U",
        payer_name="Mario Rossi",
        description="MENSA 2025/2026 – Luca Rossi",
        amount=Decimal("120.00"),
    )
    text = (
        f"codice_avviso;importo;data_pagamento;id_operazione\n{mensa.codice_avviso};120,00;03/10/2025;T-9\n"
    )
    report = treasurer_payments_import(text=text, by=StaffFactory())
    assert report.ok and report.written == 1
    assert [n for n, _ in report.notices] == [2] and "posizione è annullata" in report.notices[0][1]
    mensa.refresh_from_db()
    assert (mensa.status, mensa.position.status) == ("pagata", DebtPosition.Status.ANNULLATA)
