"""Codice utente + password: login, lockout, cross-tenant refusal, issued credentials."""

from __future__ import annotations

import time

from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.models import AuditEntry
from identity.models import Account
from identity.services import credentials_issue
from tenants.models import Comune

from .conftest import PASSWORD, credentials_post, parent_create, reload

GENERIC = "Credenziali non corrette. Verificare i dati inseriti e riprovare."
LOCKED = "Troppi tentativi non riusciti"


def test_login_rotates_session_and_asks_email_verification(
    palosco_client: Client, palosco_parent, palosco
) -> None:  # type: ignore[no-untyped-def]
    palosco_client.get("/accesso/")
    palosco_client.session.save()
    before = palosco_client.cookies[settings.SESSION_COOKIE_NAME].value
    response = credentials_post(palosco_client, "pal-000777", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accesso/verifica-email/"
    assert palosco_client.cookies[settings.SESSION_COOKIE_NAME].value != before
    with tenant_context(palosco):
        entry = AuditEntry.objects.get(action="login.success")
        assert entry.data == {"backend": "credentials"}
        assert entry.actor_id == palosco_parent.pk


def test_verified_parent_goes_to_home_or_to_next(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    parent_create(palosco, "PAL-000778", email="x@example.org", email_verified_at=timezone.now())
    assert credentials_post(palosco_client, "PAL-000778", PASSWORD)["Location"] == "/iscrizioni/"
    palosco_client.post("/esci/")
    response = credentials_post(palosco_client, "PAL-000778", PASSWORD, next="/iscrizioni/42/")
    assert response["Location"] == "/iscrizioni/42/"
    palosco_client.post("/esci/")
    response = credentials_post(palosco_client, "PAL-000778", PASSWORD, next="https://evil.example/")
    assert response["Location"] == "/iscrizioni/"


def test_romano_login_works_on_its_own_host(romano_client: Client, romano_parent) -> None:  # type: ignore[no-untyped-def]
    response = credentials_post(romano_client, "ROM-000777", PASSWORD)
    assert response["Location"] == "/accesso/verifica-email/"


def test_wrong_password_and_unknown_code_get_the_same_answer(
    palosco_client: Client, palosco_parent, palosco
) -> None:  # type: ignore[no-untyped-def]
    wrong = credentials_post(palosco_client, "PAL-000777", "Sbagliata-123")
    unknown = credentials_post(palosco_client, "PAL-999999", "Sbagliata-123")
    assert wrong.status_code == unknown.status_code == 400
    for response in (wrong, unknown):
        html = response.content.decode()
        assert GENERIC in html
        assert 'role="alert"' in html
    with tenant_context(palosco):
        assert AuditEntry.objects.filter(action="login.failure").count() == 2


def test_empty_fields_have_specific_errors_linked_from_summary(palosco_client: Client) -> None:
    html = credentials_post(palosco_client, "", "").content.decode()
    assert "Inserire il codice utente (per esempio PAL-000123)." in html
    assert "Inserire la password." in html
    assert 'href="#id_credentials-codice_utente"' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_credentials-password-error"' in html


def test_palosco_credentials_fail_on_romano(romano_client: Client, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    response = credentials_post(romano_client, "PAL-000777", PASSWORD)
    assert response.status_code == 400
    assert GENERIC in response.content.decode()
    assert "_auth_user_id" not in romano_client.session


def test_palosco_session_is_unknown_on_romano(palosco_client: Client, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    credentials_post(palosco_client, "PAL-000777", PASSWORD)
    stolen = palosco_client.cookies[settings.SESSION_COOKIE_NAME].value
    other = Client(HTTP_HOST="romanodilombardia.localhost")
    other.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = other.get("/accesso/verifica-email/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accesso/?next=")


def test_lockout_after_five_failures_even_with_right_password(
    palosco_client: Client, palosco_parent, palosco
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        assert GENERIC in credentials_post(palosco_client, "PAL-000777", "Sbagliata-123").content.decode()
    assert LOCKED in credentials_post(palosco_client, "PAL-000777", "Sbagliata-123").content.decode()
    response = credentials_post(palosco_client, "PAL-000777", PASSWORD)
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in palosco_client.session
    with tenant_context(palosco):
        assert AuditEntry.objects.filter(action="login.lockout").count() == 1
    # Another identifier from the same IP is still allowed (below the IP limit).
    parent_create(palosco, "PAL-000779")
    assert credentials_post(palosco_client, "PAL-000779", PASSWORD).status_code == 302


def test_unknown_codes_lock_too_so_locking_reveals_nothing(palosco_client: Client) -> None:
    for _ in range(5):
        credentials_post(palosco_client, "PAL-123456", "Sbagliata-123")
    assert LOCKED in credentials_post(palosco_client, "PAL-123456", "Sbagliata-123").content.decode()


def test_ip_lockout_after_the_configured_failures(palosco_client: Client, palosco, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LOGIN_FAILURES_PER_IP = 20  # LOGIN_FAILURES_PER_IP; generous by default (school and carrier NAT)
    parent_create(palosco, "PAL-000780")
    for n in range(20):
        credentials_post(palosco_client, f"PAL-1000{n:02d}", "Sbagliata-123")
    assert LOCKED in credentials_post(palosco_client, "PAL-000780", PASSWORD).content.decode()
    # Another address is not affected.
    other = Client(HTTP_HOST="palosco.localhost", REMOTE_ADDR="10.0.0.9")
    assert credentials_post(other, "PAL-000780", PASSWORD).status_code == 302


def test_lockout_is_per_comune(
    palosco_client: Client, romano_client: Client, palosco, romano, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.LOGIN_FAILURES_PER_IP = 20
    parent_create(romano, "ROM-000780")
    for n in range(20):
        credentials_post(palosco_client, f"PAL-1000{n:02d}", "Sbagliata-123")
    assert credentials_post(romano_client, "ROM-000780", PASSWORD).status_code == 302


def test_staff_cannot_use_the_parents_login(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        Account.objects.create_user(
            "STAFF-1", password=PASSWORD, kind=Account.Kind.STAFF, codice_utente="PAL-000900", is_staff=True
        )
    assert GENERIC in credentials_post(palosco_client, "PAL-000900", PASSWORD).content.decode()


def test_credentials_issue_allocates_codes_per_comune(palosco: Comune, romano: Comune) -> None:
    with tenant_context(palosco):
        # A code set by hand (as the demo does) is never handed out again.
        Account.objects.create_user("PAL-000001", codice_utente="PAL-000001")
        first = Account.objects.create_user("RSSMRA15T10A562Z", codice_fiscale="RSSMRA15T10A562Z")
        second = Account.objects.create_user("x2")
        a = credentials_issue(account=first)
        b = credentials_issue(account=second)
        codes = {a.codice_utente, b.codice_utente}
        assert len(codes) == 2
        assert all(code.startswith("PAL-") and len(code) == 10 for code in codes)
        assert "PAL-000001" not in codes
        first.refresh_from_db()
        assert first.codice_utente == a.codice_utente
        assert first.must_change_password
        assert first.check_password(a.password)
        assert a.password not in first.password
        assert AuditEntry.objects.filter(action="credentials.issue").count() == 2
        # Issuing again keeps the code and changes the password.
        again = credentials_issue(account=first)
        assert again.codice_utente == a.codice_utente
        assert again.password != a.password
    with tenant_context(romano):
        issued = credentials_issue(account=Account.objects.create_user("y"))
        assert issued.codice_utente.startswith("ROM-")


def test_issued_password_forces_cambio_password(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        account = Account.objects.create_user("z", kind=Account.Kind.PARENT)
        issued = credentials_issue(account=account)
    response = credentials_post(palosco_client, issued.codice_utente, issued.password)
    assert response["Location"] == "/accesso/cambio-password/"
    # Every parent page sends back to Cambio Password until it is done.
    assert palosco_client.get("/accesso/verifica-email/")["Location"].startswith("/accesso/cambio-password/")
    page = palosco_client.get("/accesso/cambio-password/").content.decode()
    assert "Password attuale" not in page  # just typed at login
    assert "Requisiti della password" in page
    assert 'aria-describedby="password-requirements"' in page
    assert page.index("Requisiti della password") < page.index('name="new_password1"')

    def change(password: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
        return palosco_client.post(
            "/accesso/cambio-password/",
            {"new_password1": password, "new_password2": confirm if confirm is not None else password},
        )

    assert "troppo corta" in change("ab12").content.decode()
    assert "sia lettere sia numeri" in change("solamentelettere").content.decode()
    assert "codice utente o al codice fiscale" in change(f"{issued.codice_utente}x9").content.decode()
    assert "troppo comune" in change("password1").content.decode()
    assert "non coincidono" in change("Nuova-Pass-2026", "Nuova-Pass-2027").content.decode()
    response = change("Nuova-Pass-2026")
    assert response["Location"] == "/accesso/verifica-email/"
    account = reload(palosco, account)
    assert not account.must_change_password
    assert account.check_password("Nuova-Pass-2026")
    with tenant_context(palosco):
        assert AuditEntry.objects.filter(action="password.change", actor=account).exists()
    # The session survived the change.
    assert palosco_client.get("/accesso/verifica-email/").status_code == 200


def test_voluntary_password_change_asks_current_password(palosco_client: Client, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    credentials_post(palosco_client, "PAL-000777", PASSWORD)
    response = palosco_client.post(
        "/accesso/cambio-password/",
        {"old_password": "nope", "new_password1": "Nuova-Pass-2026", "new_password2": "Nuova-Pass-2026"},
    )
    assert "La password attuale non è corretta." in response.content.decode()


def test_logout_requires_post_and_ends_the_session(palosco_client: Client, palosco_parent, palosco) -> None:  # type: ignore[no-untyped-def]
    credentials_post(palosco_client, "PAL-000777", PASSWORD)
    assert palosco_client.get("/esci/").status_code == 405
    response = palosco_client.post("/esci/")
    assert response["Location"] == "/"
    assert "_auth_user_id" not in palosco_client.session
    assert palosco_client.get("/accesso/verifica-email/").status_code == 302
    with tenant_context(palosco):
        assert AuditEntry.objects.filter(action="logout").exists()


def test_logout_needs_csrf_token(palosco, palosco_parent) -> None:  # type: ignore[no-untyped-def]
    client = Client(HTTP_HOST="palosco.localhost", enforce_csrf_checks=True)
    assert client.post("/esci/").status_code == 403


def test_session_cookie_is_host_bound_and_expires_when_idle(
    settings, palosco_client: Client, palosco_parent
) -> None:  # type: ignore[no-untyped-def]
    settings.SESSION_COOKIE_AGE = 1
    response = credentials_post(palosco_client, "PAL-000777", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["domain"] == ""
    assert cookie["httponly"]
    assert palosco_client.get("/accesso/verifica-email/").status_code == 200
    time.sleep(1.2)
    assert palosco_client.get("/accesso/verifica-email/").status_code == 302
