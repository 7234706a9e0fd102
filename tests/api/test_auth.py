"""Tokens: obtain through the identity services, use, expiry, devices, revocation, forced steps."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from api.models import ApiToken
from api.services import pkce_challenge, secret_hash, token_issue
from core.models import AuditEntry, OutgoingEmail
from identity.models import Account
from identity.ratelimit import LOCKED_MESSAGE
from identity.services import LOGIN_FAILED_MESSAGE
from tests.api.conftest import api_client, parent_create, post, token_for

PASSWORD = "Password-Genitore-1"  # tests.enrollment.conftest.parent_create
VALID_CF = "RSSMRA15T10A562Z"


def _obtain(client: Client, **data: str):  # type: ignore[no-untyped-def]
    return post(client, "/api/v1/auth/token/", {"device_name": "iPhone di Giulia", **data})


def test_credentials_give_a_token_stored_only_as_hash(in_romano, romano_parent) -> None:
    client = api_client(in_romano)
    response = _obtain(client, method="credentials", codice_utente="rom-000900", password=PASSWORD)
    assert response.status_code == 201, response.json()
    data = response.json()
    key = data["token"]
    assert len(key) >= 43 and data["account"]["codice_utente"] == "ROM-000900"
    assert data["account"]["next_step"] is None and data["device"]["device_name"] == "iPhone di Giulia"
    token = ApiToken.objects.get()
    assert token.key_hash == secret_hash(key) and key not in token.key_hash
    assert abs((token.expires_at - token.created_at) - timedelta(days=30)) < timedelta(seconds=1)
    assert AuditEntry.objects.filter(action="login.success", data__channel="api").exists()
    me = api_client(in_romano, key).get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["account"]["email_verified"] is True
    assert "iscrizioni_session" not in me.cookies  # a token call starts no session


def test_wrong_password_is_refused_and_counted_towards_the_same_lockout(in_romano, romano_parent) -> None:
    client = api_client(in_romano)
    for _ in range(4):
        response = _obtain(client, method="credentials", codice_utente="ROM-000900", password="sbagliata-1")
        assert response.status_code == 400
        assert response.json()["error"] == {"code": "invalid_credentials", "message": LOGIN_FAILED_MESSAGE}
    response = _obtain(client, method="credentials", codice_utente="ROM-000900", password="sbagliata-1")
    assert response.status_code == 429 and response.json()["error"]["message"] == LOCKED_MESSAGE
    # Locked now even with the right password, exactly as on the web login page.
    response = _obtain(client, method="credentials", codice_utente="ROM-000900", password=PASSWORD)
    assert response.status_code == 429 and response.json()["error"]["code"] == "locked"
    # As docs/api.md promises: how long to wait, at most the lock's 15 minutes (it had none).
    assert response.headers["Retry-After"] == "900"
    assert not ApiToken.objects.exists()


def test_unknown_account_gets_the_same_answer(in_romano) -> None:
    response = _obtain(api_client(in_romano), method="credentials", codice_utente="ROM-999999", password="x1")
    assert response.status_code == 400 and response.json()["error"]["message"] == LOGIN_FAILED_MESSAGE


def test_missing_fields_get_the_login_forms_italian_errors(in_romano) -> None:
    response = _obtain(api_client(in_romano), method="credentials")
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "validation_error"
    assert error["fields"] == {
        "codice_utente": ["Inserire il codice utente (per esempio PAL-000123)."],
        "password": ["Inserire la password."],
    }
    response = post(api_client(in_romano), "/api/v1/auth/token/", {"method": "spid"})
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"method", "device_name"}


def test_login_method_must_be_enabled_for_the_comune(in_romano) -> None:
    response = _obtain(api_client(in_romano), method="codice_fiscale", codice_fiscale=VALID_CF)
    assert response.status_code == 400 and response.json()["error"]["code"] == "method_not_enabled"


def test_codice_fiscale_first_access_then_forced_email_verification(in_palosco) -> None:
    client = api_client(in_palosco)
    bad = _obtain(client, method="codice_fiscale", codice_fiscale=VALID_CF[:-1] + "A")
    assert bad.status_code == 400
    assert "carattere di controllo" in bad.json()["error"]["fields"]["codice_fiscale"][0]
    response = _obtain(client, method="codice_fiscale", codice_fiscale=VALID_CF.lower())
    assert response.status_code == 201
    assert response.json()["account"]["next_step"] == "email_verification"
    app = api_client(in_palosco, response.json()["token"])
    for url in ("/api/v1/enrollments/", "/api/v1/pupils/", "/api/v1/renewals/"):
        refused = app.get(url)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "email_verification_required"
    assert app.get("/api/v1/me/").status_code == 200


def test_email_verification_through_the_api(in_palosco) -> None:
    account = parent_create(username="PAL-000901")
    account.email_verified_at = None
    account.save()
    app = api_client(in_palosco, token_for(in_palosco, account))
    malformed = post(app, "/api/v1/me/email/send/", {"email": "non-una-email"})
    assert malformed.json()["error"]["fields"] == {
        "email": ["Inserire un indirizzo email valido, per esempio nome@esempio.it."]
    }
    sent = post(app, "/api/v1/me/email/send/", {"email": "nuovo@example.org"})
    assert sent.status_code == 202, sent.json()
    mail = OutgoingEmail.objects.get(purpose="email_verification")
    code = next(line.strip() for line in mail.body.splitlines() if line.strip().isdigit())
    wrong = post(app, "/api/v1/me/email/confirm/", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["fields"] == {"code": ["Codice sicurezza errato. Tentativi rimasti: 4."]}
    confirmed = post(app, "/api/v1/me/email/confirm/", {"code": code})
    assert confirmed.status_code == 200 and confirmed.json()["email_verified"] is True
    assert confirmed.json()["email"] == "nuovo@example.org"
    assert app.get("/api/v1/enrollments/").status_code == 200
    reused = post(app, "/api/v1/me/email/confirm/", {"code": code})
    assert "già stato utilizzato" in reused.json()["error"]["fields"]["code"][0]


def test_forced_password_change_through_the_api(in_romano) -> None:
    account = parent_create(username="ROM-000901", must_change_password=True)
    other_device = token_for(in_romano, account, "Tablet")
    key = token_for(in_romano, account, "Telefono")
    app = api_client(in_romano, key)
    refused = app.get("/api/v1/enrollments/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "password_change_required"
    # The web's order: the e-mail step waits for the password change.
    refused = post(app, "/api/v1/me/email/send/", {"email": "a@example.org"})
    assert refused.json()["error"]["code"] == "password_change_required"
    mismatch = post(
        app, "/api/v1/me/password/", {"new_password1": "Nuova-Password-9", "new_password2": "Diversa-9x"}
    )
    assert mismatch.json()["error"]["fields"] == {"new_password2": ["Le due password non coincidono."]}
    weak = post(app, "/api/v1/me/password/", {"new_password1": "abc", "new_password2": "abc"})
    assert weak.status_code == 400 and "new_password1" in weak.json()["error"]["fields"]
    changed = post(
        app,
        "/api/v1/me/password/",
        {"new_password1": "Nuova-Password-9", "new_password2": "Nuova-Password-9"},
    )
    assert changed.status_code == 200 and changed.json()["next_step"] is None
    assert "iscrizioni_session" not in changed.cookies
    account.refresh_from_db()
    assert account.check_password("Nuova-Password-9") and not account.must_change_password
    assert app.get("/api/v1/enrollments/").status_code == 200
    # The other device must sign in again, as other web sessions do.
    assert api_client(in_romano, other_device).get("/api/v1/me/").status_code == 401
    # Not forced any more: the current password is asked.
    again = post(
        app,
        "/api/v1/me/password/",
        {"new_password1": "Altra-Password-8", "new_password2": "Altra-Password-8"},
    )
    assert again.json()["error"]["fields"] == {"old_password": ["Inserire la password attuale."]}


def test_devices_are_listed_and_revocable(in_romano, romano_parent) -> None:
    phone = token_for(in_romano, romano_parent, "Telefono")
    tablet = token_for(in_romano, romano_parent, "Tablet")
    app = api_client(in_romano, phone)
    listed = app.get("/api/v1/auth/devices/").json()
    assert listed["count"] == 2
    by_name = {d["device_name"]: d for d in listed["results"]}
    assert by_name["Telefono"]["current"] is True and by_name["Tablet"]["current"] is False
    assert app.delete(f"/api/v1/auth/devices/{by_name['Tablet']['id']}/").status_code == 204
    assert api_client(in_romano, tablet).get("/api/v1/me/").status_code == 401
    assert app.delete(f"/api/v1/auth/devices/{by_name['Tablet']['id']}/").status_code == 404
    # Someone else's device is not found.
    other = parent_create(username="ROM-000902", email="b@example.org")
    token_for(in_romano, other, "Suo")
    foreign = ApiToken.objects.get(device_name="Suo")
    assert app.delete(f"/api/v1/auth/devices/{foreign.pk}/").status_code == 404
    assert post(app, "/api/v1/auth/logout/").status_code == 204
    refused = app.get("/api/v1/me/")
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == 'Bearer realm="api"'
    assert refused.json()["error"]["code"] == "invalid_token"


def test_expired_or_inactive_tokens_are_refused(in_romano, romano_parent) -> None:
    key = token_for(in_romano, romano_parent)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_client(in_romano, key).get("/api/v1/me/").status_code == 401
    key = token_for(in_romano, romano_parent)
    Account.objects.filter(pk=romano_parent.pk).update(is_active=False)
    assert api_client(in_romano, key).get("/api/v1/me/").status_code == 401


def test_last_used_is_recorded(in_romano, romano_parent) -> None:
    key = token_for(in_romano, romano_parent)
    api_client(in_romano, key).get("/api/v1/me/")
    assert ApiToken.objects.get().last_used_at is not None


def test_staff_accounts_are_not_parents(in_romano) -> None:
    staff = Account.objects.create_user(username="ufficio.x", kind=Account.Kind.STAFF, is_staff=True)
    with tenant_context(in_romano):
        key = token_issue(account=staff, device_name="x", backend="credentials").key
    response = api_client(in_romano, key).get("/api/v1/me/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "parent_required"


def test_no_token_is_401_with_the_scheme(in_romano) -> None:
    response = api_client(in_romano).get("/api/v1/enrollments/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == "not_authenticated"
    garbled = Client(HTTP_HOST="romanodilombardia.localhost", HTTP_AUTHORIZATION="Bearer a b")
    assert garbled.get("/api/v1/me/").json()["error"]["code"] == "invalid_token"


VERIFIER = "v" * 20 + "-segreto-dell-app-sul-telefono-" + "x" * 20


def _app_login(client: Client, redirect_uri: str = "comunicapp://accesso?stato=xyz", **extra: str):  # type: ignore[no-untyped-def]
    params = {"redirect_uri": redirect_uri, "code_challenge": pkce_challenge(VERIFIER)}
    return client.get("/api/v1/auth/app-login/", params | {"code_challenge_method": "S256"} | extra)


def _exchange(client: Client, code: str, verifier: str = VERIFIER):  # type: ignore[no-untyped-def]
    return post(
        client, "/api/v1/auth/exchange/", {"code": code, "code_verifier": verifier, "device_name": "Pixel"}
    )


def _web_session(comune, account: Account) -> Client:  # type: ignore[no-untyped-def]
    client = Client(HTTP_HOST="romanodilombardia.localhost", enforce_csrf_checks=True)
    with tenant_context(comune):
        client.force_login(account)
        session = client.session
        session["login_backend"] = "credentials"  # as login_complete records it
        session.save()
    return client


def test_app_login_needs_a_parent_session_and_a_registered_scheme(in_romano, romano_parent) -> None:
    anonymous = Client(HTTP_HOST="romanodilombardia.localhost")
    response = _app_login(anonymous)
    assert response.status_code == 302 and response["Location"].startswith("/accesso/?next=")
    web = _web_session(in_romano, romano_parent)
    for bad in ("https://evil.example/x", "javascript:alert(1)", "altraapp://x", ""):
        refused = _app_login(web, bad)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_redirect_uri"
    for bad_pkce in ({"code_challenge_method": "plain"}, {"code_challenge": "corto"}):
        refused = _app_login(web, **bad_pkce)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_code_challenge"
    response = _app_login(web)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("comunicapp://accesso?stato=xyz&code=")
    code = location.rsplit("code=", 1)[1]
    app = api_client(in_romano)
    exchanged = _exchange(app, code)
    assert exchanged.status_code == 201, exchanged.json()
    assert exchanged.json()["account"]["codice_utente"] == "ROM-000900"
    assert api_client(in_romano, exchanged.json()["token"]).get("/api/v1/enrollments/").status_code == 200
    reused = _exchange(app, code)
    assert reused.status_code == 400 and reused.json()["error"]["code"] == "invalid_code"


def test_app_login_code_needs_the_apps_pkce_verifier(in_romano, romano_parent) -> None:
    location = _app_login(_web_session(in_romano, romano_parent))["Location"]
    code = location.rsplit("code=", 1)[1]
    # Another app that caught the redirect does not know the verifier; the code is then used up.
    stolen = _exchange(api_client(in_romano), code, verifier="y" * 43)
    assert stolen.status_code == 400 and stolen.json()["error"]["code"] == "invalid_code"
    assert _exchange(api_client(in_romano), code).status_code == 400
    assert not ApiToken.objects.exists()


def test_app_login_code_expires_after_60_seconds(in_romano, romano_parent) -> None:
    from api.models import AppLoginCode

    location = _app_login(_web_session(in_romano, romano_parent))["Location"]
    code = location.rsplit("code=", 1)[1]
    row = AppLoginCode.objects.get()
    assert row.code_hash == secret_hash(code) and (row.expires_at - row.created_at) == timedelta(seconds=60)
    AppLoginCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = _exchange(api_client(in_romano), code)
    assert expired.status_code == 400 and not ApiToken.objects.exists()


def test_web_session_works_with_csrf(in_romano, romano_parent) -> None:
    web = _web_session(in_romano, romano_parent)
    assert web.get("/api/v1/me/").status_code == 200
    refused = post(web, "/api/v1/me/email/send/", {"email": "a@example.org"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    web.get("/accesso/verifica-email/")  # any portal page sets the CSRF cookie
    csrf = web.cookies["csrftoken"].value
    accepted = post(web, "/api/v1/me/email/send/", {"email": "a@example.org"}, **{"X-CSRFToken": csrf})
    assert accepted.status_code == 202


def test_unknown_api_address_is_a_json_404(in_romano) -> None:
    response = api_client(in_romano).get("/api/v1/non-esiste/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_password_change_on_the_web_ends_the_apps_tokens(in_romano, romano_parent) -> None:
    key = token_for(in_romano, romano_parent)
    app = api_client(in_romano, key)
    assert app.get("/api/v1/me/").status_code == 200
    web = Client(HTTP_HOST="romanodilombardia.localhost")
    with tenant_context(in_romano):
        web.force_login(romano_parent)
    response = web.post(
        "/accesso/cambio-password/",
        {"old_password": PASSWORD, "new_password1": "Nuova-Password-9", "new_password2": "Nuova-Password-9"},
    )
    assert response.status_code == 302
    refused = app.get("/api/v1/me/")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_token"
    romano_parent.refresh_from_db()
    new_key = token_for(in_romano, romano_parent, "Nuovo telefono")
    devices = api_client(in_romano, new_key).get("/api/v1/auth/devices/").json()
    assert [d["device_name"] for d in devices["results"]] == ["Nuovo telefono"]
