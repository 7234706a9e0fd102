"""Reminder e-mails for overdue rate: previewed and sent by staff, or sent N days after the due date.

One e-mail per position lists its overdue rate with their codici avviso and
attaches the avviso. A rata reminded in the last `QUIET_DAYS` is left out,
so a repeated click or the daily job never mails the same family twice in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from core.languages import language_supported
from core.services import audit_record, email_enqueue
from payments.models import DebtPosition, Instalment
from payments.selectors import instalments_for_staff
from tenants.selectors import comune_current

QUIET_DAYS = 7


@dataclass
class Reminder:
    position: DebtPosition
    rate: list[Instalment]
    subject: str
    body: str


def reminders_due(*, today: date, min_days_overdue: int = 1) -> list[Reminder]:
    """Who would get a reminder now, and the e-mail each would get (the preview)."""
    comune = comune_current()
    cutoff = today - timedelta(days=min_days_overdue - 1)
    rows = (
        instalments_for_staff()
        .filter(status=Instalment.Status.DA_PAGARE, due_date__lt=cutoff)
        .exclude(position__status=DebtPosition.Status.ANNULLATA)
        .exclude(position__payer_email="")
        .exclude(reminded_on__gt=today - timedelta(days=QUIET_DAYS))
    )
    grouped: dict[int, list[Instalment]] = {}
    for i in rows:
        grouped.setdefault(i.position_id, []).append(i)
    out = []
    for rate in grouped.values():
        position = rate[0].position
        # In the payer's language (the enrollment's); the attached avviso keeps pagoPA's Italian.
        with translation.override(language_supported(position.language)):
            subject = gettext("Promemoria di pagamento: %(description)s - %(comune)s") % {
                "description": position.description,
                "comune": comune.display_name,
            }
            body = render_to_string(
                "payments/email/reminder.txt", {"position": position, "rate": rate, "comune": comune}
            )
        out.append(Reminder(position=position, rate=rate, subject=subject[:200], body=body))
    return out


def reminders_send(*, today: date, by: Any = None, min_days_overdue: int = 1) -> int:
    """Queue the reminders of `reminders_due`; returns how many e-mails."""
    with transaction.atomic():
        reminders = reminders_due(today=today, min_days_overdue=min_days_overdue)
        for r in reminders:
            email_enqueue(
                to=[r.position.payer_email],
                subject=r.subject,
                body=r.body,
                attachments=[{"document": "payments.avviso", "params": {"position_id": r.position.pk}}],
                purpose="payment_reminder",
            )
            Instalment.objects.filter(pk__in=[i.pk for i in r.rate]).update(reminded_on=today)
        audit_record(
            action="payments.reminders_sent",
            actor=by,
            actor_label="" if by else "promemoria automatico",
            message=f"Promemoria di pagamento inviati: {len(reminders)}",
            data={"positions": [r.position.iupd for r in reminders]},
        )
    return len(reminders)
