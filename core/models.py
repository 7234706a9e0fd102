"""Deployment-wide records that live in every schema.

`core` is both a shared and a tenant app: the public schema holds the
operators' audit trail and mail, each comune's schema holds its own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """Who did what, when, to which object, with the values before and after."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "voce di audit"
        verbose_name_plural = "registro di audit"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"


class OutgoingEmail(models.Model):
    """An e-mail to send, written in the same transaction as what caused it.

    The job queue sends it; a failed send leaves the row `fallita` with the
    error, so no message is ever silently lost.
    """

    class Status(models.TextChoices):
        QUEUED = "in_coda", "In coda"
        SENT = "inviata", "Inviata"
        FAILED = "fallita", "Fallita"

    created_at = models.DateTimeField(auto_now_add=True)
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    # Documents rendered at send time: [{"document": "...", "params": {...}}]
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    purpose = models.CharField(max_length=60, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "e-mail in uscita"
        verbose_name_plural = "e-mail in uscita"

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
