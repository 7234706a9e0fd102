"""The single error format, HTTP statuses of protocol errors, and throttling per user and per IP."""

from __future__ import annotations

from django.test import Client

from tests.api.conftest import api_client, parent_create, token_for


def _error(response) -> dict:  # type: ignore[no-untyped-def]
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    error = response.json()["error"]
    assert set(error) <= {"code", "message", "fields"} and error["message"]
    return error


def test_protocol_errors_are_json_in_italian(in_romano) -> None:
    client = api_client(in_romano)
    response = client.delete("/api/v1/comune/")
    assert response.status_code == 405
    assert _error(response) == {
        "code": "method_not_allowed",
        "message": "Metodo non consentito per questo indirizzo.",
    }
    response = client.post("/api/v1/auth/token/", {"method": "credentials"})
    assert response.status_code == 415 and _error(response)["code"] == "unsupported_media_type"
    response = client.post("/api/v1/auth/token/", "{non json", content_type="application/json")
    assert response.status_code == 400 and _error(response)["code"] == "parse_error"
    response = client.get("/api/v1/comune/", headers={"Accept": "text/html"})
    assert response.status_code == 406 and _error(response)["code"] == "not_acceptable"
    response = api_client(in_romano).get("/api/v1/services/0/")
    assert response.status_code == 404 and _error(response) == {
        "code": "not_found",
        "message": "Risorsa non trovata.",
    }


def test_throttle_per_user(settings, in_romano) -> None:
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"user": "3/min"}
    account = parent_create(username="ROM-000903")
    app = api_client(in_romano, token_for(in_romano, account))
    tablet = api_client(in_romano, token_for(in_romano, account, "Tablet"))
    assert [app.get("/api/v1/me/").status_code for _ in range(2)] == [200, 200]
    assert tablet.get("/api/v1/me/").status_code == 200
    refused = app.get("/api/v1/me/")  # the account's fourth call, from any device
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    error = _error(refused)
    assert error["code"] == "throttled" and error["message"].startswith("Troppe richieste: riprovare tra")
    other = api_client(in_romano, token_for(in_romano, parent_create(username="ROM-000904")))
    assert other.get("/api/v1/me/").status_code == 200


def test_throttle_per_ip_counts_per_comune(settings, in_romano, palosco) -> None:
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"ip": "2/min"}
    romano = api_client(in_romano)
    assert [romano.get("/api/v1/comune/").status_code for _ in range(3)] == [200, 200, 429]
    other_ip = Client(HTTP_HOST="romanodilombardia.localhost", REMOTE_ADDR="10.0.0.9")
    assert other_ip.get("/api/v1/comune/").status_code == 200
    # The cache keys carry the schema: Palosco's counter is its own.
    assert api_client(palosco).get("/api/v1/comune/").status_code == 200


def test_login_endpoints_have_a_tighter_ip_throttle(settings, in_romano) -> None:
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"login": "2/min"}
    client = api_client(in_romano)
    codes = [
        client.post(
            "/api/v1/auth/exchange/",
            {"code": "x", "code_verifier": "v" * 43, "device_name": "y"},
            content_type="application/json",
        ).status_code
        for _ in range(3)
    ]
    assert codes == [400, 400, 429]
    assert client.get("/api/v1/comune/").status_code == 200
