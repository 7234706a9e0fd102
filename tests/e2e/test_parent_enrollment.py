"""A parent walks through the portal in a real browser (headless Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import Browser, Locator, Page, expect

from enrollment import demo
from enrollment.models import Enrollment
from enrollment.rules import PRIVACY_TEXT
from identity.models import Account
from tenants.models import Comune
from tests.enrollment.conftest import GUARDIAN_CF, PUPIL_BIRTH, PUPIL_CF
from tests.jobs import run_pending_jobs

pytestmark = pytest.mark.e2e
DATETIME = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$")


def field(page: Page, label: str) -> Locator:
    """The control whose label starts with `label` (required labels end with "*")."""
    return page.get_by_label(re.compile("^" + re.escape(label) + r"( \*)?$"))


def tick(page: Page, label: str) -> None:
    """Tick a Bootstrap Italia checkbox the way people do: on its label (which draws the box)."""
    page.locator("label").filter(has_text=re.compile("^" + re.escape(label) + "$")).click()
    expect(page.get_by_label(label)).to_be_checked()


def _download_pdf(page: Page, link_text: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_text).click()
    return Path(info.value.path()).read_bytes()


def _status_box(page: Page) -> dict[str, str]:
    labels = page.locator("section.card dt").all_inner_texts()
    values = page.locator("section.card dd").all_inner_texts()
    return {k.strip().rstrip(":"): v.strip() for k, v in zip(labels, values, strict=True)}


def test_palosco_new_enrollment_draft_summary_submit_documents(
    browser: Browser, live_comuni: int, committed_comuni: dict[str, Comune], artifacts: Path, smtp_server
) -> None:
    base = f"http://palosco.localhost:{live_comuni}"
    context = browser.new_context(base_url=base, locale="it-IT")
    page = context.new_page()
    # Chromium enforces the CSP: a blocked script or style is reported on the console.
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda m: (
            csp_violations.append(f"{page.url} {m.location} {m.text[:60]}")
            if "Content Security Policy" in m.text
            else None
        ),
    )

    # Seed 000: "Nuova Iscrizione" -> Codice Fiscale Alunno -> "Sono un nuovo iscritto".
    page.goto("/")
    expect(page).to_have_title(re.compile("Comune di Palosco"))
    page.get_by_role("link", name="Nuova Iscrizione").click()
    expect(page).to_have_url(re.compile(r"/accesso/"))
    page.get_by_label("Codice Fiscale Alunno").fill(PUPIL_CF)
    page.get_by_role("button", name="Sono un nuovo iscritto").click()

    # "Verifica Email" with the code read from the real (test) SMTP server.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Verifica Email")
    page.get_by_label("Email").fill("nuovo.iscritto@example.org")
    page.get_by_role("button", name="Invia email").click()
    expect(
        page.get_by_text("Invio del codice sicurezza a nuovo.iscritto@example.org in corso")
    ).to_be_visible()
    with schema_context("palosco"):
        run_pending_jobs()
    code = re.search(r"\b(\d{6})\b", smtp_server.bodies()[-1]).group(1)
    page.get_by_label("Codice sicurezza").fill(code)
    page.get_by_role("button", name="Conferma").click()
    page.screenshot(path=artifacts / "palosco-00-dopo-verifica.png", full_page=True)

    expect(page.get_by_role("heading", level=1)).to_contain_text("Modulo Iscrizione")
    expect(page.get_by_role("heading", name="Passo 1 di 5: Informativa privacy")).to_be_visible()
    # Avanti without the privacy consent: step 1's error only, focusable summary.
    page.get_by_role("button", name="Avanti").click()
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("link", name=re.compile("Autorizzo il trattamento"))).to_be_visible()
    expect(page.locator("#error-summary")).to_be_focused()  # by static/core/portal.js
    page.screenshot(path=artifacts / "palosco-01-errori.png", full_page=True)
    tick(page, PRIVACY_TEXT)
    page.get_by_role("button", name="Avanti").click()
    expect(page.get_by_role("heading", name="Passo 2 di 5: Dati dell'alunno")).to_be_visible()
    expect(field(page, "Codice fiscale dell'alunno")).to_have_value(PUPIL_CF)
    expect(field(page, "Codice fiscale dell'alunno")).to_be_disabled()

    field(page, "Nome dell'alunno").fill("Luca")
    field(page, "Cognome dell'alunno").fill("Rossi")
    field(page, "Data di nascita dell'alunno").fill(PUPIL_BIRTH.isoformat())
    field(page, "Luogo di nascita dell'alunno").fill("Bergamo")
    field(page, "Scuola frequentata nell'anno scolastico").select_option("primaria")
    field(page, "Classe e sezione").fill("3ª A")
    page.get_by_role("button", name="Avanti").click()
    field(page, "Nome del genitore/tutore").fill("Mario")
    field(page, "Cognome del genitore/tutore").fill("Rossi")
    field(page, "Codice fiscale del genitore/tutore").fill(GUARDIAN_CF)
    field(page, "Telefono del genitore/tutore").fill("035 123456")
    field(page, "Indirizzo di residenza").fill("Via Roma 1")
    field(page, "CAP").fill("24050")
    field(page, "Comune di residenza").fill("Palosco")
    page.get_by_role("button", name="Avanti").click()
    expect(page.get_by_role("heading", name="Passo 4 di 5: Servizi")).to_be_visible()
    tick(page, "PRE SCUOLA 2025/2026")

    page.get_by_role("button", name="Salva Bozza").click()
    expect(page.get_by_role("status").first).to_contain_text("Bozza salvata.")
    assert _status_box(page)["Stato Iscrizione"] == "Bozza"
    page.goto(page.url.split("?")[0] + "?passo=4")

    field(page, "Motivo della richiesta (PRE SCUOLA)").fill("Orario di lavoro")
    page.get_by_role("button", name="Vai al riepilogo iscrizione").click()
    expect(page.get_by_role("heading", name="Riepilogo Dati")).to_be_visible()
    for name in ("Esci", "Indietro", "Modifica Iscrizione"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    for name in ("Salva Bozza", "Invia Iscrizione"):
        expect(page.get_by_role("button", name=name)).to_be_visible()
    page.screenshot(path=artifacts / "palosco-02-riepilogo.png", full_page=True)

    page.get_by_role("button", name="Invia Iscrizione").click()
    expect(page.get_by_role("status").first).to_contain_text("Iscrizione inviata.")
    box = _status_box(page)
    assert box["Stato Iscrizione"] == "Inviata"
    for label in ("Data primo salvataggio", "Data ultima modifica", "Data inserimento iscrizione"):
        assert DATETIME.match(box[label]), (label, box[label])
    page.screenshot(path=artifacts / "palosco-03-inviata.png", full_page=True)

    # The documents are rendered by the queue, never in the request: the
    # riepilogo and the manuale at their first download (the parent gets a
    # short "in preparazione" page), the letter by the mail that attaches it.
    summary_url = page.url
    for link in ("Riepilogo della domanda d'iscrizione (PDF)", "Manuale informativo (PDF)"):
        page.goto(summary_url)
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("status")).to_contain_text("Il documento è in preparazione")
    with schema_context("palosco"):
        run_pending_jobs()  # the two documents, and the mails with the letter
    page.goto(summary_url)
    for link in (
        "Riepilogo della domanda d'iscrizione (PDF)",
        "Manuale informativo (PDF)",
        "Lettera credenziali di accesso (PDF)",
    ):
        assert _download_pdf(page, link).startswith(b"%PDF-"), link

    with schema_context("palosco"):
        enrollment = Enrollment.objects.get(pupil__codice_fiscale=PUPIL_CF)
        assert enrollment.status == Enrollment.Status.INVIATA
        run_pending_jobs()
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert any(s.startswith("Ricevuta iscrizione Luca Rossi") for s in subjects)
    assert csp_violations == [], "\n".join(sorted({v[:300] for v in csp_violations}))
    context.close()


def test_romano_renewal_of_last_years_enrollment(
    browser: Browser, live_comuni: int, committed_comuni: dict[str, Comune], artifacts: Path
) -> None:
    romano = committed_comuni["romanodilombardia"]
    with schema_context("romanodilombardia"):
        demo.load_comune(romano)
        account = Account.objects.get(username="ROM-000002")
        account.email_verified_at = timezone.now()  # verified in an earlier session
        account.save(update_fields=["email_verified_at"])
    base = f"http://romanodilombardia.localhost:{live_comuni}"
    context = browser.new_context(base_url=base, locale="it-IT")
    page = context.new_page()
    # Seed 003: codice utente and password, then "Anagrafiche > Rinnova iscrizione".
    page.goto("/accesso/")
    page.get_by_role("textbox", name=re.compile("^Codice utente")).fill("ROM-000002")
    page.locator("#id_credentials-password").fill("Genitore-Demo-2026")
    page.get_by_role("button", name="Accedi", exact=True).click()
    expect(page).to_have_url(re.compile(r"/iscrizioni/$"))
    page.get_by_role("link", name=re.compile("Rinnova iscrizione")).click()
    expect(page.get_by_text("in caso di iscrizione di più fratelli")).to_be_visible()
    page.get_by_role("link", name=re.compile("Rinnova REFEZIONE SCOLASTICA per Elena Verdi")).click()
    expect(page.get_by_role("button", name="Salva Bozza")).to_have_count(0)
    tick(page, PRIVACY_TEXT)
    page.get_by_role("button", name="Avanti").click()
    expect(field(page, "Nome dell'alunno")).to_have_value("Elena")
    field(page, "Classe e sezione").fill("2ª C")
    page.screenshot(path=artifacts / "romano-01-rinnovo.png", full_page=True)
    page.get_by_role("button", name="Avanti").click()
    page.get_by_role("button", name="Avanti").click()
    page.get_by_role("button", name="Vai al riepilogo iscrizione").click()
    page.get_by_role("button", name="Invia Iscrizione").click()
    assert _status_box(page)["Stato Iscrizione"] == "Inviata"
    page.screenshot(path=artifacts / "romano-02-inviata.png", full_page=True)
    with schema_context("romanodilombardia"):
        renewal = Enrollment.objects.get(kind=Enrollment.Kind.RINNOVO)
        assert renewal.school_year == "2025/2026" and renewal.pupil.class_section == "2ª C"
    context.close()


def test_static_assets_of_the_portal_exist(palosco_client) -> None:
    """The pages above need Bootstrap Italia and the emblem from our own static files.

    Uses `db`, so pytest-django creates the test database for this module's committed tests.
    """
    from django.contrib.staticfiles import finders

    for path in ("bootstrap-italia/css/bootstrap-italia.min.css", "comuni/palosco/stemma.svg"):
        assert finders.find(path), path
    assert palosco_client.get("/").status_code == 200
