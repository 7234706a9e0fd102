"""Catalogue, pupils, enrollments, renewals and documents through the API, on both comuni."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from core.models import OutgoingEmail
from enrollment.models import Enrollment, Service
from enrollment.rules import DRAFT_MISSING, DRAFT_NOTE, PRIVACY_TEXT
from enrollment.services import enrollment_confirm
from identity.models import Account
from tests.api.conftest import (
    PUPIL_CF,
    SIBLING_BIRTH,
    SIBLING_CF,
    api_client,
    body,
    last_year_confirmed,
    parent_create,
    patch,
    post,
    service,
    token_for,
)
from tests.jobs import run_pending_jobs


def _create(client: Client, data=None):  # type: ignore[no-untyped-def]
    response = post(client, "/api/v1/enrollments/", data or body())
    assert response.status_code == 201, response.json()
    return response


def test_public_profile_and_catalogue_need_no_login(in_palosco, in_romano) -> None:
    palosco = api_client(in_palosco).get("/api/v1/comune/").json()
    assert palosco["display_name"] == "Comune di Palosco" and palosco["privacy_text"] == PRIVACY_TEXT
    assert "codice_fiscale" in palosco["login_methods"] and palosco["draft_note"] == DRAFT_NOTE
    romano = api_client(in_romano).get("/api/v1/comune/").json()
    assert romano["display_name"] == "Città di Romano di Lombardia"
    assert romano["login_methods"][:2] == ["spid", "cie"]
    assert romano["contacts"]["phone"] == "0363 982341"
    services = api_client(in_romano).get("/api/v1/services/").json()
    assert services["count"] == Service.objects.count() and services["next"] is None
    mensa = next(s for s in services["results"] if s["code"] == "MENSA" and s["school_year"] == "2025/2026")
    assert mensa["is_open"] is True and mensa["questions"][0]["id"] == "dieta"
    one = api_client(in_romano).get(f"/api/v1/services/{mensa['id']}/").json()
    assert one["name"] == "REFEZIONE SCOLASTICA"
    assert api_client(in_romano).get("/api/v1/services/999999/").status_code == 404


def test_new_enrollment_is_created_as_on_the_web(palosco_api: Client, palosco_parent) -> None:
    response = _create(palosco_api, body(services=[service("PRE"), service("POST")]))
    data = response.json()
    assert response["ETag"] == data["etag"]
    assert data["kind"] == "nuova" and data["draft"] is True and data["editable"] is True
    assert data["pupil"]["codice_fiscale"] == PUPIL_CF
    assert {i["service"]["code"] for i in data["items"]} == {"PRE", "POST"}
    item = next(i for i in data["items"] if i["service"]["code"] == "PRE")
    assert item["status"] == "bozza" and item["status_label"] == "Bozza"
    assert item["answers"] == {"motivo": "Orario di lavoro dei genitori"}
    assert item["first_saved_at"] and item["updated_at"] and item["submitted_at"] is None
    rows = Enrollment.objects.filter(domanda=data["id"])
    assert rows.count() == 2 and all(e.guardian.account_id == palosco_parent.pk for e in rows)
    listed = palosco_api.get("/api/v1/enrollments/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == data["id"]
    pupils = palosco_api.get("/api/v1/pupils/").json()
    assert [p["codice_fiscale"] for p in pupils["results"]] == [PUPIL_CF]
    assert palosco_api.get(f"/api/v1/pupils/{pupils['results'][0]['id']}/").status_code == 200
    me = palosco_api.get("/api/v1/me/").json()
    assert me["guardian"]["codice_fiscale"] == "RSSMRA80A01H501U"


def test_validation_errors_are_the_forms_italian_messages_by_json_field(palosco_api: Client) -> None:
    bad_cf = PUPIL_CF[:-1] + ("A" if PUPIL_CF[-1] != "A" else "B")
    data = body()
    data["pupil"] = data["pupil"] | {"codice_fiscale": bad_cf, "first_name": ""}
    data["guardian"] = data["guardian"] | {"cap": "2405"}
    data["answers"] = {"PRE": {"motivo": ""}}
    data["privacy_consent"] = False
    response = post(palosco_api, "/api/v1/enrollments/", data)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["message"].startswith("Dati non validi")
    assert error["fields"] == {
        "pupil.first_name": ["Compila il campo «Nome dell'alunno»."],
        "pupil.codice_fiscale": [
            "Il codice fiscale non è valido: il carattere di controllo non corrisponde."
        ],
        "guardian.cap": ["Il CAP è formato da 5 cifre."],
        "privacy_consent": ["Per proseguire è necessario autorizzare il trattamento dei dati personali."],
        "answers.PRE.motivo": ["Compila il campo «Motivo della richiesta»."],
    }
    missing = post(palosco_api, "/api/v1/enrollments/", {"pupil": {}})
    fields = missing.json()["error"]["fields"]
    assert fields["guardian.email"] == ["Compila il campo «Email del genitore/tutore»."]
    assert fields["services"] == ["Scegli almeno un servizio."]
    wrong_type = post(palosco_api, "/api/v1/enrollments/", {"pupil": "Luca", "services": ["x"]})
    assert set(wrong_type.json()["error"]["fields"]) == {"pupil", "services.0"}
    assert not Enrollment.objects.exists()


def test_closed_service_cannot_be_chosen(palosco_api: Client) -> None:
    closed = service("PRE", "2024/2025")
    response = post(palosco_api, "/api/v1/enrollments/", body(services=[closed]))
    assert response.status_code == 400 and "services" in response.json()["error"]["fields"]


def test_salva_bozza_needs_pupil_guardian_and_consent(palosco_api: Client) -> None:
    data = body(answers={}, privacy_consent=False, draft=True)
    refused = post(palosco_api, "/api/v1/enrollments/", data)
    assert refused.status_code == 400
    fields = refused.json()["error"]["fields"]
    assert DRAFT_MISSING in fields["non_field_errors"] and "privacy_consent" in fields
    saved = post(palosco_api, "/api/v1/enrollments/", body(answers={}, draft=True))
    assert saved.status_code == 201 and saved.json()["draft"] is True  # answers may wait for a draft


def test_a_draft_keeps_partial_answers_and_the_completion_asks_for_the_rest(palosco_api: Client) -> None:
    cre = service("CRE")
    partial = {"CRE": {"isee": "9000", "lavoro": True}}
    saved = post(palosco_api, "/api/v1/enrollments/", body(services=[cre], answers=partial, draft=True))
    assert saved.status_code == 201, saved.json()
    assert saved.json()["items"][0]["answers"] == {"isee": "9000", "lavoro": True, "dieta": False}
    complete = post(palosco_api, "/api/v1/enrollments/", body(services=[cre], answers=partial))
    assert complete.status_code == 400
    assert complete.json()["error"]["fields"]["answers.CRE.settimane"] == [
        "Scegli una risposta per «Settimane richieste»."
    ]


def test_a_partial_draft_is_not_submitted(palosco_api: Client) -> None:
    """The submit endpoint re-checks a draft's answers: 409 `answers_incomplete`, still a draft."""
    cre = service("CRE")
    saved = post(
        palosco_api,
        "/api/v1/enrollments/",
        body(services=[cre], answers={"CRE": {"isee": "9000"}}, draft=True),
    )
    assert saved.status_code == 201, saved.json()
    created = saved.json()
    refused = post(
        palosco_api, f"/api/v1/enrollments/{created['id']}/submit/", **{"If-Match": created["etag"]}
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "answers_incomplete"
    assert "«Settimane richieste»" in refused.json()["error"]["message"]
    assert Enrollment.objects.get().status == "bozza"
    assert not OutgoingEmail.objects.filter(purpose="enrollment_submitted").exists()


def test_first_draft_of_a_codice_fiscale_account_mails_the_temporary_password(in_palosco) -> None:
    account = Account.objects.create_user(
        username=PUPIL_CF, kind=Account.Kind.PARENT, codice_fiscale=PUPIL_CF,
        created_by_backend="codice_fiscale", email="nuovo@example.org", email_verified_at=timezone.now(),
    )  # fmt: skip
    app = api_client(in_palosco, token_for(in_palosco, account))
    response = _create(app, body(draft=True))
    assert response.json()["pupil"]["codice_fiscale"] == PUPIL_CF
    assert OutgoingEmail.objects.filter(purpose="temporary_password").count() == 1
    refused = app.get("/api/v1/enrollments/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "password_change_required"
    assert app.get("/api/v1/me/").json()["account"]["next_step"] == "password_change"


def test_only_a_save_that_may_set_a_temporary_password_rebinds_the_token(
    palosco_api: Client, in_palosco, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The token is bound to the account's password: a save that issued a temporary
    password rebinds it (the test above), any other save leaves it unread."""
    from api import services

    rebinds: list[int] = []
    rebind = services.token_rebind

    def counted(*, token):  # type: ignore[no-untyped-def]
        rebinds.append(token.pk)
        rebind(token=token)

    monkeypatch.setattr(services, "token_rebind", counted)
    # A parent with a password, for another pupil than the codice-fiscale account's below.
    sibling = body()
    sibling["pupil"] = sibling["pupil"] | {
        "codice_fiscale": SIBLING_CF,
        "birth_date": SIBLING_BIRTH.isoformat(),
    }
    created = _create(palosco_api, sibling).json()
    submitted = post(
        palosco_api, f"/api/v1/enrollments/{created['id']}/submit/", **{"If-Match": created["etag"]}
    )
    assert submitted.status_code == 200 and rebinds == []

    account = Account.objects.create_user(
        username=PUPIL_CF, kind=Account.Kind.PARENT, codice_fiscale=PUPIL_CF,
        created_by_backend="codice_fiscale", email="nuovo@example.org", email_verified_at=timezone.now(),
    )  # fmt: skip
    app = api_client(in_palosco, token_for(in_palosco, account))
    assert _create(app, body(draft=True)).status_code == 201
    assert len(rebinds) == 1
    # Rebound: the token still names the account (403 for the forced step, not 401).
    assert app.get("/api/v1/enrollments/").status_code == 403


def test_edit_needs_if_match_and_detects_the_other_device(
    palosco_api: Client, in_palosco, palosco_parent
) -> None:
    created = _create(palosco_api).json()
    url = f"/api/v1/enrollments/{created['id']}/"
    tablet = api_client(in_palosco, token_for(in_palosco, palosco_parent, "Tablet"))
    etag = palosco_api.get(url)["ETag"]
    assert etag == created["etag"] and tablet.get(url)["ETag"] == etag
    missing = patch(palosco_api, url, {"pupil": {"class_section": "4ª B"}})
    assert missing.status_code == 428 and missing.json()["error"]["code"] == "precondition_required"
    changed = patch(palosco_api, url, {"pupil": {"class_section": "4ª B"}}, **{"If-Match": etag})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["pupil"]["class_section"] == "4ª B" and changed["ETag"] != etag
    # The tablet still holds the old version: its change is refused, not applied silently.
    stale = patch(tablet, url, {"pupil": {"class_section": "5ª C"}}, **{"If-Match": etag})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "precondition_failed"
    assert Enrollment.objects.get().pupil.class_section == "4ª B"
    # PUT replaces the whole form: what is missing is an error, as on the web form.
    put = palosco_api.put(
        url, {"pupil": {"first_name": "Luca"}}, content_type="application/json",
        headers={"If-Match": changed["ETag"]},
    )  # fmt: skip
    assert put.status_code == 400 and "guardian.email" in put.json()["error"]["fields"]
    full = palosco_api.put(
        url, body(services=[service("POST")]), content_type="application/json",
        headers={"If-Match": changed["ETag"]},
    )  # fmt: skip
    assert full.status_code == 200 and [i["service"]["code"] for i in full.json()["items"]] == ["POST"]


def test_submit_once_then_409_and_one_receipt(palosco_api: Client) -> None:
    created = _create(palosco_api).json()
    url = f"/api/v1/enrollments/{created['id']}/submit/"
    assert post(palosco_api, url).status_code == 428
    submitted = post(palosco_api, url, **{"If-Match": created["etag"]})
    assert submitted.status_code == 200, submitted.json()
    item = submitted.json()["items"][0]
    assert item["status"] == "inviata" and item["submitted_at"] and submitted.json()["draft"] is False
    # The answer is built from the rows just written: the same as reading the form again.
    read = palosco_api.get(f"/api/v1/enrollments/{created['id']}/")
    assert (submitted.json(), submitted["ETag"]) == (read.json(), read["ETag"])
    again = post(palosco_api, url, **{"If-Match": submitted["ETag"]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_submitted"
    stale = post(palosco_api, url, **{"If-Match": created["etag"]})
    assert stale.status_code == 412
    assert OutgoingEmail.objects.filter(purpose="enrollment_submitted").count() == 1
    # Submitted, not yet examined: still editable (comune's rule), but no draft any more.
    detail = palosco_api.get(f"/api/v1/enrollments/{created['id']}/")
    draft = patch(
        palosco_api, f"/api/v1/enrollments/{created['id']}/", {"draft": True}, **{"If-Match": detail["ETag"]}
    )
    assert draft.status_code == 409 and draft.json()["error"]["code"] == "draft_not_allowed"


def test_submit_outside_the_window_is_a_409_with_the_dates(palosco_api: Client) -> None:
    created = _create(palosco_api).json()
    Service.objects.filter(pk=service("PRE").pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    response = post(
        palosco_api, f"/api/v1/enrollments/{created['id']}/submit/", **{"If-Match": created["etag"]}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "outside_window" and "sono aperte dal" in error["message"]
    assert Enrollment.objects.get().status == Enrollment.Status.BOZZA


def test_full_service_gives_a_waiting_list_position(palosco_api: Client, in_palosco) -> None:
    Service.objects.filter(pk=service("PRE").pk).update(capacity=1)
    other = api_client(in_palosco, token_for(in_palosco, parent_create(username="PAL-000960")))
    first = _create(other).json()
    post(other, f"/api/v1/enrollments/{first['id']}/submit/", **{"If-Match": first["etag"]})
    data = body()
    data["pupil"] = data["pupil"] | {"codice_fiscale": SIBLING_CF, "birth_date": SIBLING_BIRTH.isoformat()}
    mine = _create(palosco_api, data).json()
    # A stranger who learnt the form's id and version is told it does not exist.
    stranger = post(other, f"/api/v1/enrollments/{mine['id']}/submit/", **{"If-Match": mine["etag"]})
    assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "not_found"
    response = post(palosco_api, f"/api/v1/enrollments/{mine['id']}/submit/", **{"If-Match": mine["etag"]})
    assert response.status_code == 200
    read = palosco_api.get(f"/api/v1/enrollments/{mine['id']}/")
    assert (response.json(), response["ETag"]) == (read.json(), read["ETag"])
    assert response.json()["items"][0]["status"] == "inviata"
    assert response.json()["items"][0]["waiting_position"] == 1


def test_withdraw_then_409(palosco_api: Client) -> None:
    created = _create(palosco_api, body(services=[service("PRE"), service("POST")])).json()
    url = f"/api/v1/enrollments/{created['id']}/withdraw/"
    pre = next(i["id"] for i in created["items"] if i["service"]["code"] == "PRE")
    assert post(palosco_api, url, {"items": [pre]}).status_code == 428
    unknown = post(palosco_api, url, {"items": [999999]}, **{"If-Match": created["etag"]})
    assert unknown.status_code == 400 and "items" in unknown.json()["error"]["fields"]
    one = post(palosco_api, url, {"items": [pre]}, **{"If-Match": created["etag"]})
    assert one.status_code == 200
    statuses = {i["service"]["code"]: i["status"] for i in one.json()["items"]}
    assert statuses == {"PRE": "annullata", "POST": "bozza"}
    rest = post(palosco_api, url, {}, **{"If-Match": one["ETag"]})
    assert {i["status"] for i in rest.json()["items"]} == {"annullata"}
    again = post(palosco_api, url, {"items": [pre]}, **{"If-Match": rest["ETag"]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"


def test_examined_enrollment_is_read_only(palosco_api: Client, in_palosco) -> None:
    created = _create(palosco_api).json()
    submitted = post(
        palosco_api, f"/api/v1/enrollments/{created['id']}/submit/", **{"If-Match": created["etag"]}
    )
    staff = Account.objects.create_user(username="ufficio.y", kind=Account.Kind.STAFF, is_staff=True)
    enrollment_confirm(enrollment=Enrollment.objects.get(), by=staff)
    url = f"/api/v1/enrollments/{created['id']}/"
    stale = patch(palosco_api, url, {"pupil": {"class_section": "1ª A"}}, **{"If-Match": submitted["ETag"]})
    assert stale.status_code == 412  # staff acted: the version changed
    current = palosco_api.get(url)
    assert current.json()["editable"] is False and current.json()["items"][0]["status"] == "confermata"
    refused = patch(palosco_api, url, {"pupil": {"class_section": "1ª A"}}, **{"If-Match": current["ETag"]})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "read_only"
    withdraw = post(palosco_api, url + "withdraw/", {}, **{"If-Match": current["ETag"]})
    assert withdraw.status_code == 409 and withdraw.json()["error"]["code"] == "invalid_transition"


def test_romano_renewal_list_renew_submit_and_status(romano_api: Client, romano_parent) -> None:
    previous = last_year_confirmed(romano_parent)
    listed = romano_api.get("/api/v1/renewals/").json()
    assert listed["count"] == 1
    renewal = listed["results"][0]
    assert renewal["id"] == previous.pk and renewal["service"]["school_year"] == "2025/2026"
    assert renewal["previous"]["service"]["school_year"] == "2024/2025"
    assert renewal["pupil"]["codice_fiscale"] == PUPIL_CF and renewal["guardian"]["cap"] == "24058"
    data = body(services=[])
    data["pupil"] = data["pupil"] | {"class_section": "4ª A"}
    data["guardian"] = renewal["guardian"] | {"phone": "0363 111222"}
    del data["guardian"]["id"]
    assert post(romano_api, f"/api/v1/renewals/{previous.pk}/", data | {"draft": True}).status_code == 409
    created = post(romano_api, f"/api/v1/renewals/{previous.pk}/", data)
    assert created.status_code == 201, created.json()
    assert created.json()["kind"] == "rinnovo" and created.json()["items"][0]["service"]["code"] == "MENSA"
    domanda = created.json()["id"]
    submitted = post(romano_api, f"/api/v1/enrollments/{domanda}/submit/", **{"If-Match": created["ETag"]})
    assert submitted.status_code == 200
    status = romano_api.get(f"/api/v1/enrollments/{domanda}/").json()["items"][0]
    assert status["status"] == "inviata" and status["submitted_at"]
    renewed = Enrollment.objects.get(renewal_of=previous)
    assert renewed.pupil.class_section == "4ª A" and renewed.guardian.phone == "0363 111222"
    assert romano_api.get("/api/v1/renewals/").json()["count"] == 0
    assert post(romano_api, f"/api/v1/renewals/{previous.pk}/", data).status_code == 404


def test_documents_are_pdfs(palosco_api: Client) -> None:
    created = _create(palosco_api).json()
    urls = (
        f"/api/v1/enrollments/{created['id']}/riepilogo.pdf",
        "/api/v1/documents/manuale-informativo.pdf",
        "/api/v1/documents/lettera-credenziali.pdf",
    )
    for url in urls:  # not rendered in the request: 202 until the job has run
        response = palosco_api.get(url, headers={"Accept": "application/pdf"})
        assert response.status_code == 202 and response["Retry-After"] == "3", url
        assert "in preparazione" in response.json()["message"]
    run_pending_jobs(task_name="enrollment.document_prepare")
    for url in urls:
        response = palosco_api.get(url, headers={"Accept": "application/pdf"})
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    missing = palosco_api.get(
        "/api/v1/enrollments/00000000-0000-0000-0000-000000000000/riepilogo.pdf",
        headers={"Accept": "application/pdf"},
    )
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert missing.json()["error"]["code"] == "not_found"


def test_another_parents_enrollment_is_not_found(palosco_api: Client, in_palosco) -> None:
    created = _create(palosco_api).json()
    other = api_client(in_palosco, token_for(in_palosco, parent_create(username="PAL-000961")))
    url = f"/api/v1/enrollments/{created['id']}/"
    assert other.get(url).status_code == 404
    assert post(other, url + "submit/", **{"If-Match": created["etag"]}).status_code == 404
    assert post(other, url + "withdraw/", {}, **{"If-Match": created["etag"]}).status_code == 404
    assert other.get(url + "riepilogo.pdf").status_code == 404
    pupil = Enrollment.objects.get().pupil
    assert other.get(f"/api/v1/pupils/{pupil.pk}/").status_code == 404
    assert Enrollment.objects.get().status == Enrollment.Status.BOZZA
