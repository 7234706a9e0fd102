"""Reads of the payments app: a family's rate, their status in words, overdue debts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from payments.models import DebtPosition, GateException, Instalment
from tenants.config import Payments

# Compared as they are; the page translates them where it shows them.
LABEL_PAID = gettext_noop("Pagato")
LABEL_DUE = gettext_noop("Da pagare")
LABEL_OVERDUE = gettext_noop("Scaduto")
LABEL_PREPARING = gettext_noop("In preparazione")
LABEL_CANCELLED = gettext_noop("Annullato")


def instalment_label(instalment: Instalment, *, today: date | None = None) -> str:
    """What a parent reads: Pagato, Da pagare, Scaduto (or In preparazione while pagoPA has not got it)."""
    today = today or timezone.localdate()
    if instalment.status == Instalment.Status.PAGATA:
        return LABEL_PAID
    if instalment.status == Instalment.Status.ANNULLATA:
        return LABEL_CANCELLED
    if instalment.position.status == DebtPosition.Status.IN_PREPARAZIONE:
        return LABEL_PREPARING
    return LABEL_OVERDUE if instalment.due_date < today else LABEL_DUE


def instalment_payable(instalment: Instalment) -> bool:
    """True when a PSP can take the payment now (pagoPA holds it, not paid nor cancelled)."""
    return (
        instalment.status == Instalment.Status.DA_PAGARE
        and instalment.position.status == DebtPosition.Status.APERTA
    )


def instalments_for_account(*, account: object) -> QuerySet[Instalment]:
    """The signed-in parent's rate: positions addressed to the account or to its codice fiscale."""
    match = Q(position__payer_account=account)
    codice_fiscale = getattr(account, "codice_fiscale", "")
    if codice_fiscale:
        match |= Q(position__payer_codice_fiscale=codice_fiscale.upper())
    return (
        Instalment.objects.filter(match)
        .exclude(position__status=DebtPosition.Status.ANNULLATA)
        .select_related("position")
        .order_by("due_date", "position_id", "number")
    )


def instalments_for_source(*, source: str) -> QuerySet[Instalment]:
    return (
        Instalment.objects.filter(position__source=source)
        .exclude(position__status=DebtPosition.Status.ANNULLATA)
        .select_related("position")
        .order_by("number")
    )


def instalments_overdue(*, codice_fiscale: str, today: date | None = None) -> QuerySet[Instalment]:
    """Rate of `codice_fiscale` past their due date and still unpaid."""
    today = today or timezone.localdate()
    return (
        Instalment.objects.filter(
            position__payer_codice_fiscale=codice_fiscale.upper(),
            status=Instalment.Status.DA_PAGARE,
            due_date__lt=today,
        )
        .exclude(position__status=DebtPosition.Status.ANNULLATA)
        .select_related("position")
        .order_by("due_date")
    )


def checkout_url(*, instalment: Instalment, config: Payments) -> str:
    """pagoPA checkout for this avviso: the payment notice's RPT id, CF ente + numero avviso."""
    return f"{config.checkout_url.rstrip('/')}/{config.ente_codice_fiscale}{instalment.codice_avviso}"


def debts_blocking(
    *, codice_fiscale: str, service_code: str, school_year: str, today: date | None = None
) -> list[Instalment]:
    """The expired unpaid rate that stop this family enrolling in the service (none with an exception)."""
    if GateException.objects.filter(
        codice_fiscale=codice_fiscale.upper(), service_code=service_code, school_year=school_year
    ).exists():
        return []
    return list(instalments_overdue(codice_fiscale=codice_fiscale, today=today))


def instalments_for_staff(*, codice_fiscale: str = "") -> QuerySet[Instalment]:
    """Every rata of the comune (one family's when `codice_fiscale` is given), for the back office."""
    rows = Instalment.objects.select_related("position").order_by(
        "position__payer_name", "position__description", "number"
    )
    if codice_fiscale:
        rows = rows.filter(position__payer_codice_fiscale=codice_fiscale.strip().upper())
    return rows


@dataclass
class ServiceTotals:
    label: str
    due_cents: int = 0
    paid_cents: int = 0
    overdue_cents: int = 0
    pending: int = 0
    refused: int = 0


def totals_by_service(*, today: date | None = None) -> list[ServiceTotals]:
    """Per service and year: what is still due, paid, overdue; positions pagoPA has not got yet."""
    today = today or timezone.localdate()
    totals: dict[str, ServiceTotals] = {}
    for i in instalments_for_staff().exclude(status=Instalment.Status.ANNULLATA):
        p = i.position
        label = f"{p.service_code} {p.school_year}".strip() or "Debiti pregressi"
        t = totals.setdefault(label, ServiceTotals(label=label))
        if i.status == Instalment.Status.PAGATA:
            t.paid_cents += i.paid_amount_cents or i.amount_cents
        else:
            t.due_cents += i.amount_cents
            if i.due_date < today:
                t.overdue_cents += i.amount_cents
        if p.sync == DebtPosition.Sync.DA_INVIARE and i.number == 1:
            t.pending += 1
        if p.sync == DebtPosition.Sync.ERRORE and i.number == 1:
            t.refused += 1
    return sorted(totals.values(), key=lambda t: t.label)


def staff_state(instalment: Instalment) -> str:
    """What staff read next to the parent's label: where the position stands with pagoPA."""
    position = instalment.position
    if position.sync == DebtPosition.Sync.ERRORE:
        return f"Rifiutata da pagoPA: {position.last_error}"
    if position.sync == DebtPosition.Sync.DA_INVIARE:
        tail = f" (tentativi {position.attempts}: {position.last_error})" if position.attempts else ""
        return "In attesa di invio a pagoPA" + tail
    return ""
