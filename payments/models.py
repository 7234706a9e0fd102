"""Debt positions of one comune (tenant schema): what a family owes and has paid.

A `DebtPosition` is what pagoPA calls a posizione debitoria (identified by
its IUPD); each `Instalment` is one of its payment options (rate), with its
own IUV and numero avviso. Amounts are euro cents in integers; conversion
from and to `Decimal` euro happens in payments.money only.

`sync` tracks the adapter: a position is written here first (status
`in_preparazione`, sync `da_inviare`) and a job sends it, so an outage of
pagoPA delays a position but never loses it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class DebtPosition(models.Model):
    class Status(models.TextChoices):
        IN_PREPARAZIONE = "in_preparazione", "In preparazione"
        APERTA = "aperta", "Da pagare"
        PAGATA = "pagata", "Pagata"
        ANNULLATA = "annullata", "Annullata"

    class Sync(models.TextChoices):
        DA_INVIARE = "da_inviare", "Da inviare a pagoPA"
        ALLINEATA = "allineata", "Allineata"
        ERRORE = "errore", "Rifiutata da pagoPA"

    class Origin(models.TextChoices):
        ISCRIZIONE = "iscrizione", "Iscrizione"
        PREGRESSO = "pregresso", "Debito pregresso importato"

    iupd = models.CharField("IUPD", max_length=64, unique=True)
    # What the debt is for, e.g. "enrollment:2025-000123": at most one live
    # position per source, so a confirmation repeated never charges twice.
    source = models.CharField("origine", max_length=80)
    origin = models.CharField(max_length=12, choices=Origin.choices, default=Origin.ISCRIZIONE)
    adapter = models.CharField(max_length=10)
    payer_account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payer_codice_fiscale = models.CharField("codice fiscale del debitore", max_length=16, db_index=True)
    payer_name = models.CharField("debitore", max_length=140)
    payer_email = models.EmailField(blank=True)
    description = models.CharField("causale", max_length=140)
    service_code = models.CharField(max_length=20, blank=True)
    school_year = models.CharField(max_length=9, blank=True)
    # The payer's language for the mails about it (reminders): the enrollment's, else Italian.
    language = models.CharField("lingua di chi paga", max_length=8, default=settings.LANGUAGE_CODE)
    amount_cents = models.PositiveBigIntegerField("importo (centesimi)")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PREPARAZIONE)
    sync = models.CharField(max_length=12, choices=Sync.choices, default=Sync.DA_INVIARE)
    # True once pagoPA holds the position, so an invalidation knows to tell it.
    remote_created = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "posizione debitoria"
        verbose_name_plural = "posizioni debitorie"
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=~Q(status="annullata"), name="debtposition_live_source_unique"
            )
        ]
        indexes = [models.Index(fields=["status", "sync"], name="debtposition_status_sync")]

    def __str__(self) -> str:
        return f"{self.iupd} {self.description}"


# The length of a receipt's id (pagoPA's idReceipt, the treasurer's operation): longer ones are refused.
RECEIPT_ID_MAX = 64


class Instalment(models.Model):
    class Status(models.TextChoices):
        DA_PAGARE = "da_pagare", "Da pagare"
        PAGATA = "pagata", "Pagato"
        ANNULLATA = "annullata", "Annullato"

    # The id is drawn before the row is written and is the IUV base, so an
    # IUV is unique in the comune for ever (see services._ids_allocate).
    position = models.ForeignKey(DebtPosition, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField("rata")
    iuv = models.CharField("IUV", max_length=17, unique=True)
    codice_avviso = models.CharField("codice avviso", max_length=18, unique=True)
    amount_cents = models.PositiveBigIntegerField("importo (centesimi)")
    due_date = models.DateField("scadenza")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DA_PAGARE)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_amount_cents = models.PositiveBigIntegerField(null=True, blank=True)
    # The receipt's id (pagoPA receipt or treasurer's row): a receipt seen twice changes nothing.
    receipt_id = models.CharField(max_length=RECEIPT_ID_MAX, null=True, blank=True, unique=True)
    channel = models.CharField("canale", max_length=20, blank=True)
    # Last reminder e-mail for this overdue rata (payments.reminders).
    reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "number"]
        verbose_name = "rata"
        verbose_name_plural = "rate"
        constraints = [
            models.UniqueConstraint(fields=["position", "number"], name="instalment_position_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.codice_avviso} rata {self.number}"


class GateException(models.Model):
    """Staff let a family enrol in a service although it has expired unpaid debts (with a reason)."""

    codice_fiscale = models.CharField("codice fiscale del debitore", max_length=16, db_index=True)
    service_code = models.CharField(max_length=20)
    school_year = models.CharField(max_length=9)
    reason = models.CharField("motivo", max_length=500)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "eccezione per debiti"
        verbose_name_plural = "eccezioni per debiti"
        constraints = [
            models.UniqueConstraint(
                fields=["codice_fiscale", "service_code", "school_year"], name="gateexception_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.codice_fiscale} {self.service_code} {self.school_year}"


class IoMessage(models.Model):
    """A message to a citizen's App IO inbox, written with what causes it and sent by a job.

    `key` is the idempotency key (e.g. "confirmed:2025-000123", "notice:<iuv>"):
    the same event never queues a second message, and a sent one is never resent.
    """

    class Status(models.TextChoices):
        DA_INVIARE = "da_inviare", "Da inviare"
        INVIATO = "inviato", "Inviato"
        NON_ABILITATO = "non_abilitato", "Cittadino non raggiungibile su IO"
        ERRORE = "errore", "Rifiutato da IO"

    key = models.CharField(max_length=80, unique=True)
    fiscal_code = models.CharField(max_length=16)
    subject = models.CharField(max_length=120)
    markdown = models.TextField()
    notice_number = models.CharField(max_length=18, blank=True)
    amount_cents = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.DA_INVIARE)
    io_message_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "messaggio App IO"
        verbose_name_plural = "messaggi App IO"

    def __str__(self) -> str:
        return f"{self.key} {self.status}"
