"""Error pages: branded and Italian on the portal, JSON on the API, also with the database down."""

from __future__ import annotations

from django.test import Client

from tests.conftest import PALOSCO_HOST
from tests.core.outage import during_outage
from tests.enrollment.conftest import form_data, logged_in, parent_create, service

ITALIAN_500 = "Servizio momentaneamente non disponibile"


def _client() -> Client:
    client = Client(HTTP_HOST=PALOSCO_HOST, raise_request_exception=False)
    client.cookies["django_language"] = "en"  # the page stays Italian whatever was chosen
    return client


def _assert_500_page(response) -> None:  # type: ignore[no-untyped-def]
    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="it">' in html and ITALIAN_500 in html and "Piattaforma Iscrizioni Scolastiche" in html
    assert "Server Error" not in html


def _assert_api_error(response, status: int, code: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    return error["message"]


def test_database_outage_gives_the_italian_page_and_api_json(palosco) -> None:
    client = _client()
    _assert_500_page(during_outage(lambda: client.get("/")))
    _assert_500_page(during_outage(lambda: client.get("/iscrizioni/nuova/")))
    response = during_outage(lambda: client.post("/api/v1/auth/token/", {}, content_type="application/json"))
    assert _assert_api_error(response, 500, "server_error").startswith("Errore interno del servizio")


def test_a_bug_in_a_view_gives_the_italian_page_and_api_json(settings, palosco) -> None:
    settings.ROOT_URLCONF = "tests.core.urls_failing"
    client = _client()
    _assert_500_page(client.get("/guasto/"))
    _assert_api_error(client.get("/api/v1/guasto/"), 500, "server_error")


def test_unknown_page_and_oversize_form_are_italian(settings, in_palosco) -> None:
    response = Client(HTTP_HOST=PALOSCO_HOST).get("/non-esiste/")
    assert response.status_code == 404 and "Pagina non trovata" in response.content.decode()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    data = form_data(services=[service("PRE")], guardian_address="x" * 20_000)
    response = logged_in(in_palosco, parent_create()).post("/iscrizioni/nuova/", data)
    assert response.status_code == 413
    html = response.content.decode()
    assert '<html lang="it">' in html and "Dati troppo grandi" in html
