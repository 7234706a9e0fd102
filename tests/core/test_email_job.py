"""The e-mail job: queued with the data, sent by the worker code, retried on failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob

from core.models import OutgoingEmail
from core.services import email_enqueue
from core.tasks import CODE_EMAIL_RETRY, EmailDeliveryError, email_send, retry_span


def test_enqueue_writes_job_with_schema_name(in_palosco) -> None:  # type: ignore[no-untyped-def]
    email = email_enqueue(to=["genitore@example.org"], subject="Prova", body="Ciao")
    job = ProcrastinateJob.objects.get(task_name="core.email_send")
    assert job.args == {"schema_name": "palosco", "email_id": email.pk}
    assert job.queue_name == "email"


def test_job_sends_once_in_the_right_schema(in_palosco) -> None:  # type: ignore[no-untyped-def]
    email = email_enqueue(to=["genitore@example.org"], subject="Prova", body="Ciao")
    connection.set_schema_to_public()
    email_send(schema_name="palosco", email_id=email.pk)
    email_send(schema_name="palosco", email_id=email.pk)  # a retry after success
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["genitore@example.org"]
    connection.set_tenant(in_palosco)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert email.attempts == 1


def test_failed_send_is_recorded_and_raised_for_retry(in_palosco, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # nothing listens: connection refused
    email = email_enqueue(to=["genitore@example.org"], subject="Prova", body="Ciao")
    with pytest.raises(EmailDeliveryError):
        email_send(schema_name="palosco", email_id=email.pk)
    connection.set_tenant(in_palosco)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.attempts == 1
    assert "ConnectionRefusedError" in email.last_error


def test_a_message_that_expires_is_retried_within_its_validity(in_palosco) -> None:  # type: ignore[no-untyped-def]
    email_enqueue(
        to=["genitore@example.org"], subject="Codice", body="123456", valid_for=timedelta(minutes=10)
    )
    assert ProcrastinateJob.objects.get().task_name == "core.email_send_code"
    assert retry_span(CODE_EMAIL_RETRY) < timedelta(minutes=10)
    with pytest.raises(ValueError, match="retries"):
        email_enqueue(to=["genitore@example.org"], subject="Codice", body="1", valid_for=timedelta(minutes=1))
