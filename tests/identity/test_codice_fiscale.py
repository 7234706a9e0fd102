""" "Sono un nuovo iscritto": codice fiscale checks, first access, re-entry, temporary password."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.models import AuditEntry, OutgoingEmail
from identity.models import Account
from identity.services import AccessError, parent_account_for_codice_fiscale, temporary_password_issue
from identity.validators import codice_fiscale_clean
from tests.jobs import run_pending_jobs

from .conftest import OTHER_CF, VALID_CF, cf_post, reload


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Inserire il codice fiscale dell'alunno."),
        ("RSSMRA15T10A562", "deve avere 16 caratteri: ne sono stati inseriti 15"),
        ("RSSMRA15T10A5621", "non ha un formato valido"),
        ("12SMRA15T10A562Z", "non ha un formato valido"),
        ("RSSMRA15T10A562X", "dovrebbe essere Z"),
        ("RSSMRA15B30A562N", "data di nascita non valida"),
    ],
)
def test_codice_fiscale_errors_are_precise(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        codice_fiscale_clean(value)
    assert message in info.value.messages[0]


def test_codice_fiscale_is_normalised() -> None:
    assert codice_fiscale_clean(" rssmra15t10a562z ") == VALID_CF


def test_wrong_check_character_is_shown_next_to_the_field(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    response = cf_post(palosco_client, "RSSMRA15T10A562X")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Il carattere di controllo (l&#x27;ultimo) non è corretto" in html
    assert 'id="id_codice_fiscale-codice_fiscale-error"' in html
    assert 'href="#id_codice_fiscale-codice_fiscale"' in html
    with tenant_context(palosco):
        assert not Account.objects.filter(username="RSSMRA15T10A562X").exists()


def test_first_access_creates_account_and_leads_to_new_enrollment(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    response = cf_post(palosco_client, VALID_CF.lower())
    assert response["Location"] == "/accesso/verifica-email/"
    assert palosco_client.session["after_access_url"] == "/iscrizioni/nuova/"
    with tenant_context(palosco):
        account = Account.objects.get(username=VALID_CF)
        assert account.codice_fiscale == VALID_CF
        assert account.kind == Account.Kind.PARENT
        assert not account.has_usable_password()
        assert AuditEntry.objects.filter(
            action="login.success", data__backend="codice_fiscale_nuovo"
        ).exists()


def test_re_entry_without_saved_draft_reuses_the_account(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    cf_post(palosco_client, VALID_CF)
    palosco_client.post("/esci/")
    response = cf_post(palosco_client, VALID_CF)
    assert response.status_code == 302
    with tenant_context(palosco):
        assert Account.objects.filter(codice_fiscale=VALID_CF).count() == 1


def _with_saved_draft(palosco) -> Account:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        account = Account.objects.create_user(
            VALID_CF,
            kind=Account.Kind.PARENT,
            codice_fiscale=VALID_CF,
            created_by_backend="codice_fiscale",
            email="famiglia@example.org",
            email_verified_at=timezone.now(),
        )
        temporary_password_issue(account=account)
    return account


def test_cf_only_asks_for_the_password_once_a_draft_was_saved(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    _with_saved_draft(palosco)
    response = cf_post(palosco_client, VALID_CF)
    assert response.status_code == 400
    html = response.content.decode()
    assert "inserire anche la Password ricevuta via email" in html
    assert 'id="id_codice_fiscale-password-error"' in html
    assert "_auth_user_id" not in palosco_client.session
    with tenant_context(palosco):
        assert Account.objects.filter(codice_fiscale=VALID_CF).count() == 1


def test_spid_parent_account_cannot_be_entered_with_cf_only(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        parent_account_for_codice_fiscale(codice_fiscale=OTHER_CF, first_name="Luca")
    response = cf_post(palosco_client, OTHER_CF)
    assert response.status_code == 400
    assert "_auth_user_id" not in palosco_client.session


def test_temporary_password_mail_and_forced_change(smtp_server, palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    account = _with_saved_draft(palosco)
    with tenant_context(palosco):
        assert OutgoingEmail.objects.get(purpose="temporary_password").to == ["famiglia@example.org"]
        assert AuditEntry.objects.filter(action="password.temporary_issue").exists()
    assert run_pending_jobs() == 1
    assert smtp_server.messages[0]["To"] == "famiglia@example.org"
    assert "Password temporanea" in smtp_server.messages[0]["Subject"]
    body = smtp_server.bodies()[0]
    password = re.search(r"^\s+(\S+-\S+-\S+)\s*$", body, re.MULTILINE).group(1)  # type: ignore[union-attr]
    assert password not in reload(palosco, account).password

    assert "non corretti" in cf_post(palosco_client, VALID_CF, "sbagliata-1").content.decode()
    response = cf_post(palosco_client, VALID_CF, password)
    assert response["Location"] == "/accesso/cambio-password/"
    response = palosco_client.post(
        "/accesso/cambio-password/",
        {"new_password1": "Scuola-Bimbi-2026", "new_password2": "Scuola-Bimbi-2026"},
    )
    # E-mail already verified: straight to the saved enrollment.
    assert response["Location"] == "/iscrizioni/"
    palosco_client.post("/esci/")
    assert cf_post(palosco_client, VALID_CF, "Scuola-Bimbi-2026")["Location"] == "/iscrizioni/"


def test_password_containing_the_cf_is_refused(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    _with_saved_draft(palosco)
    with tenant_context(palosco):
        Account.objects.filter(username=VALID_CF).update(password="")
        account = Account.objects.get(username=VALID_CF)
        account.set_password("Temp-1234-abcd")
        account.save()
    cf_post(palosco_client, VALID_CF, "Temp-1234-abcd")
    response = palosco_client.post(
        "/accesso/cambio-password/", {"new_password1": f"x{VALID_CF}", "new_password2": f"x{VALID_CF}"}
    )
    assert "codice utente o al codice fiscale" in response.content.decode()


def test_cf_password_lockout(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    _with_saved_draft(palosco)
    for _ in range(5):
        cf_post(palosco_client, VALID_CF, "sbagliata-1")
    assert "Troppi tentativi non riusciti" in cf_post(palosco_client, VALID_CF, "x").content.decode()


def test_temporary_password_needs_a_verified_address(palosco) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        account = Account.objects.create_user(VALID_CF, kind=Account.Kind.PARENT, email="a@example.org")
        with pytest.raises(AccessError):
            temporary_password_issue(account=account)
        assert not OutgoingEmail.objects.exists()


def test_palosco_cf_account_does_not_exist_on_romano(palosco_client: Client, romano, palosco) -> None:  # type: ignore[no-untyped-def]
    cf_post(palosco_client, VALID_CF)
    with tenant_context(romano):
        assert not Account.objects.filter(username=VALID_CF).exists()


def test_probing_cf_with_saved_drafts_is_locked_out(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    _with_saved_draft(palosco)
    for _ in range(5):
        assert "inserire anche la Password" in cf_post(palosco_client, VALID_CF).content.decode()
    assert "Troppi tentativi non riusciti" in cf_post(palosco_client, VALID_CF).content.decode()


def test_new_accounts_from_one_ip_are_bounded(palosco, settings) -> None:  # type: ignore[no-untyped-def]
    from stdnum.it import codicefiscale

    # Configurable (NEW_ACCOUNTS_PER_IP); small here so the test stays short.
    settings.NEW_ACCOUNTS_PER_IP = MAX_NEW_ACCOUNTS_PER_IP = 6

    def new_cf(i: int) -> str:
        body = f"RSSMRA15T10A{500 + i:03d}"
        return body + codicefiscale.calc_check_digit(body)

    for i in range(MAX_NEW_ACCOUNTS_PER_IP):
        response = cf_post(Client(HTTP_HOST="palosco.localhost", REMOTE_ADDR="10.1.2.3"), new_cf(i))
        assert response.status_code == 302, i
    refused = cf_post(Client(HTTP_HOST="palosco.localhost", REMOTE_ADDR="10.1.2.3"), new_cf(99))
    assert "Troppi tentativi non riusciti" in refused.content.decode()
    # Another address, and re-entering an account that exists, are not affected.
    assert (
        cf_post(Client(HTTP_HOST="palosco.localhost", REMOTE_ADDR="10.9.9.9"), new_cf(99)).status_code == 302
    )
    assert (
        cf_post(Client(HTTP_HOST="palosco.localhost", REMOTE_ADDR="10.1.2.3"), new_cf(0)).status_code == 302
    )
    with tenant_context(palosco):
        assert (
            Account.objects.filter(created_by_backend="codice_fiscale").count() == MAX_NEW_ACCOUNTS_PER_IP + 1
        )
