"""One identifier, one count: spacing, full-width letters and case do not open new attempts (D3, D7)."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import tenant_context

from identity.models import Account
from tests.api.conftest import api_client, post
from tests.conftest import PALOSCO_HOST, PUBLIC_HOST
from tests.enrollment.backoffice.conftest import staff_create
from tests.superadmin.conftest import OPERATOR_PASSWORD

from .conftest import PASSWORD, VALID_CF, cf_post, credentials_post, parent_create

LOCKED = "Troppi tentativi"
STAFF_PASSWORD = "Ufficio-Prova-2026"
# Full-width letters (U+FF4C "l", U+FF4F "o", U+FF30 "P"): NFKC makes them plain.
STAFF_VARIANTS = [
    "lettura.palosco ",
    "\uff4cettura.palosco",
    " LETTURA.palosco",
    "Lettura.Palosco",
    "lettura.palosco",
]


def _staff_login(client: Client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})


def test_staff_variants_of_one_user_name_share_the_lockout(palosco) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        staff_create("lettura.palosco", None, password=STAFF_PASSWORD)
    client = Client(HTTP_HOST=PALOSCO_HOST)
    for variant in STAFF_VARIANTS:
        assert _staff_login(client, variant, "Sbagliata-123").status_code == 200
    for variant in STAFF_VARIANTS:
        response = _staff_login(client, variant, STAFF_PASSWORD)
        assert response.status_code == 429, variant
        assert LOCKED in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_staff_variant_with_the_right_password_gets_in(palosco) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        staff_create("lettura.palosco", None, password=STAFF_PASSWORD)
    client = Client(HTTP_HOST=PALOSCO_HOST)
    assert _staff_login(client, " \uff2cettura.Palosco ", STAFF_PASSWORD).status_code == 302


def test_operator_variants_share_the_lockout_on_the_console(db) -> None:  # type: ignore[no-untyped-def]
    Account.objects.create_user(
        "operatore", OPERATOR_PASSWORD, kind=Account.Kind.OPERATOR, is_staff=True, is_superuser=True
    )
    client = Client(HTTP_HOST=PUBLIC_HOST)
    for variant in ["\uff4fperatore", "operatore ", "OPERATORE", "\uff4fperatore ", "Operatore"]:
        assert _staff_login(client, variant, "sbagliata-1").status_code == 200
    response = _staff_login(client, "\uff4fperatore", OPERATOR_PASSWORD)
    assert response.status_code == 429
    assert not client.session.get("_auth_user_id")


def test_operator_variant_with_the_right_password_passes_the_password_step(db) -> None:  # type: ignore[no-untyped-def]
    Account.objects.create_user(
        "operatore", OPERATOR_PASSWORD, kind=Account.Kind.OPERATOR, is_staff=True, is_superuser=True
    )
    client = Client(HTTP_HOST=PUBLIC_HOST)
    assert _staff_login(client, "\uff4fperatore ", OPERATOR_PASSWORD).status_code == 302
    assert client.session.get("_auth_user_id")


def test_codice_utente_variants_share_the_lockout(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    parent_create(palosco, "PAL-000777")
    for variant in ["PAL-000777 ", "\uff30AL-000777", "pal-000777", " Pal-000777", "PAL-000777"]:
        credentials_post(palosco_client, variant, "Sbagliata-123")
    assert LOCKED in credentials_post(palosco_client, "\uff30AL-000777", PASSWORD).content.decode()


def test_full_width_codice_utente_with_the_right_password_gets_in(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    parent_create(palosco, "PAL-000777")
    assert credentials_post(palosco_client, "\uff50al-000777 ", PASSWORD).status_code == 302


def test_codice_fiscale_variants_share_the_lockout(palosco_client: Client, palosco) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        Account.objects.create_user(
            username=VALID_CF, password=PASSWORD, kind=Account.Kind.PARENT, codice_fiscale=VALID_CF,
            created_by_backend="codice_fiscale",
        )  # fmt: skip
    full_width = "\uff32" + VALID_CF[1:]
    for variant in [full_width, VALID_CF.lower(), f" {VALID_CF} ", full_width, VALID_CF]:
        cf_post(palosco_client, variant, "Sbagliata-123")
    assert LOCKED in cf_post(palosco_client, full_width.lower(), PASSWORD).content.decode()


def test_api_token_login_counts_variants_as_one(palosco) -> None:  # type: ignore[no-untyped-def]
    parent_create(palosco, "PAL-000777")
    client = api_client(palosco)

    def obtain(code: str, password: str):  # type: ignore[no-untyped-def]
        return post(
            client, "/api/v1/auth/token/",
            {"device_name": "Telefono", "method": "credentials", "codice_utente": code, "password": password},
        )  # fmt: skip

    for variant in ["\uff30AL-000777", "pal-000777 ", "PAL-000777", "\uff50al-000777", "Pal-000777"]:
        assert obtain(variant, "Sbagliata-123").status_code in (400, 401, 429)
    response = obtain("\uff30AL-000777", PASSWORD)
    assert response.status_code == 429, response.json()
