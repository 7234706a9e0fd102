"""Reads of the payments app: a family's rate, their status in words, overdue debts."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from payments.models import DebtPosition, Instalment
from tenants.config import Payments

LABEL_PAID = "Pagato"
LABEL_DUE = "Da pagare"
LABEL_OVERDUE = "Scaduto"
LABEL_PREPARING = "In preparazione"
LABEL_CANCELLED = "Annullato"


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
