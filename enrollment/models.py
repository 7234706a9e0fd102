"""Services, pupils, guardians and enrollments of one comune (tenant schema)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Service(models.Model):
    """A service of the catalogue for one school year (e.g. PRE SCUOLA 2025/2026)."""

    code = models.CharField("codice", max_length=20)
    name = models.CharField("nome", max_length=120)
    description = models.TextField("descrizione", blank=True)
    school_year = models.CharField("anno scolastico", max_length=9)
    opens_at = models.DateTimeField("apertura iscrizioni")
    closes_at = models.DateTimeField("chiusura iscrizioni")
    capacity = models.PositiveIntegerField("posti disponibili", null=True, blank=True)
    fee_note = models.TextField("note sulle tariffe", blank=True)
    new_enrollments = models.BooleanField("nuove iscrizioni", default=True)
    renewals = models.BooleanField("rinnovi", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["school_year", "name"]
        verbose_name = "servizio"
        verbose_name_plural = "servizi"
        constraints = [
            models.UniqueConstraint(fields=["code", "school_year"], name="service_code_year_unique"),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="service_window_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.school_year}"

    def is_open(self, at: timezone.datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.opens_at <= at < self.closes_at
