"""Operators' second factor (public schema only: superadmin is a shared app)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OperatorSecondFactor(models.Model):
    """An operator's TOTP secret; the console needs it confirmed and used at each login."""

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="second_factor",
        verbose_name="operatore",
    )
    secret = models.CharField("segreto TOTP", max_length=64)
    confirmed_at = models.DateTimeField("attivato il", null=True, blank=True)
    # The time step of the last accepted code: that code and older ones are refused.
    last_used_step = models.BigIntegerField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "secondo fattore operatore"
        verbose_name_plural = "secondi fattori operatori"

    def __str__(self) -> str:
        return f"TOTP di {self.account}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
