"""Writes shared by every app: the audit log and the outgoing mail queue."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from core.models import AuditEntry, OutgoingEmail
from core.tenancy import current_schema


@functools.lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, the one every rate limit, lockout and audit entry uses.

    X-Forwarded-For is anyone's to write, so it counts only when the peer is
    one of settings.TRUSTED_PROXIES; then the client is the right-most
    address of the chain that is not itself a trusted proxy (what a client
    put in front of it is ignored).
    """
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR") or None
    if peer is None or not _is_trusted(peer):
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            # Our proxies write addresses: anything else means the chain cannot be read.
            return peer
        if not _is_trusted(hop):
            return hop
    return hops[0] if hops else peer


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
    entry = audit_entry(
        action=action,
        actor=actor,
        obj=obj,
        message=message,
        data=data,
        request=request,
        actor_label=actor_label,
    )
    entry.save(force_insert=True)
    return entry


def audit_entry(
    *,
    action: str,
    actor: Any = None,
    obj: Any = None,
    message: str = "",
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_label: str = "",
) -> AuditEntry:
    """The entry `audit_record` appends, not saved yet: a bulk write saves them with `audit_records`."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry(
        action=action,
        actor=actor if authenticated else None,
        actor_label=actor_label or (str(actor) if authenticated else "anonimo"),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        message=message[:500],
        data=data or {},
        ip_address=client_ip(request),
    )


# Rows per insert of a bulk write: far below PostgreSQL's 65,535 parameters per statement.
AUDIT_BATCH = 1000


def audit_records(entries: Sequence[AuditEntry]) -> list[AuditEntry]:
    """Append the entries built by `audit_entry` to the audit log in one insert per AUDIT_BATCH."""
    return AuditEntry.objects.bulk_create(entries, batch_size=AUDIT_BATCH)


@dataclass(frozen=True)
class Email:
    """A message for `emails_enqueue`: built where its content is known, queued with the others of a step.

    Its fields are the OutgoingEmail row's own (core.models), the row built from them as they are."""

    to: list[str]
    subject: str
    body: str
    html_body: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    purpose: str = ""


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
    message = Email(to, subject, body, html_body=html_body, attachments=attachments or [], purpose=purpose)
    return _enqueue([message], task=task)[0]


def emails_enqueue(messages: Sequence[Email]) -> list[OutgoingEmail]:
    """Store several messages and queue their sending, in order, atomically with the caller's data.

    Two statements whatever their number (one insert, one batch of jobs): a
    submission at a window's opening queues its receipt and its credentials
    letter together, one mail per job as `email_enqueue` does, so each is
    retried on its own.
    """
    from core.tasks import email_send

    return _enqueue(messages, task=email_send) if messages else []


def _enqueue(messages: Sequence[Email], *, task: Any) -> list[OutgoingEmail]:
    # The rows and their jobs together; inside a caller's transaction no savepoint
    # (two round trips per call): a failure here undoes the caller's step.
    with transaction.atomic(savepoint=False):
        rows = OutgoingEmail.objects.bulk_create(OutgoingEmail(**vars(m)) for m in messages)
        schema = current_schema()
        task.batch_defer(*({"schema_name": schema, "email_id": row.pk} for row in rows))
    return rows
