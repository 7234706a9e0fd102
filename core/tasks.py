"""Background jobs of the platform. Each job takes ids and the schema name."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from core import attachments
from core.models import OutgoingEmail

logger = logging.getLogger(__name__)

# SMTP servers fail transiently: retry with backoff.
EMAIL_RETRY = RetryStrategy(max_attempts=8, exponential_wait=5)
# A security code is worth minutes: its message is retried every 30 s, 60 s,
# 90 s... so that every retry falls inside the code's validity
# (email_enqueue's `valid_for`), never with a code already expired.
CODE_EMAIL_RETRY = RetryStrategy(max_attempts=5, wait=30, linear_wait=30)


def retry_span(strategy: RetryStrategy) -> timedelta:
    """How long after the first failure the last retry of `strategy` starts."""
    attempts = strategy.max_attempts or 0
    # procrastinate's formula (RetryStrategy.get_retry_decision), n = attempts so far.
    seconds = sum(
        strategy.wait + strategy.linear_wait * n + strategy.exponential_wait ** (n + 1)
        for n in range(attempts)
    )
    return timedelta(seconds=seconds)


@app.task(queue="email", retry=EMAIL_RETRY, name="core.email_send")
def email_send(*, schema_name: str, email_id: int) -> None:
    with schema_context(schema_name):
        email_deliver(email_id=email_id)


@app.task(queue="email", retry=CODE_EMAIL_RETRY, name="core.email_send_code")
def email_send_code(*, schema_name: str, email_id: int) -> None:
    """The same send for messages that expire in minutes (security codes)."""
    with schema_context(schema_name):
        email_deliver(email_id=email_id)


class EmailDeliveryError(RuntimeError):
    """Raised so the job queue retries a send that failed."""


def email_deliver(*, email_id: int) -> None:
    """Send one queued e-mail of the current schema; a sent one is never resent.

    A failure is committed on the row (status, attempts, error) before the
    exception reaches the queue, which retries with backoff.
    """
    failure: Exception | None = None
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().get(pk=email_id)
        if email.status == OutgoingEmail.Status.SENT:
            return
        email.attempts += 1
        message = EmailMultiAlternatives(subject=email.subject, body=email.body, to=email.to)
        if email.html_body:
            message.attach_alternative(email.html_body, "text/html")
        try:
            for spec in email.attachments:
                message.attach(*attachments.render(spec))
            message.send(fail_silently=False)
        except Exception as exc:
            failure = exc
            email.status = OutgoingEmail.Status.FAILED
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            logger.warning("email %s failed (attempt %s): %s", email_id, email.attempts, exc)
        else:
            email.status = OutgoingEmail.Status.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
        email.save(update_fields=["status", "attempts", "last_error", "sent_at"])
    if failure is not None:
        raise EmailDeliveryError(f"e-mail {email_id} not sent") from failure
