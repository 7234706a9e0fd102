"""The parents' pages over HTTP, on both comuni."""

from __future__ import annotations

import re

from django.test import Client
from django.utils import timezone

from core.models import OutgoingEmail
from enrollment.models import Enrollment
from enrollment.rules import PRIVACY_TEXT, SIBLINGS_NOTE
from enrollment.services import domanda_save, enrollment_confirm
from identity.models import Account
from tests.enrollment.conftest import (
    PUPIL_CF,
    form_data,
    guardian_data,
    parent_create,
    pupil_data,
    service,
)
from tests.factories import last_year_confirmed
from tests.jobs import run_pending_jobs

DATETIME = r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}"


def test_portal_home_offers_new_enrollment_and_login(palosco_client: Client, romano_client: Client) -> None:
    for client in (palosco_client, romano_client):
        html = client.get("/").content.decode()
        assert 'href="/iscrizioni/nuova/"' in html and "Nuova Iscrizione" in html
        assert 'href="/accesso/?next=/iscrizioni/"' in html and "Accedi" in html


def test_parent_pages_need_login_and_verified_email(in_palosco, palosco_client: Client, login) -> None:
    for url in ("/iscrizioni/", "/iscrizioni/nuova/", "/iscrizioni/rinnovi/"):
        response = palosco_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accesso/?next=")
    unverified = parent_create(username="PAL-000950")
    unverified.email_verified_at = None
    unverified.save()
    response = login(in_palosco, unverified).get("/iscrizioni/nuova/")
    assert response["Location"].startswith("/accesso/verifica-email/")
    staff = Account.objects.create_user(username="ufficio.x", kind=Account.Kind.STAFF, is_staff=True)
    assert login(in_palosco, staff).get("/iscrizioni/")["Location"].startswith("/accesso/")


