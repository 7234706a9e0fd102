"""App IO messages: confirmations, rejections and payment notices in the parent's IO inbox.

Through the IO services API (`payments.app_io` in the comune's YAML; the API
key from the environment variable it names):

- `POST /profiles` with the fiscal code → 200 `{"sender_allowed": bool}`,
  404 when the citizen has no IO profile; a message goes only to a citizen
  whose profile allows this sender (who has not opted out);
- `POST /messages` → 201 `{"id": ...}`, with `content.subject`,
  `content.markdown` (80-10000 characters) and, for a notice,
  `content.payment_data` (`amount` in cents, `notice_number`, `payee`).

Same rules as pagoPA: the message row and its job are written with the
event; an outage is retried with backoff; the key makes the event's message
unique. IO has no idempotency key of its own: a crash after IO accepted a
message and before our commit can, rarely, repeat it.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import requests
from django.db import transaction
from django.utils import timezone

from core.tenancy import current_schema
from payments.models import IoMessage
from tenants.config import AppIo
from tenants.selectors import comune_current

logger = logging.getLogger(__name__)
TIMEOUT = (5, 20)
MARKDOWN_MIN = 80


class IoUnavailable(Exception):
    """IO is down or throttling: retry later."""


def _config() -> AppIo | None:
    payments = comune_current().settings.payments
    return payments.app_io if payments else None


def io_message_enqueue(
    *,
    key: str,
    fiscal_code: str,
    subject: str,
    markdown: str,
    notice_number: str = "",
    amount_cents: int | None = None,
) -> IoMessage | None:
    """Queue the message once per `key`; None when the comune has no App IO or the CF is unknown."""
    if _config() is None or not fiscal_code:
        return None
    if len(markdown) < MARKDOWN_MIN:
        markdown = markdown + "\n\n" + f"Messaggio inviato da {comune_current().display_name}."
    with transaction.atomic():
        message, created = IoMessage.objects.get_or_create(
            key=key[:80],
            defaults={
                "fiscal_code": fiscal_code.upper(),
                "subject": subject[:120],
                "markdown": markdown[:10000],
                "notice_number": notice_number,
                "amount_cents": amount_cents,
            },
        )
        if created:
            from payments.tasks import io_send

            io_send.defer(schema_name=current_schema(), message_id=message.pk)
    return message


def _post(config: AppIo, path: str, body: dict[str, Any]) -> requests.Response:
    key = os.environ.get(config.api_key_env, "")
    if not key:
        raise ValueError(f"manca la chiave App IO: variabile d'ambiente {config.api_key_env} non impostata")
    try:
        response = requests.post(
            f"{config.base_url.rstrip('/')}{path}",
            json=body,
            headers={"Ocp-Apim-Subscription-Key": key},
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise IoUnavailable(f"IO non raggiungibile: {type(exc).__name__}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise IoUnavailable(f"IO ha risposto {response.status_code}")
    return response


def io_deliver(*, message_id: int) -> None:
    """Send one queued message of the current schema (run by the job)."""
    failure: Exception | None = None
    with transaction.atomic():
        message = IoMessage.objects.select_for_update().get(pk=message_id)
        config = _config()
        if message.status != IoMessage.Status.DA_INVIARE or config is None:
            return
        message.attempts += 1
        try:
            profile = _post(config, "/profiles", {"fiscal_code": message.fiscal_code})
            if profile.status_code == 404 or (
                profile.status_code == 200 and not profile.json().get("sender_allowed", False)
            ):
                message.status = IoMessage.Status.NON_ABILITATO
            elif profile.status_code != 200:
                raise ValueError(f"IO: profilo, risposta {profile.status_code}")
            else:
                content: dict[str, Any] = {"subject": message.subject, "markdown": message.markdown}
                if message.notice_number and message.amount_cents:
                    content["payment_data"] = {
                        "amount": message.amount_cents,
                        "notice_number": message.notice_number,
                        "invalid_after_due_date": False,
                        "payee": {"fiscal_code": comune_current().settings.payments.ente_codice_fiscale},  # type: ignore[union-attr]
                    }
                sent = _post(config, "/messages", {"fiscal_code": message.fiscal_code, "content": content})
                if sent.status_code != 201:
                    raise ValueError(f"IO: messaggio rifiutato ({sent.status_code}): {sent.text[:200]}")
                message.status = IoMessage.Status.INVIATO
                message.io_message_id = str(sent.json().get("id", ""))
                message.sent_at = timezone.now()
        except IoUnavailable as exc:
            failure = exc
            message.last_error = str(exc)[:500]
            logger.warning("IO message %s: %s (attempt %s)", message.key, exc, message.attempts)
        except ValueError as exc:
            message.status = IoMessage.Status.ERRORE
            message.last_error = str(exc)[:500]
            logger.error("IO message %s refused: %s", message.key, exc)
        message.save()
    if failure is not None:
        raise failure
