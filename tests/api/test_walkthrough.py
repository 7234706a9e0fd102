"""The README's curl walk-through of a renewal, step by step, on Romano's demo data."""

from __future__ import annotations

from core.models import OutgoingEmail
from enrollment import demo as enrollment_demo
from identity import demo as identity_demo
from tests.api.conftest import api_client, post


def test_readme_renewal_walkthrough(in_romano) -> None:
    identity_demo.load_comune(in_romano)
    enrollment_demo.load_comune(in_romano)
    anonymous = api_client(in_romano)
    # 1. Token
    token = post(
        anonymous,
        "/api/v1/auth/token/",
        {
            "method": "credentials",
            "codice_utente": "ROM-000001",
            "password": "Genitore-Demo-2026",
            "device_name": "Telefono di Giulia",
        },
    ).json()
    assert token["account"]["next_step"] == "email_verification"
    app = api_client(in_romano, token["token"])
    # 2. Verifica Email
    assert post(app, "/api/v1/me/email/send/", {"email": "giulia.bianchi@example.org"}).status_code == 202
    mail = OutgoingEmail.objects.get(purpose="email_verification")
    code = next(line.strip() for line in mail.body.splitlines() if line.strip().isdigit())
    assert post(app, "/api/v1/me/email/confirm/", {"code": code}).json()["next_step"] is None
    # 3. Rinnovi disponibili
    renewals = app.get("/api/v1/renewals/").json()
    assert [(r["pupil"]["first_name"], r["service"]["code"]) for r in renewals["results"]] == [
        ("Anna", "MENSA"),
        ("Marco", "MENSA"),
        ("Marco", "TRASPORTO"),
    ]
    # 4. Rinnova (the jq filter of the README)
    first = renewals["results"][0]
    body = {
        "pupil": {k: v for k, v in first["pupil"].items() if k != "id"},
        "guardian": {k: v for k, v in first["guardian"].items() if k != "id"},
        "answers": {},
        "privacy_consent": True,
    }
    domanda = post(app, f"/api/v1/renewals/{first['id']}/", body)
    assert domanda.status_code == 201, domanda.json()
    # 5. Invia Iscrizione
    url = f"/api/v1/enrollments/{domanda.json()['id']}/"
    submitted = post(app, url + "submit/", **{"If-Match": domanda.json()["etag"]})
    assert submitted.status_code == 200
    again = post(app, url + "submit/", **{"If-Match": submitted.json()["etag"]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_submitted"
    # 6. Stato Iscrizione
    item = app.get(url).json()["items"][0]
    assert item["status_label"] == "Inviata" and item["service"]["name"] == "REFEZIONE SCOLASTICA"
    assert item["first_saved_at"] and item["updated_at"] and item["submitted_at"]