def test_new_form_has_the_seed_labels_and_buttons(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    pages = {step: client.get(f"/iscrizioni/nuova/?passo={step}").content.decode() for step in (1, 2, 3, 4)}
    for step, text in (
        (2, "Dati dell&#x27;alunno"),
        (3, "Dati del genitore/tutore"),
        (4, "PRE SCUOLA 2025/2026"),
        (4, "POST SCUOLA 2025/2026"),
        (1, PRIVACY_TEXT.replace("'", "&#x27;")),
        (1, "Leggi Dettaglio Condizioni"),
        (1, 'href="/informativa-privacy/"'),
        (1, ">Esci</a>"),
        (1, ">Salva Bozza</button>"),
        (3, ">Salva Bozza</button>"),
        (4, ">Vai al riepilogo iscrizione</button>"),
        (1, "non è sufficiente per considerare valida l&#x27;iscrizione"),
    ):
        assert text in pages[step], (step, text)
    assert 'type="email" name="guardian_email" value="genitore@example.org"' in pages[3]  # verified e-mail
    assert 'name="guardian_email" value="genitore@example.org"' in pages[1]  # carried, hidden
    assert "2024/2025" not in pages[4]  # closed services are not offered


def test_invalid_form_shows_specific_errors_and_summary(in_palosco, palosco_parent, login) -> None:
    """A submit with errors in several steps shows the first of them, with its errors only."""
    client = login(in_palosco, palosco_parent)
    bad_cf = PUPIL_CF[:-1] + ("A" if PUPIL_CF[-1] != "A" else "B")
    data = form_data(
        services=[service("PRE")],
        pupil_codice_fiscale=bad_cf,
        guardian_email="non-una-email",
        guardian_cap="2405",
        pupil_first_name="",
        privacy=None,
        extra_PRE_motivo="",
    )
    expected = {
        1: ["Per proseguire è necessario autorizzare il trattamento dei dati personali."],
        2: [
            "il carattere di controllo non corrisponde",
            "Compila il campo «Nome dell&#x27;alunno».",
            'href="#id_pupil_codice_fiscale"',
        ],
        3: [
            "Inserisci un indirizzo email valido",
            "Il CAP è formato da 5 cifre.",
            'aria-describedby="id_guardian_email-error"',
        ],
        4: [
            "Compila il campo «Motivo della richiesta».",
            'href="#id_extra_PRE_motivo"',
            'id="id_extra_PRE_motivo-error"',
        ],
    }
    fixes = {1: {"privacy": "on"}, 2: {"pupil_codice_fiscale": PUPIL_CF, "pupil_first_name": "Luca"},
             3: {"guardian_email": "a@example.org", "guardian_cap": "24050"}}  # fmt: skip
    for step in (1, 2, 3, 4):
        response = client.post("/iscrizioni/nuova/", data)
        assert response.status_code == 400
        html = response.content.decode()
        assert f"Passo {step} di 5" in html and 'role="alert"' in html and 'id="error-summary"' in html
        assert 'aria-invalid="true"' in html
        for text in expected[step]:
            assert text in html, (step, text)
        for later in range(step + 1, 5):
            for text in expected[later]:
                assert text not in html, (step, text)
        data |= fixes.get(step, {})
    assert not Enrollment.objects.exists()


def test_birth_date_must_match_codice_fiscale_and_school(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    html = client.post(
        "/iscrizioni/nuova/", form_data(services=[service("PRE")], pupil_birth_date="2017-03-11")
    ).content.decode()
    assert "La data di nascita non corrisponde al codice fiscale" in html
    html = client.post(
        "/iscrizioni/nuova/", form_data(services=[service("PRE")], pupil_school="infanzia")
    ).content.decode()
    assert "non è compatibile con la scuola indicata" in html


def test_salva_bozza_needs_pupil_guardian_and_consent(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    response = client.post(
        "/iscrizioni/nuova/", form_data(services=[service("PRE")], azione="bozza", privacy=None)
    )
    assert response.status_code == 400
    assert "Per salvare in bozza l&#x27;iscrizione è necessario" in response.content.decode()
    # Service questions are not required for a draft.
    response = client.post(
        "/iscrizioni/nuova/", form_data(services=[service("PRE")], azione="bozza", extra_PRE_motivo="")
    )
    assert response.status_code == 302
    enrollment = Enrollment.objects.get()
    assert response["Location"] == f"/iscrizioni/domanda/{enrollment.domanda}/modifica/"
    html = client.get(response["Location"]).content.decode()
    assert "Bozza salvata." in html
    assert "Stato Iscrizione" in html and ">Bozza</span>" in html


def test_new_enrollment_summary_submit_status_and_documents(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    response = client.post("/iscrizioni/nuova/", form_data(services=[service("PRE"), service("POST")]))
    assert response.status_code == 302
    summary_url = response["Location"]
    html = client.get(summary_url).content.decode()
    for label in ("Esci", "Indietro", "Salva Bozza", "Modifica Iscrizione", "Invia Iscrizione"):
        assert f">{label}</" in html, label
    assert "L'iscrizione non è ancora stata inviata." in html
    assert "Riepilogo Dati" in html and "Luca Rossi" in html and PUPIL_CF in html

    assert client.post(summary_url, {"azione": "invia"}).status_code == 302
    assert client.post(summary_url, {"azione": "invia"}).status_code == 302  # a second click
    assert OutgoingEmail.objects.filter(purpose="enrollment_submitted").count() == 1
    html = client.get(summary_url).content.decode()
    assert "Iscrizione inviata." in html
    for label in (
        "Stato Iscrizione:",
        "Data primo salvataggio:",
        "Data ultima modifica:",
        "Data inserimento iscrizione:",
    ):
        assert label in html
    assert html.count(">Inviata</span>") == 2
    e = Enrollment.objects.order_by("pk").first()
    submitted = timezone.localtime(e.submitted_at).strftime("%d/%m/%Y %H:%M:%S")
    assert re.search(rf"Data inserimento iscrizione:</dt><dd[^>]*>{re.escape(submitted)}<", html)
    assert ">Invia Iscrizione<" not in html and ">Salva Bozza<" not in html
    assert ">Modifica Iscrizione<" in html  # still editable until staff act

    urls = (
        f"/iscrizioni/domanda/{e.domanda}/riepilogo.pdf",
        "/iscrizioni/documenti/manuale-informativo.pdf",
        "/iscrizioni/documenti/lettera-credenziali.pdf",
    )
    for url in urls:
        assert f'href="{url}"' in html
    # The letter's mail renders its attachment in the worker; the riepilogo
    # (linked from the receipt) and the manuale (the same for every parent)
    # are queued by their first download.
    for url in urls[:2]:
        first = client.get(url)
        assert first.status_code == 202 and "in preparazione" in first.content.decode(), url
    run_pending_jobs()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        assert "attachment" in response["Content-Disposition"]

    dashboard = client.get("/iscrizioni/").content.decode()
    assert e.reference in dashboard and "Inviata" in dashboard and "Luca Rossi" in dashboard


def test_confirmed_enrollment_is_read_only(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    summary_url = client.post("/iscrizioni/nuova/", form_data(services=[service("PRE")]))["Location"]
    client.post(summary_url, {"azione": "invia"})
    e = Enrollment.objects.get()
    enrollment_confirm(enrollment=e, by=None)
    html = client.get(summary_url).content.decode()
    assert ">Confermata</span>" in html
    assert "Modifica Iscrizione" not in html and "Annulla l'iscrizione" not in html
    response = client.get(f"/iscrizioni/domanda/{e.domanda}/modifica/")
    assert response.status_code == 302 and response["Location"] == summary_url
    response = client.post(f"/iscrizioni/domanda/{e.domanda}/modifica/", form_data(services=[service("PRE")]))
    assert response.status_code == 302
    e.refresh_from_db()
    assert e.status == Enrollment.Status.CONFERMATA


def test_parent_withdraws_a_submission(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    summary_url = client.post("/iscrizioni/nuova/", form_data(services=[service("PRE")]))["Location"]
    client.post(summary_url, {"azione": "invia"})
    e = Enrollment.objects.get()
    response = client.post(f"/iscrizioni/iscrizione/{e.pk}/annulla/")
    assert response.status_code == 302
    e.refresh_from_db()
    assert e.status == Enrollment.Status.ANNULLATA
    assert "Annullata" in client.get("/iscrizioni/").content.decode()


def _romano_last_year(account: Account) -> Enrollment:
    romano_family = guardian_data(city="Romano di Lombardia", cap="24058")
    return last_year_confirmed(account, "MENSA", guardian=romano_family, extra={})


def test_romano_renewal_prefilled_and_submitted(in_romano, romano_parent, login) -> None:
    previous = _romano_last_year(romano_parent)
    client = login(in_romano, romano_parent)
    html = client.get("/iscrizioni/").content.decode()
    assert "Anagrafiche &gt; Rinnova iscrizione (1)" in html
    html = client.get("/iscrizioni/rinnovi/").content.decode()
    assert SIBLINGS_NOTE.replace("'", "&#x27;") in html
    assert f'href="/iscrizioni/rinnovi/{previous.pk}/"' in html
    assert "REFEZIONE SCOLASTICA 2024/2025" in html and "Aggiungi un fratello o una sorella" in html

    html = client.get(f"/iscrizioni/rinnovi/{previous.pk}/").content.decode()
    assert 'value="Luca"' in html and 'value="Romano di Lombardia"' in html and PUPIL_CF in html
    assert "Salva Bozza" not in html and "Passo 1 di 5" in html and ">Avanti</button>" in html
    html = client.get(f"/iscrizioni/rinnovi/{previous.pk}/?passo=4").content.decode()
    assert "Salva Bozza" not in html and "Vai al riepilogo iscrizione" in html
    data = form_data(services=[], pupil_class_section="4ª A", guardian_cap="24058")
    response = client.post(f"/iscrizioni/rinnovi/{previous.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    summary = client.get(response["Location"]).content.decode()
    assert "Salva Bozza" not in summary and "Invia Iscrizione" in summary and "Rinnovo" in summary
    client.post(response["Location"], {"azione": "invia"})
    renewal = Enrollment.objects.get(renewal_of=previous)
    assert renewal.status == Enrollment.Status.INVIATA and renewal.school_year == "2025/2026"
    assert renewal.pupil.class_section == "4ª A"
    assert client.get(f"/iscrizioni/rinnovi/{previous.pk}/").status_code == 404


def test_palosco_data_and_sessions_are_useless_on_romano(palosco, romano, login) -> None:
    from django_tenants.utils import tenant_context

    with tenant_context(palosco):
        p_parent = parent_create()
        client = login(palosco, p_parent)
        summary_url = client.post("/iscrizioni/nuova/", form_data(services=[service("PRE")]))["Location"]
        domanda = Enrollment.objects.get().domanda
    # The Palosco session cookie sent to Romano's host is unknown there.
    romano_client = Client(HTTP_HOST="romanodilombardia.localhost")
    romano_client.cookies = client.cookies
    response = romano_client.get(summary_url)
    assert response.status_code == 302 and response["Location"].startswith("/accesso/")
    with tenant_context(romano):
        r_parent = parent_create(username="ROM-000950")
        r_client = login(romano, r_parent)
        assert r_client.get(summary_url).status_code == 404
        assert r_client.get(f"/iscrizioni/domanda/{domanda}/riepilogo.pdf").status_code == 404
        assert not Enrollment.objects.exists()


def test_another_parent_cannot_open_my_enrollment(in_palosco, palosco_parent, login) -> None:
    mine = login(in_palosco, palosco_parent)
    summary_url = mine.post("/iscrizioni/nuova/", form_data(services=[service("PRE")]))["Location"]
    e = Enrollment.objects.get()
    other = login(in_palosco, parent_create(username="PAL-000951", email="x@example.org"))
    assert other.get(summary_url).status_code == 404
    assert other.post(summary_url, {"azione": "invia"}).status_code == 404
    assert other.post(f"/iscrizioni/iscrizione/{e.pk}/annulla/").status_code == 404
    e.refresh_from_db()
    assert e.status == Enrollment.Status.BOZZA


def _password_from(body: str) -> str:
    return next(line.strip() for line in body.splitlines() if line.startswith("    "))


def test_first_draft_of_new_iscritto_mails_password_and_keeps_the_session(in_palosco, login) -> None:
    account = Account.objects.create_user(
        username=PUPIL_CF,
        codice_fiscale=PUPIL_CF,
        kind=Account.Kind.PARENT,
        created_by_backend="codice_fiscale",
        email="nuovo@example.org",
        email_verified_at=timezone.now(),
    )
    client = login(in_palosco, account)
    response = client.post("/iscrizioni/nuova/", form_data(services=[service("PRE")], azione="bozza"))
    assert response.status_code == 302
    mail = OutgoingEmail.objects.get(purpose="temporary_password")
    assert mail.to == ["nuovo@example.org"] and PUPIL_CF in mail.body
    # Still logged in and still working: the new password did not end the
    # session, and "Cambio Password" is asked at the next access with it.
    assert client.get("/iscrizioni/").status_code == 200
    account.refresh_from_db()
    assert account.must_change_password
    client.post("/esci/")
    client.post(
        "/accesso/codice_fiscale/",
        {"codice_fiscale-codice_fiscale": PUPIL_CF, "codice_fiscale-password": _password_from(mail.body)},
    )
    response = client.get("/iscrizioni/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accesso/cambio-password/")


def test_full_service_shows_the_waiting_list_position(in_palosco, palosco_parent, login) -> None:
    from enrollment.services import enrollment_submit
    from tests.enrollment.conftest import SIBLING_BIRTH, SIBLING_CF

    post = service("POST")
    post.capacity = 1
    post.save()
    other = parent_create(username="PAL-000960", email="altro@example.org")
    first = domanda_save(
        account=other,
        guardian_data=guardian_data(),
        pupil_data=pupil_data(codice_fiscale=SIBLING_CF, birth_date=SIBLING_BIRTH),
        services=[post],
        consent=True,
    )[0]
    enrollment_submit(enrollment=first, by=other)
    client = login(in_palosco, palosco_parent)
    summary_url = client.post("/iscrizioni/nuova/", form_data(services=[post]))["Location"]
    html = client.get(client.post(summary_url, {"azione": "invia"})["Location"]).content.decode()
    assert "i posti sono esauriti, l&#x27;iscrizione è in lista d&#x27;attesa in posizione 1" in html
    assert "Lista d'attesa: posizione 1" in html
    assert "lista d'attesa, posizione 1" in client.get("/iscrizioni/").content.decode()
