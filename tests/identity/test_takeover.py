""" "Sono un nuovo iscritto": a codice fiscale alone never opens a family's data.

The review's sequence: a family enrols without ever pressing "Salva Bozza";
a stranger who knows the pupil's codice fiscale must then get nothing, on the
web and through the API. Each test here failed on the code before the fix.
"""

from __future__ import annotations

from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.models import OutgoingEmail
from enrollment.credentials import PasswordState, letter_credentials
from enrollment.documents import LetteraCredenziali
from enrollment.models import Enrollment
from identity.models import Account
from identity.services import CF_PASSWORD_NEEDED_MESSAGE, temporary_password_ensure
from tests.api.conftest import api_client, body, post
from tests.enrollment.conftest import GUARDIAN_CF, PUPIL_CF, form_data, service

from .conftest import cf_post, code_from

HOST = "palosco.localhost"
FAMILY_EMAIL = "famiglia.bianchi@example.org"
FAMILY_PHONE = "035 777888"


def _verified_cf_session(comune, email: str = FAMILY_EMAIL) -> Client:  # type: ignore[no-untyped-def]
    """A browser that entered with the codice fiscale alone and verified `email`."""
    client = Client(HTTP_HOST=HOST)
    assert cf_post(client, PUPIL_CF).status_code == 302
    assert client.post("/accesso/verifica-email/", {"email": email}).status_code == 302
    with tenant_context(comune):
        code = code_from(OutgoingEmail.objects.filter(purpose="email_verification").latest("id").body)
    assert client.post("/accesso/verifica-email/codice/", {"code": code}).status_code == 302
    return client


def _family_submits_without_a_draft(comune) -> Client:  # type: ignore[no-untyped-def]
    family = _verified_cf_session(comune)
    with tenant_context(comune):
        data = form_data(services=[service("PRE")], guardian_email=FAMILY_EMAIL, guardian_phone=FAMILY_PHONE)
    # "Vai al riepilogo iscrizione", then "Invia Iscrizione": never "Salva Bozza".
    summary = family.post("/iscrizioni/nuova/", data)
    assert summary.status_code == 302, summary.content.decode()[:2000]
    page = family.get(summary["Location"]).content.decode()
    assert "Ti abbiamo inviato una password temporanea a f***@example.org" in page
    assert family.post(summary["Location"], {"azione": "invia"}).status_code == 302
    with tenant_context(comune):
        assert Enrollment.objects.get().status == Enrollment.Status.INVIATA
    return family


def test_submission_without_a_draft_closes_the_codice_fiscale_door(palosco) -> None:  # type: ignore[no-untyped-def]
    family = _family_submits_without_a_draft(palosco)
    stranger = Client(HTTP_HOST=HOST)
    response = cf_post(stranger, PUPIL_CF)
    html = response.content.decode()
    assert response.status_code == 400
    assert "_auth_user_id" not in stranger.session
    assert "Password dimenticata" in html
    for private in (FAMILY_EMAIL, FAMILY_PHONE, GUARDIAN_CF, "Via Roma"):
        assert private not in html
    assert stranger.get("/iscrizioni/")["Location"].startswith("/accesso/")
    # The family itself keeps working in its session.
    assert family.get("/iscrizioni/").status_code == 200


def test_submission_mails_the_temporary_password_once_and_it_opens_the_account(palosco) -> None:  # type: ignore[no-untyped-def]
    _family_submits_without_a_draft(palosco)
    with tenant_context(palosco):
        mails = OutgoingEmail.objects.filter(purpose="temporary_password")
        assert mails.count() == 1 and mails.get().to == [FAMILY_EMAIL]
        password = code_from_password(mails.get().body)
    returning = Client(HTTP_HOST=HOST)
    response = cf_post(returning, PUPIL_CF, password)
    assert response.status_code == 302 and response["Location"].startswith("/accesso/cambio-password/")


def code_from_password(body: str) -> str:
    return next(line.strip() for line in body.splitlines() if line.startswith("    "))


def test_the_api_gives_no_token_for_a_codice_fiscale_alone_after_a_submission(palosco) -> None:  # type: ignore[no-untyped-def]
    _family_submits_without_a_draft(palosco)
    stranger = api_client(palosco)
    response = post(
        stranger,
        "/api/v1/auth/token/",
        {"method": "codice_fiscale", "codice_fiscale": PUPIL_CF, "device_name": "Telefono"},
    )
    assert response.status_code in (400, 401, 403)
    assert "token" not in response.json()
    assert FAMILY_EMAIL not in response.content.decode()


def test_api_first_save_without_draft_mails_the_temporary_password(palosco) -> None:  # type: ignore[no-untyped-def]
    app = api_client(palosco)
    token = post(
        app,
        "/api/v1/auth/token/",
        {"method": "codice_fiscale", "codice_fiscale": PUPIL_CF, "device_name": "Telefono"},
    ).json()["token"]
    app = api_client(palosco, token)
    assert post(app, "/api/v1/me/email/send/", {"email": FAMILY_EMAIL}).status_code == 202
    with tenant_context(palosco):
        code = code_from(OutgoingEmail.objects.filter(purpose="email_verification").latest("id").body)
        data = body()
    assert post(app, "/api/v1/me/email/confirm/", {"code": code}).status_code == 200
    created = post(app, "/api/v1/enrollments/", data)
    assert created.status_code == 201, created.json()
    with tenant_context(palosco):
        assert OutgoingEmail.objects.filter(purpose="temporary_password").count() == 1
    # And the codice fiscale alone no longer gives a token.
    again = post(
        api_client(palosco),
        "/api/v1/auth/token/",
        {"method": "codice_fiscale", "codice_fiscale": PUPIL_CF, "device_name": "Altro"},
    )
    assert again.status_code in (400, 401, 403) and "token" not in again.json()


