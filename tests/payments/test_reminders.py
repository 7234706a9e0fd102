"""Reminder e-mails for overdue rate: preview, manual send once, automatic N days after the due date."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from core.models import OutgoingEmail
from enrollment.backoffice.roles import OPERATORE, SOLA_LETTURA
from payments.reminders import reminders_due, reminders_send
from payments.services import position_create
from payments.tasks import reminders_run
from tenants.models import Comune
from tests.enrollment.conftest import logged_in
from tests.factories import StaffFactory
from tests.payments.conftest import payments_configure


def _overdue(days: int, email: str = "mario@example.org", language: str = "it") -> None:
    position = position_create(
        language=language,
        source=f"enrollment:r{days}{email}",
        payer_codice_fiscale="RSSMRA80A01H501U",
        payer_name="Mario Rossi",
        payer_email=email,
        description="TRASPORTO 2025/2026 – Luca Rossi",
        amount=Decimal("90.00"),
    )
    position.instalments.update(due_date=timezone.localdate() - timedelta(days=days))


def test_preview_then_manual_send_once(local_romano: Comune) -> None:
    _overdue(10)
    _overdue(10, email="")  # no address: nobody to remind
    reader = logged_in(local_romano, StaffFactory(username="ro.rem", role=SOLA_LETTURA))
    page = reader.get("/admin/pagamenti/solleciti/").content.decode()
    assert "mario@example.org" in page and "Promemoria di pagamento" in page and "90,00 €" in page
    assert reader.post("/admin/pagamenti/solleciti/").status_code == 200
    assert not OutgoingEmail.objects.filter(purpose="payment_reminder").exists()
    operator = logged_in(local_romano, StaffFactory(username="op.rem", role=OPERATORE))
    operator.post("/admin/pagamenti/solleciti/")
    operator.post("/admin/pagamenti/solleciti/")
    (mail,) = OutgoingEmail.objects.filter(purpose="payment_reminder")
    assert mail.to == ["mario@example.org"] and "codice avviso" in mail.body
    assert mail.attachments[0]["document"] == "payments.avviso"


def test_automatic_reminders_wait_the_configured_days(romano: Comune) -> None:
    from django_tenants.utils import tenant_context

    comune = payments_configure(romano, reminder_days_after_due=5)
    with tenant_context(comune):
        _overdue(3)
        reminders_run(schema_name=comune.schema_name)
        assert not OutgoingEmail.objects.filter(purpose="payment_reminder").exists()
        _overdue(6, email="other@example.org")
        reminders_run(schema_name=comune.schema_name)
        assert [m.to for m in OutgoingEmail.objects.filter(purpose="payment_reminder")] == [
            ["other@example.org"]
        ]


def test_a_rata_reminded_recently_is_left_out(local_romano: Comune) -> None:
    _overdue(30)
    today = timezone.localdate()
    assert reminders_send(today=today) == 1
    assert reminders_due(today=today + timedelta(days=3)) == []
    assert len(reminders_due(today=today + timedelta(days=8))) == 1


def test_a_reminder_speaks_the_payers_language(local_romano: Comune) -> None:
    """The position keeps the enrollment's language; the reminder is written in it."""
    _overdue(10, email="english@example.org", language="en")
    _overdue(10, email="italiano@example.org")
    assert reminders_send(today=timezone.localdate()) == 2
    mails = {m.to[0]: m for m in OutgoingEmail.objects.filter(purpose="payment_reminder")}
    english, italian = mails["english@example.org"], mails["italiano@example.org"]
    assert english.subject.startswith("Payment reminder: TRASPORTO 2025/2026")
    assert "Dear Mario Rossi," in english.body and "instalment 1: 90,00 €" in english.body
    assert "Gentile" not in english.body and "scaduta" not in english.body
    assert italian.subject.startswith("Promemoria di pagamento: TRASPORTO 2025/2026")
    assert "Gentile Mario Rossi," in italian.body and "rata 1: 90,00 €, scaduta il" in italian.body
