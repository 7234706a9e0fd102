""" "Verifica Email": codes through the real mail path, expiry, reuse, wrong tries, send limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob
from procrastinate.jobs import Job

from core.models import AuditEntry
from core.tasks import EmailDeliveryError
from identity.email_verification import OTP_LIFETIME
from identity.models import EmailVerification
from tests.jobs import run_pending_jobs

from .conftest import PASSWORD, VALID_CF, cf_post, code_from, credentials_post, parent_create, reload

NEXT_STEP = "Inserire il codice e premere il tasto Conferma per procedere con l&#x27;iscrizione."
CODE_PAGE = "/accesso/verifica-email/codice/"


def _send(client: Client, email: str = "nuovo@example.org"):  # type: ignore[no-untyped-def]
    return client.post("/accesso/verifica-email/", {"email": email})


def _confirm(client: Client, code: str):  # type: ignore[no-untyped-def]
    return client.post("/accesso/verifica-email/codice/", {"code": code})


@pytest.fixture
def logged_in(palosco_client: Client, palosco_parent) -> Client:  # type: ignore[no-untyped-def]
    credentials_post(palosco_client, "PAL-000777", PASSWORD)
    return palosco_client


def _received_code(smtp_server) -> str:  # type: ignore[no-untyped-def]
    run_pending_jobs()
    return code_from(smtp_server.bodies()[-1])


def test_page_has_the_seed_labels_and_readonly_comune(logged_in: Client) -> None:
    html = logged_in.get("/accesso/verifica-email/").content.decode()
    for label in ("Verifica Email", "Email", "Comune", "Indietro", "Invia email"):
        assert label in html, label
    assert 'value="Comune di Palosco" readonly' in html
    assert 'value="anna@example.org"' in html  # the address on record, to confirm or change


def test_code_verifies_the_address_through_real_mail(
    smtp_server, logged_in: Client, palosco, palosco_parent
) -> None:  # type: ignore[no-untyped-def]
    response = _send(logged_in)
    assert response["Location"] == CODE_PAGE
    page = logged_in.get(response["Location"]).content.decode()
    queued = (
        "Invio del codice sicurezza a nuovo@example.org in corso: di solito arriva entro un minuto. "
        + NEXT_STEP
    )
    for label in (queued, "Inserimento Codice sicurezza", "Codice sicurezza", "Conferma", "Indietro"):
        assert label in page, label
    code = _received_code(smtp_server)
    sent = f"Codice sicurezza inviato correttamente a nuovo@example.org. {NEXT_STEP}"
    assert sent in logged_in.get(CODE_PAGE).content.decode()
    assert smtp_server.messages[-1]["To"] == "nuovo@example.org"
    with tenant_context(palosco):
        stored = EmailVerification.objects.get()
        assert code not in stored.code_hash
        assert stored.code_hash.startswith("argon2")
    response = _confirm(logged_in, code)
    assert response["Location"] == "/iscrizioni/"
    account = reload(palosco, palosco_parent)
    assert account.email == "nuovo@example.org"
    assert account.email_verified_at is not None
    with tenant_context(palosco):
        assert AuditEntry.objects.filter(action="email.otp_sent").count() == 1
        assert AuditEntry.objects.filter(action="email.verified").count() == 1


def test_new_enrollee_lands_on_new_enrollment_after_verification(smtp_server, palosco_client: Client) -> None:  # type: ignore[no-untyped-def]
    cf_post(palosco_client, VALID_CF)
    _send(palosco_client, "famiglia@example.org")
    assert _confirm(palosco_client, _received_code(smtp_server))["Location"] == "/iscrizioni/nuova/"


def test_next_is_kept_through_the_steps(smtp_server, palosco_client: Client, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    credentials_post(palosco_client, "PAL-000777", PASSWORD)
    response = palosco_client.post("/accesso/verifica-email/?next=/iscrizioni/7/", {"email": "a@example.org"})
    assert response["Location"] == "/accesso/verifica-email/codice/?next=%2Fiscrizioni%2F7%2F"
    response = palosco_client.post(response["Location"], {"code": _received_code(smtp_server)})
    assert response["Location"] == "/iscrizioni/7/"


def test_code_is_single_use(smtp_server, logged_in: Client) -> None:  # type: ignore[no-untyped-def]
    _send(logged_in)
    code = _received_code(smtp_server)
    assert _confirm(logged_in, code).status_code == 302
    response = _confirm(logged_in, code)
    assert response.status_code == 400
    assert "già stato utilizzato" in response.content.decode()


def test_expired_code_is_refused(smtp_server, logged_in: Client, palosco, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    _send(logged_in)
    code = _received_code(smtp_server)
    with tenant_context(palosco):
        EmailVerification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _confirm(logged_in, code)
    assert "è scaduto" in response.content.decode()
    assert reload(palosco, palosco_parent).email_verified_at is None


def test_five_wrong_tries_burn_the_code(smtp_server, logged_in: Client, palosco, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    _send(logged_in)
    code = _received_code(smtp_server)
    wrong = "000000" if code != "000000" else "111111"
    assert "Tentativi rimasti: 4." in _confirm(logged_in, wrong).content.decode()
    for _ in range(3):
        _confirm(logged_in, wrong)
    assert "Troppi tentativi errati" in _confirm(logged_in, wrong).content.decode()
    response = _confirm(logged_in, code)  # the right code no longer works
    assert "Troppi tentativi" in response.content.decode()
    assert reload(palosco, palosco_parent).email_verified_at is None
    with tenant_context(palosco):
        assert AuditEntry.objects.filter(action="email.otp_wrong").count() == 5


def test_malformed_code_gets_a_precise_error(logged_in: Client) -> None:
    html = _confirm(logged_in, "12ab").content.decode()
    assert "Il codice sicurezza è formato da 6 cifre." in html
    assert 'href="#id_code"' in html


def test_a_new_send_supersedes_the_old_code(smtp_server, logged_in: Client) -> None:  # type: ignore[no-untyped-def]
    _send(logged_in)
    old = _received_code(smtp_server)
    _send(logged_in)
    new = _received_code(smtp_server)
    if old != new:
        assert "errato" in _confirm(logged_in, old).content.decode()
    assert _confirm(logged_in, new).status_code == 302


def test_three_sends_per_account_in_fifteen_minutes(logged_in: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        assert _send(logged_in, f"a{n}@example.org").status_code == 302
    response = _send(logged_in, "a9@example.org")
    assert response.status_code == 400
    assert "Sono già stati inviati 3 codici negli ultimi 15 minuti" in response.content.decode()
    with tenant_context(palosco):
        EmailVerification.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    assert _send(logged_in, "a9@example.org").status_code == 302


def test_three_sends_per_address_across_accounts(palosco, palosco_client: Client) -> None:  # type: ignore[no-untyped-def]
    for n in range(4):
        parent_create(palosco, f"PAL-00080{n}")
    for n in range(3):
        client = Client(HTTP_HOST="palosco.localhost")
        credentials_post(client, f"PAL-00080{n}", PASSWORD)
        assert _send(client, "vittima@example.org").status_code == 302
    credentials_post(palosco_client, "PAL-000803", PASSWORD)
    assert _send(palosco_client, "VITTIMA@example.org").status_code == 400


def test_verification_needs_login_and_password_change_first(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    response = palosco_client.get("/accesso/verifica-email/")
    assert response["Location"] == "/accesso/?next=%2Faccesso%2Fverifica-email%2F"
    parent_create(palosco, "PAL-000810", must_change_password=True)
    credentials_post(palosco_client, "PAL-000810", PASSWORD)
    assert palosco_client.post("/accesso/verifica-email/", {"email": "a@example.org"})["Location"].startswith(
        "/accesso/cambio-password/"
    )


def test_changing_a_verified_address_needs_a_new_verification(
    smtp_server, palosco_client: Client, palosco
) -> None:  # type: ignore[no-untyped-def]
    account = parent_create(
        palosco, "PAL-000811", email="vecchio@example.org", email_verified_at=timezone.now()
    )
    credentials_post(palosco_client, "PAL-000811", PASSWORD)
    _send(palosco_client, "nuovo@example.org")
    assert reload(palosco, account).email == "vecchio@example.org"
    _confirm(palosco_client, _received_code(smtp_server))
    assert reload(palosco, account).email == "nuovo@example.org"


def test_smtp_failure_is_told_and_retried_within_the_code_validity(
    smtp_server, settings, logged_in: Client, palosco
) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_PORT = 9  # the SMTP server refuses: nothing listens there
    _send(logged_in)
    with tenant_context(palosco):
        job = ProcrastinateJob.objects.get(status="todo")
        assert job.task_name == "core.email_send_code"
        with pytest.raises(EmailDeliveryError):
            run_pending_jobs()
    page = logged_in.get(CODE_PAGE).content.decode()
    assert "Codice sicurezza inviato" not in page
    assert (
        "Non è stato possibile inviare il codice sicurezza a nuovo@example.org. Il portale riprova da solo "
        "nei prossimi minuti" in page
    )
    assert 'role="alert"' in page

    # The worker's retry schedule for this job, from the task itself: every
    # retry starts before the code expires.
    strategy = app.tasks[job.task_name].retry_strategy
    waited, retries = timedelta(0), 0
    while True:
        asked_at = timezone.now()
        decision = strategy.get_retry_decision(exception=EmailDeliveryError(), job=_job(job, retries))
        if decision is None:
            break
        waited += decision.retry_at - asked_at
        retries += 1
    assert retries >= 3
    assert waited < OTP_LIFETIME

    # The first retry, with the server answering again, delivers the code.
    settings.EMAIL_PORT = smtp_server.port
    with tenant_context(palosco):
        ProcrastinateJob.objects.filter(pk=job.pk).update(status="todo")
        run_pending_jobs()
    assert smtp_server.messages[-1]["To"] == "nuovo@example.org"
    assert (
        "Codice sicurezza inviato correttamente a nuovo@example.org"
        in logged_in.get(CODE_PAGE).content.decode()
    )
    assert _confirm(logged_in, code_from(smtp_server.bodies()[-1]))["Location"] == "/iscrizioni/"


def test_code_page_says_when_the_retries_are_over(smtp_server, settings, logged_in: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_PORT = 9
    _send(logged_in)
    with tenant_context(palosco):
        with pytest.raises(EmailDeliveryError):
            run_pending_jobs()
        EmailVerification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = logged_in.get(CODE_PAGE).content.decode()
    assert (
        "Non è stato possibile inviare il codice sicurezza a nuovo@example.org. "
        "Controllare l&#x27;indirizzo, premere Indietro e riprovare con «Invia email»" in page
    )


def _job(row: ProcrastinateJob, attempts: int) -> Job:
    return Job(
        id=row.pk,
        queue=row.queue_name,
        lock=None,
        queueing_lock=None,
        task_name=row.task_name,
        task_kwargs=row.args,
        attempts=attempts,
    )