def test_a_verified_address_alone_closes_the_door(palosco) -> None:  # type: ignore[no-untyped-def]
    """Verified but nothing saved yet: the account already holds data (the address)."""
    _verified_cf_session(palosco)
    stranger = Client(HTTP_HOST=HOST)
    response = cf_post(stranger, PUPIL_CF)
    assert response.status_code == 400 and "_auth_user_id" not in stranger.session
    assert CF_PASSWORD_NEEDED_MESSAGE.split(":")[0].replace("'", "&#x27;") in response.content.decode()


def test_an_empty_account_may_still_be_re_entered(palosco) -> None:  # type: ignore[no-untyped-def]
    assert cf_post(Client(HTTP_HOST=HOST), PUPIL_CF).status_code == 302
    again = Client(HTTP_HOST=HOST)
    assert cf_post(again, PUPIL_CF).status_code == 302 and "_auth_user_id" in again.session


def test_codice_fiscale_session_cannot_replace_a_verified_address(palosco) -> None:  # type: ignore[no-untyped-def]
    """Even the session that opened the empty account: a replacement needs the password."""
    session = _verified_cf_session(palosco)
    response = session.post("/accesso/verifica-email/", {"email": "altro@example.org"})
    assert response.status_code == 400
    assert "necessario accedere con la password" in response.content.decode()
    with tenant_context(palosco):
        assert not OutgoingEmail.objects.filter(to=["altro@example.org"]).exists()


def test_password_session_replaces_the_address_and_the_old_one_is_told(palosco) -> None:  # type: ignore[no-untyped-def]
    _family_submits_without_a_draft(palosco)
    with tenant_context(palosco):
        password = code_from_password(OutgoingEmail.objects.get(purpose="temporary_password").body)
    client = Client(HTTP_HOST=HOST)
    cf_post(client, PUPIL_CF, password)
    new_password = "Bianchi-Famiglia-2026"
    client.post("/accesso/cambio-password/", {"new_password1": new_password, "new_password2": new_password})
    assert client.post("/accesso/verifica-email/", {"email": "nuovo@example.org"}).status_code == 302
    with tenant_context(palosco):
        code = code_from(OutgoingEmail.objects.filter(to=["nuovo@example.org"]).latest("id").body)
    assert client.post("/accesso/verifica-email/codice/", {"code": code}).status_code == 302
    with tenant_context(palosco):
        told = OutgoingEmail.objects.get(purpose="email_changed")
        assert told.to == [FAMILY_EMAIL] and "n***@example.org" in told.body
        assert Account.objects.get(username=PUPIL_CF).email == "nuovo@example.org"


def test_password_reset_goes_only_to_a_verified_address(palosco) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        Account.objects.create_user(
            username="PAL-000555", codice_utente="PAL-000555", password="Qualsiasi-2026",
            kind=Account.Kind.PARENT, email="mai.verificato@example.org",
        )  # fmt: skip
    Client(HTTP_HOST=HOST).post("/accesso/password-dimenticata/", {"identifier": "PAL-000555"})
    with tenant_context(palosco):
        assert not OutgoingEmail.objects.filter(purpose="password_reset").exists()


def test_parallel_first_saves_issue_one_password(in_palosco) -> None:  # type: ignore[no-untyped-def]
    account = Account.objects.create_user(
        username=PUPIL_CF, codice_fiscale=PUPIL_CF, kind=Account.Kind.PARENT,
        created_by_backend="codice_fiscale", email=FAMILY_EMAIL, email_verified_at=timezone.now(),
    )  # fmt: skip
    assert temporary_password_ensure(account=account) is True
    assert temporary_password_ensure(account=account) is False
    assert OutgoingEmail.objects.filter(purpose="temporary_password").count() == 1


def test_the_letter_tells_where_the_password_comes_from(in_palosco) -> None:  # type: ignore[no-untyped-def]
    def account(username: str, **fields: object) -> Account:
        return Account.objects.create_user(
            username=username, kind=Account.Kind.PARENT, email=FAMILY_EMAIL,
            email_verified_at=timezone.now(), **fields,
        )  # fmt: skip

    spid = account("RSSMRA80A01H501U", codice_fiscale="RSSMRA80A01H501U")
    cf = account(PUPIL_CF, codice_fiscale=PUPIL_CF, created_by_backend="codice_fiscale")
    temporary_password_ensure(account=cf)
    cf.refresh_from_db()
    chosen = account("PAL-000556", password="Scelta-Da-Me-2026")
    expected = {
        spid: (PasswordState.NONE, "SPID o CIE"),
        cf: (PasswordState.TEMPORARY, "inviata via email all'indirizzo f***@example.org"),
        chosen: (PasswordState.CHOSEN, "quella che hai scelto tu"),
    }
    for who, (state, text) in expected.items():
        assert letter_credentials(account=who).password_state == state
        html = LetteraCredenziali(comune=in_palosco, account=who).html()
        assert text in html
        if state != PasswordState.CHOSEN:
            assert "scelto tu" not in html
