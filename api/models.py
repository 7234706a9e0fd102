"""Access tokens of the parents' app and the one-time codes that lead to them.

Both live in the comune's schema: a token issued by Palosco does not exist on
Romano's host. Only a SHA-256 hash of each secret is stored; the clear value
is shown once, to the app that asked for it.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """One device (app installation) signed in as one parent ("dispositivi")."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    # The account's session auth hash when the token was issued (Django's own
    # mechanism for sessions): any password change or reset, on the web or
    # here, ends every token issued before it, as it ends web sessions.
    account_hash = models.CharField(max_length=128)
    device_name = models.CharField("nome del dispositivo", max_length=100)
    # The login method that issued it (credentials, codice_fiscale, spid, cie...).
    backend = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "token dell'app"
        verbose_name_plural = "token dell'app"
        indexes = [models.Index(fields=["account", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.account} · {self.device_name}"

    def is_valid(self, at: datetime | None = None) -> bool:
        return self.revoked_at is None and (at or timezone.now()) < self.expires_at


class AppLoginCode(models.Model):
    """A one-time code handed to the app through its redirect after a web login (SPID/CIE)."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    # PKCE (RFC 7636, S256): only the app that started the login holds the
    # verifier, so a code caught by another app on the same phone is useless.
    code_challenge = models.CharField(max_length=128)
    backend = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "codice di accesso per l'app"
        verbose_name_plural = "codici di accesso per l'app"

    def __str__(self) -> str:
        return f"{self.account} ({self.created_at:%Y-%m-%d %H:%M})"
