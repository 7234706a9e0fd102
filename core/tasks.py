"""Background jobs of the platform. Each job takes ids and the schema name."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
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


# Finished jobs stay visible to the operators (health page, metrics) for a
# while, then go with their events. Without this the public schema's job and
# event tables only grow: with 1,000 comuni about 130,000 jobs a day (a
# graduatorie job per comune every quarter of an hour, a reconciliation every
# hour, the mails), and the metrics scrape and the health page count them all.
JOBS_KEEP = {
    ("succeeded",): timedelta(days=7),
    ("failed", "cancelled", "aborted"): timedelta(days=30),  # a failure is looked into first
}
JOBS_PRUNE_BATCH = 10_000  # rows per statement: short transactions on a queue in use


@app.periodic(cron="15 4 * * *", periodic_id="core.jobs_prune")
@app.task(queue="maintenance", name="core.jobs_prune", queueing_lock="core.jobs_prune")
def jobs_prune(timestamp: int) -> None:
    """Every night, delete the jobs finished longer ago than JOBS_KEEP says."""
    for statuses, keep in JOBS_KEEP.items():
        deleted = jobs_delete_finished(statuses=statuses, before=timezone.now() - keep)
        logger.info("jobs_prune: %s %s jobs deleted", deleted, "/".join(statuses))


def jobs_delete_finished(*, statuses: tuple[str, ...], before: datetime) -> int:
    """Delete the jobs in `statuses` with no event since `before` (their events go with
    them, ON DELETE CASCADE), as procrastinate's builtin `remove_old_jobs` does, in
    batches, and never a job the periodic deferrer still names: its row has no cascade,
    and procrastinate keeps one per periodic task, the latest."""
    deleted = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM procrastinate_jobs WHERE id IN ("
                " SELECT j.id FROM procrastinate_jobs j"
                " WHERE j.status = ANY(%s::procrastinate_job_status[])"
                " AND NOT EXISTS (SELECT 1 FROM procrastinate_events e WHERE e.job_id = j.id AND e.at >= %s)"
                " AND NOT EXISTS (SELECT 1 FROM procrastinate_periodic_defers p WHERE p.job_id = j.id)"
                " LIMIT %s)",
                [list(statuses), before, JOBS_PRUNE_BATCH],
            )
            batch = cursor.rowcount
        deleted += batch
        if batch < JOBS_PRUNE_BATCH:
            return deleted
