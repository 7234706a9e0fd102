"""Over-long, deeply nested, oversize and ill-typed JSON: a 400/413 JSON error in Italian, never a 500."""

from __future__ import annotations

from django.test import Client

from enrollment.models import Enrollment
from tests.api.conftest import api_client, body, post
from tests.conftest import PALOSCO_HOST
from tests.enrollment.test_input_limits import LONG_EMAIL


def _error(response) -> dict:  # type: ignore[no-untyped-def]
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    return response.json()["error"]


def test_over_long_fields_get_the_forms_messages(in_palosco, palosco_api: Client) -> None:
    data = body()
    data["guardian"] |= {"email": LONG_EMAIL, "address": "Via " + "x" * 300}
    data["pupil"] |= {"first_name": "L" * 101}
    data["answers"] = {"PRE": {"motivo": "m" * 2001}}
    response = post(palosco_api, "/api/v1/enrollments/", data)
    assert response.status_code == 400
    fields = _error(response)["fields"]
    assert fields["guardian.email"] == ["«Email del genitore/tutore» può avere al massimo 254 caratteri."]
    assert fields["guardian.address"] == ["«Indirizzo di residenza» può avere al massimo 200 caratteri."]
    assert fields["pupil.first_name"] == ["«Nome dell'alunno» può avere al massimo 100 caratteri."]
    assert fields["answers.PRE.motivo"][0].startswith("Il testo può avere al massimo 2000 caratteri")
    assert not Enrollment.objects.exists()


def test_over_long_login_and_email_fields(in_palosco, palosco_api: Client) -> None:
    response = post(palosco_api, "/api/v1/me/email/send/", {"email": LONG_EMAIL})
    assert response.status_code == 400
    assert _error(response)["fields"]["email"] == [
        "Assicurati che questo campo non abbia più di 254 caratteri."
    ]
    response = post(
        api_client(in_palosco),
        "/api/v1/auth/token/",
        {"method": "credentials", "codice_utente": "P" * 300, "password": "x", "device_name": "d" * 300},
    )
    assert response.status_code == 400
    fields = _error(response)["fields"]
    assert set(fields) == {"codice_utente", "device_name"}


def test_deeply_nested_json_is_a_parse_error(in_palosco, palosco_api: Client) -> None:
    for client, url in (
        (api_client(in_palosco), "/api/v1/auth/token/"),
        (palosco_api, "/api/v1/enrollments/"),
    ):
        for nested in ("[" * 5000, "[" * 5000 + "]" * 5000, '{"a":' * 200 + "1" + "}" * 200):
            response = client.post(url, nested, content_type="application/json")
            assert response.status_code == 400, (url, nested[:10])
            error = _error(response)
            assert error["code"] == "parse_error" and error["message"].startswith("Richiesta non valida")


def test_oversize_body_is_413_json(settings, in_palosco, palosco_api: Client) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    data = body()
    data["guardian"]["address"] = "x" * 20_000
    for client, url in (
        (palosco_api, "/api/v1/enrollments/"),
        (api_client(in_palosco), "/api/v1/auth/token/"),
    ):
        response = post(client, url, data)
        assert response.status_code == 413, url
        error = _error(response)
        assert error["code"] == "request_too_large" and "troppo grande" in error["message"]
    # A plain Django view under /api/: its CSRF check makes Django read the form body itself.
    browser = Client(HTTP_HOST=PALOSCO_HOST, enforce_csrf_checks=True)
    browser.cookies["csrftoken"] = "a" * 32
    response = browser.post("/api/v1/auth/app-login/", {"x": "y" * 20_000})
    assert response.status_code == 413 and _error(response)["code"] == "request_too_large"


def test_drf_type_errors_are_italian(in_palosco, palosco_api: Client) -> None:
    data = body(privacy_consent="forse")
    data["pupil"] |= {"first_name": ["Luca"], "birth_date": "ieri"}
    data["guardian"] |= {"email": {"a": 1}}
    data["services"] = ["PRE"]
    del data["pupil"]["school"]
    response = post(palosco_api, "/api/v1/enrollments/", data)
    assert response.status_code == 400
    fields = _error(response)["fields"]
    assert fields["pupil.first_name"] == ["Inserire un testo."]
    assert fields["guardian.email"] == ["Inserire un testo."]
    assert fields["privacy_consent"] == ["Indicare true o false."]
    assert fields["services.0"] == ["È richiesto un numero intero valido."]
    assert fields["pupil.birth_date"][0].startswith("La data è in un formato errato")
    messages = " ".join(m for ms in fields.values() for m in ms)
    for english in ("Not a valid", "Must be a valid", "required", "valid integer"):
        assert english not in messages


def test_drf_messages_stay_italian_with_the_english_cookie(in_palosco, palosco_api: Client) -> None:
    palosco_api.cookies["django_language"] = "en"
    response = post(palosco_api, "/api/v1/me/email/send/", {"email": ["x"]})
    assert _error(response)["fields"]["email"] == ["Inserire un testo."]
