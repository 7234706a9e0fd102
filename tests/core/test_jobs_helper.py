"""The in-process job runner and the real SMTP path used by other tests."""

from __future__ import annotations

from core.services import email_enqueue
from tests.jobs import run_pending_jobs
from tests.smtp import SmtpServer


def test_queued_mail_reaches_a_real_smtp_server(in_palosco, smtp_server: SmtpServer) -> None:  # type: ignore[no-untyped-def]
    email_enqueue(to=["genitore@example.org"], subject="Codice sicurezza", body="Il codice è 123456")
    assert smtp_server.messages == []
    assert run_pending_jobs() == 1
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["To"] == "genitore@example.org"
    assert "123456" in smtp_server.bodies()[0]
    assert run_pending_jobs() == 0
