"""The console needs password and TOTP; codes are single use; attempts are limited."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from core.models import AuditEntry
from identity.models import Account
from superadmin import totp
from superadmin.demo import DEMO_TOTP_SECRET
from superadmin.demo import load_public as demo_load_public
from superadmin.models import OperatorSecondFactor
from tests.conftest import PUBLIC_HOST
from tests.superadmin.conftest import OPERATOR_PASSWORD, password_login


def _wrong(code: str) -> str:
    return f"{(int(code) + 500000) % 1000000:06d}"


@pytest.fixture
def half_logged(operator: Account) -> Client:
    client = Client(HTTP_HOST=PUBLIC_HOST)
    password_login(client, operator.username, OPERATOR_PASSWORD)
    return client


def test_password_alone_does_not_open_the_console(half_logged: Client) -> None:
    for url in ("/admin/", "/admin/comuni/", "/admin/salute/", "/admin/tenants/comune/", "/admin/login/"):
        response = half_logged.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/secondo-fattore/"), url


def test_first_login_enrols_the_authenticator(half_logged: Client, operator: Account) -> None:
    html = half_logged.get("/admin/secondo-fattore/").content.decode()
    factor = OperatorSecondFactor.objects.get(account=operator)
    assert factor.confirmed_at is None
    assert factor.secret in html
    assert "otpauth://totp/" in html
    response = half_logged.post("/admin/secondo-fattore/", {"code": _wrong(totp.code_now(factor.secret))})
    assert response.status_code == 200
    assert "Codice non valido" in response.content.decode()
    assert half_logged.get("/admin/").status_code == 302
    response = half_logged.post(
        "/admin/secondo-fattore/", {"code": totp.code_now(factor.secret), "next": "/admin/comuni/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/comuni/"
    assert half_logged.get("/admin/").status_code == 200
    factor.refresh_from_db()
    assert factor.confirmed_at is not None
    actions = set(AuditEntry.objects.filter(actor=operator).values_list("action", flat=True))
    assert {
        "operatore.password_ok",
        "operatore.codice_errato",
        "operatore.secondo_fattore_attivato",
    } <= actions


def test_confirmed_secret_is_not_shown_again(operator_client: Client, operator: Account) -> None:
    secret = OperatorSecondFactor.objects.get(account=operator).secret
    operator_client.post("/admin/logout/")
    client = Client(HTTP_HOST=PUBLIC_HOST)
    password_login(client, operator.username, OPERATOR_PASSWORD)
    html = client.get("/admin/secondo-fattore/").content.decode()
    assert secret not in html
    assert "otpauth" not in html


def test_a_used_code_is_refused_on_the_next_login(operator: Account) -> None:
    first = Client(HTTP_HOST=PUBLIC_HOST)
    password_login(first, operator.username, OPERATOR_PASSWORD)
    first.get("/admin/secondo-fattore/")
    factor = OperatorSecondFactor.objects.get(account=operator)
    code = totp.code_now(factor.secret)
    assert first.post("/admin/secondo-fattore/", {"code": code}).status_code == 302
    second = Client(HTTP_HOST=PUBLIC_HOST)
    password_login(second, operator.username, OPERATOR_PASSWORD)
    response = second.post("/admin/secondo-fattore/", {"code": code})
    assert response.status_code == 200
    assert "una sola volta" in response.content.decode()
    assert second.get("/admin/comuni/").status_code == 302


def test_five_wrong_codes_lock_the_step(half_logged: Client, operator: Account) -> None:
    half_logged.get("/admin/secondo-fattore/")
    factor = OperatorSecondFactor.objects.get(account=operator)
    good = totp.code_now(factor.secret)
    for _ in range(5):
        half_logged.post("/admin/secondo-fattore/", {"code": _wrong(good)})
    response = half_logged.post("/admin/secondo-fattore/", {"code": good})
    assert "Troppi codici errati" in response.content.decode()
    assert half_logged.get("/admin/").status_code == 302


def test_logout_is_possible_before_the_second_step(half_logged: Client) -> None:
    response = half_logged.post("/admin/secondo-fattore/esci/")
    assert response.status_code == 302
    assert half_logged.get("/admin/secondo-fattore/")["Location"].startswith("/admin/login/")


def test_console_pages_open_after_both_steps(operator_client: Client) -> None:
    for url in (
        "/admin/",
        "/admin/comuni/",
        "/admin/comuni/nuovo/",
        "/admin/salute/",
        "/admin/core/auditentry/",
    ):
        assert operator_client.get(url).status_code == 200, url


def test_session_of_another_account_does_not_carry_the_second_factor(
    operator_client: Client, operator: Account
) -> None:
    other = Account.objects.create_user(
        "operatore.due", OPERATOR_PASSWORD, kind=Account.Kind.OPERATOR, is_staff=True, is_superuser=True
    )
    password_login(operator_client, other.username, OPERATOR_PASSWORD)
    assert operator_client.get("/admin/comuni/").status_code == 302


def test_demo_operator_gets_the_published_secret_only_in_debug(db, settings) -> None:  # type: ignore[no-untyped-def]
    account = Account.objects.create_user("operatore", "x", kind=Account.Kind.OPERATOR, is_staff=True)
    settings.DEBUG = False
    demo_load_public()
    assert not OperatorSecondFactor.objects.filter(account=account).exists()
    with pytest.raises(CommandError):
        call_command("demo_totp", "operatore")
    settings.DEBUG = True
    demo_load_public()
    demo_load_public()
    factor = OperatorSecondFactor.objects.get(account=account)
    assert factor.secret == DEMO_TOTP_SECRET and factor.confirmed_at is not None
    out = StringIO()
    call_command("demo_totp", "operatore", stdout=out)
    code = re.match(r"^(\d{6}) ", out.getvalue()).group(1)  # type: ignore[union-attr]
    assert totp.matching_step(DEMO_TOTP_SECRET, code, after_step=None) is not None
