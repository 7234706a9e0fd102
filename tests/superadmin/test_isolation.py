"""Operators and comune staff live in different schemas: neither reaches the other's admin."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import schema_context

from identity.models import Account
from tests.conftest import PALOSCO_HOST, PUBLIC_HOST
from tests.superadmin.conftest import OPERATOR_PASSWORD, comune_admin_create

STAFF_PASSWORD = "Ufficio-Prova-2026"


def _palosco_staff() -> Account:
    with schema_context("palosco"):
        return comune_admin_create("ufficio.prova", STAFF_PASSWORD)


def test_operator_cannot_log_in_to_a_comune_admin(operator: Account) -> None:
    client = Client(HTTP_HOST=PALOSCO_HOST)
    response = client.post("/admin/login/", {"username": operator.username, "password": OPERATOR_PASSWORD})
    assert response.status_code == 200  # the form again, with the error
    assert client.get("/admin/").status_code == 302


def test_operator_session_is_unknown_on_a_comune_host(operator_client: Client) -> None:
    operator_client.defaults["HTTP_HOST"] = PALOSCO_HOST
    response = operator_client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_cannot_log_in_to_the_console(db) -> None:  # type: ignore[no-untyped-def]
    _palosco_staff()
    client = Client(HTTP_HOST=PUBLIC_HOST)
    response = client.post("/admin/login/", {"username": "ufficio.prova", "password": STAFF_PASSWORD})
    assert response.status_code == 200
    assert client.get("/admin/comuni/").status_code == 302
    assert client.get("/admin/secondo-fattore/")["Location"].startswith("/admin/login/")


def test_staff_session_is_unknown_on_the_console(db) -> None:  # type: ignore[no-untyped-def]
    _palosco_staff()
    client = Client(HTTP_HOST=PALOSCO_HOST)
    assert (
        client.post("/admin/login/", {"username": "ufficio.prova", "password": STAFF_PASSWORD}).status_code
        == 302
    )
    assert client.get("/admin/").status_code == 200
    client.defaults["HTTP_HOST"] = PUBLIC_HOST
    for url in ("/admin/", "/admin/comuni/", "/admin/secondo-fattore/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_public_account_that_is_not_an_operator_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    Account.objects.create_user("personale", STAFF_PASSWORD, kind=Account.Kind.STAFF, is_staff=True)
    client = Client(HTTP_HOST=PUBLIC_HOST)
    client.post("/admin/login/", {"username": "personale", "password": STAFF_PASSWORD})
    assert client.get("/admin/comuni/").status_code == 302
    assert client.get("/admin/secondo-fattore/")["Location"].startswith("/admin/login/")


def test_operator_password_step_locks_after_repeated_failures(operator: Account) -> None:
    client = Client(HTTP_HOST=PUBLIC_HOST)
    for _ in range(5):
        response = client.post("/admin/login/", {"username": operator.username, "password": "sbagliata-1"})
        assert response.status_code == 200
    # Locked now: even the right password is refused, with the lockout message.
    response = client.post("/admin/login/", {"username": operator.username, "password": OPERATOR_PASSWORD})
    assert response.status_code == 429
    assert "Troppi tentativi non riusciti" in response.content.decode()
    assert not client.session.get("_auth_user_id")
