"""Each host shows its own comune and nothing of another one."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from tenants.models import Comune
from tenants.services import comune_resume, comune_suspend
from tests.enrollment.conftest import logged_in, parent_create


def test_palosco_home_shows_its_identity_and_catalogue(palosco_client: Client) -> None:
    html = palosco_client.get("/").content.decode()
    assert "Comune di Palosco" in html
    assert "Provincia di Bergamo" in html
    for text in (
        "protocollo@comune.palosco.bg.it",
        "protocollo@pec.comune.palosco.bg.it",
        "www.comune.palosco.bg.it",
        "PRE SCUOLA",
        "POST SCUOLA",
        "2025/2026",
        "palosco/stemma.svg",
        '<link rel="stylesheet" href="/aspetto.css">',
    ):
        assert text in html, text
    assert "--comune-primary: #1e5b2d;" in palosco_client.get("/aspetto.css").content.decode()
    for foreign in ("Romano di Lombardia", "0363 982341", "REFEZIONE", "00622580165"):
        assert foreign not in html, foreign


def test_romano_home_shows_its_identity_and_catalogue(romano_client: Client) -> None:
    html = romano_client.get("/").content.decode()
    for text in (
        "Città di Romano di Lombardia",
        "Provincia di Bergamo",
        "CAP 24058",
        "Cod. Fisc. 00622580165",
        "Servizi scolastici e culturali",
        "0363 982341",
        "REFEZIONE SCOLASTICA",
        "TRASPORTO SCOLASTICO",
        "rinnovi",
    ):
        assert text in html, text
    assert "2024/2025" not in html  # closed windows of past years are not on offer
    for foreign in ("Palosco", "protocollo@comune.palosco.bg.it"):
        assert foreign not in html, foreign


def test_page_is_accessible_skeleton(palosco_client: Client) -> None:
    html = palosco_client.get("/").content.decode()
    assert '<html lang="it">' in html
    assert 'href="#main-content"' in html
    assert 'id="main-content"' in html
    assert "bootstrap-italia/css/bootstrap-italia.min.css" in html
    assert "//cdn" not in html


def test_english_is_available(palosco_client: Client) -> None:
    response = palosco_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = palosco_client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Online enrollment in school services" in html and "Skip to main content" in html


@pytest.mark.parametrize(
    ("path", "english", "italian"),
    [
        ("/", "Accessibility statement of Comune di Palosco", "Dichiarazione di accessibilità"),
        (
            "/informativa-privacy/",
            "Data protection officer (DPO)</h2>",
            "Responsabile della protezione dei dati (DPO)</h2>",
        ),
        ("/informativa-privacy/", "keeps you signed in while you use the portal", "mantiene l'accesso"),
        ("/informativa-privacy/", "This portal uses technical cookies only", "cookie tecnici"),
        ("/dichiarazione-accessibilita/", "Compliance status", "Stato di conformità"),
        ("/accesso/", "Sign in with user code and password", "Accesso con codice utente e password"),
        ("/accesso/", "Pupil&#x27;s codice fiscale", "Codice Fiscale Alunno"),
        (
            "/accesso/password-dimenticata/",
            "Enter your user code (or the codice fiscale",
            "Inserire il codice",
        ),
    ],
)
def test_the_translated_pages_read_in_english(
    palosco_client: Client, path: str, english: str, italian: str
) -> None:
    palosco_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = " ".join(palosco_client.get(path).content.decode().split())
    assert english in html and italian not in html


def test_unknown_host_is_a_plain_404(db) -> None:  # type: ignore[no-untyped-def]
    response = Client(HTTP_HOST="sconosciuto.localhost").get("/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Indirizzo non trovato" in html
    assert "Palosco" not in html and "Romano" not in html


def test_public_host_links_to_operators_login(public_client: Client) -> None:
    html = public_client.get("/").content.decode()
    assert 'href="/admin/"' in html
    assert "Palosco" not in html


def test_suspended_comune_answers_503_with_contacts(
    palosco: Comune, palosco_client: Client, romano_client: Client
) -> None:
    assert palosco_client.get("/").status_code == 200  # warms the host cache
    comune_suspend(comune=palosco, reason="Manutenzione straordinaria")
    response = palosco_client.get("/")
    assert response.status_code == 503
    html = response.content.decode()
    assert "temporaneamente non disponibile" in html
    assert "protocollo@comune.palosco.bg.it" in html
    assert romano_client.get("/").status_code == 200
    comune_resume(comune=palosco)
    assert palosco_client.get("/").status_code == 200


def test_privacy_notice_is_the_comunes_own(palosco_client: Client, romano_client: Client) -> None:
    assert (
        "Titolare del trattamento è il Comune di Palosco"
        in palosco_client.get("/informativa-privacy/").content.decode()
    )
    assert "Città di Romano di Lombardia" in romano_client.get("/informativa-privacy/").content.decode()


def test_browser_language_does_not_override_italian(palosco_client: Client) -> None:
    response = palosco_client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="it">' in response.content.decode()
    assert response["Content-Language"] == "it"


def test_citta_gets_its_article(romano) -> None:  # type: ignore[no-untyped-def]
    assert romano.display_name_with_article == "della Città di Romano di Lombardia"
    assert romano.display_name_to == "alla Città di Romano di Lombardia"


def test_portal_links_keep_their_addresses(palosco: Comune, palosco_client: Client) -> None:
    # The templates reverse these by name; the addresses parents bookmark stay the same.
    html = palosco_client.get("/").content.decode()
    assert 'href="/iscrizioni/nuova/"' in html
    assert 'href="/accesso/?next=/iscrizioni/"' in html
    assert '<img class="stemma me-3" width="64" height="64"' in html
    with tenant_context(palosco):
        parent = parent_create()
    assert 'action="/esci/"' in logged_in(palosco, parent).get("/").content.decode()
