"""Writes shared by every app: the audit log and the outgoing mail queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest

from core.models import AuditEntry, OutgoingEmail


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: Any = None,
    message: str = "",
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_label: str = "",
) -> AuditEntry:
    """Append one entry to the current schema's audit log."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        action=action,
        actor=actor if authenticated else None,
        actor_label=actor_label or (str(actor) if authenticated else "anonimo"),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        message=message[:500],
        data=data or {},
        ip_address=client_ip(request),
    )


def email_enqueue(
    *,
    to: list[str],
    subject: str,
    body: str,
    html_body: str = "",
    attachments: list[dict[str, Any]] | None = None,
    purpose: str = "",
    valid_for: timedelta | None = None,
) -> OutgoingEmail:
    """Store the message and queue its sending, atomically with the caller's data.

    The job row is written through the same connection, so it commits or
    rolls back together with whatever caused the e-mail. A message useless
    after `valid_for` (a security code) is retried on a schedule that ends
    within it.
    """
    from core.tasks import CODE_EMAIL_RETRY, email_send, email_send_code, retry_span

    task = email_send
    if valid_for is not None:
        if retry_span(CODE_EMAIL_RETRY) >= valid_for:
            raise ValueError(f"the retries of a code e-mail take longer than {valid_for}")
        task = email_send_code

    with transaction.atomic():
        email = OutgoingEmail.objects.create(
            to=to,
            subject=subject,
            body=body,
            html_body=html_body,
            attachments=attachments or [],
            purpose=purpose,
        )
        task.defer(schema_name=connection.schema_name, email_id=email.pk)
    return email
