"""Issue #15: English covers every parents' page, e-mail and PDF; Italian stays the default.

Each page is fetched twice, without and with the language cookie: the Italian
sentinels of that page must be on the Italian one (so a sentinel cannot pass
by being absent anyway) and on neither the English one. The comune's own data
(service names, questions) stays as the comune wrote it and is not checked.
"""

from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal

import pypdfium2
import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from core import attachments
from core.models import OutgoingEmail
from enrollment.backoffice.roles import OPERATORE
from enrollment.backoffice.services import enrollment_reopen_notify
from enrollment.models import Enrollment
from enrollment.services import enrollment_confirm
from identity.models import Account
from payments.services import position_create
from tenants.models import Comune
from tenants.service_definition import FeeInstalment
from tests.conftest import host_of
from tests.enrollment.conftest import SIBLING_BIRTH, SIBLING_CF, form_data, parent_create, pupil_data, service
from tests.factories import StaffFactory, domanda_create, guardian_data
from tests.payments.conftest import payments_configure

ENGLISH = {settings.LANGUAGE_COOKIE_NAME: "en"}


def _client(comune: Comune, account: Account | None = None, *, english: bool = False) -> Client:
    client = Client(HTTP_HOST=host_of(comune))
    if english:
        client.cookies.load(ENGLISH)
    if account is not None:
        with tenant_context(comune):
            client.force_login(account)
    return client


def _both(comune: Comune, account: Account | None, path: str) -> tuple[str, str]:
    """The page at `path` in Italian (no cookie) and in English (the cookie)."""
    italian = _client(comune, account).get(path)
    english = _client(comune, account, english=True).get(path)
    assert italian.status_code in (200, 202, 404) and english.status_code == italian.status_code, path
    return _text(italian), _text(english)


def _text(response: HttpResponse) -> str:
    """The page with its character references resolved (an apostrophe is &#x27; in the HTML)."""
    return html.unescape(response.content.decode())


def _assert_translated(italian: str, english: str, sentinels: list[str], expected: list[str]) -> None:
    assert '<html lang="it"' in italian and '<html lang="en"' in english
    assert [s for s in sentinels if s not in italian] == [], "a sentinel is not on the Italian page"
    assert [s for s in sentinels if s in english] == [], "Italian left on the English page"
    assert [s for s in expected if s not in english] == []


@pytest.fixture(params=["palosco", "romanodilombardia"])
def comune(request: pytest.FixtureRequest, db: None) -> Comune:
    return payments_configure(Comune.objects.get(slug=request.param))


# A service of each comune that takes new enrollments (Romano's pre/post scuola take renewals only).
_NEW = {"palosco": "PRE", "romanodilombardia": "MENSA"}


def _parent(comune: Comune) -> Account:
    with tenant_context(comune):
        return parent_create(username="PAL-000950" if comune.slug == "palosco" else "ROM-000950")


def test_public_pages_in_english(comune: Comune) -> None:
    with tenant_context(comune):
        pre = service("PRE")
        page = reverse("service_page", args=[pre.code, pre.year_in_url])
    _assert_translated(
        *_both(comune, None, page),
        [
            "A chi è rivolto",
            "Come fare",
            "Cosa serve",
            "Quanto costa",
            "Tempi e scadenze",
            "Accedi al servizio",
            "Anno scolastico",
            "Iscrizioni aperte",
            "Apertura delle iscrizioni",
            "Un indirizzo email",
        ],
        ["Who it is for", "How to apply", "What you need", "Dates and deadlines", "Enrollment opens"],
    )
    _assert_translated(
        *_both(comune, None, reverse("legal_notes")),
        ["Note legali", "Contenuti", "Responsabilità", "Dati personali", "fanno fede"],
        ["Legal notes", "Liability", "privacy notice"],
    )
    _assert_translated(
        *_both(comune, None, "/pagina-che-non-esiste/"), ["Pagina non trovata"], ["Page not found"]
    )


def test_form_steps_and_their_errors_in_english(comune: Comune) -> None:
    parent = _parent(comune)
    new = reverse("enrollment:new")
    steps = {
        1: [
            "Passo 1 di 5: Informativa privacy",
            "Modulo Iscrizione - Anno Scolastico",
            "Leggi Dettaglio Condizioni",
            "Autorizzo il trattamento",
            "Esci",
            "Avanti",
            "Salva Bozza",
            "Le mie iscrizioni",
            "Passi della domanda",
        ],
        2: [
            "Passo 2 di 5: Dati dell'alunno",
            "Nome dell'alunno",
            "Codice fiscale dell'alunno",
            "Scuola frequentata",
            "Scuola primaria",
            "Classe e sezione",
            "Indietro",
        ],
        3: [
            "Passo 3 di 5: Dati del genitore/tutore",
            "Telefono del genitore/tutore",
            "Indirizzo di residenza",
            "Via e numero civico",
            "Comune di residenza",
        ],
        4: ["Passo 4 di 5: Servizi", "Servizi richiesti", "Domande per", "Vai al riepilogo iscrizione"],
    }
    for step, sentinels in steps.items():
        _assert_translated(*_both(comune, parent, f"{new}?passo={step}"), sentinels, [f"Step {step} of 5"])
    # Avanti on an empty step 2: the error summary and each field's message.
    italian = _client(comune, parent).post(new, {"passo": 2, "azione": "avanti"})
    english = _client(comune, parent, english=True).post(new, {"passo": 2, "azione": "avanti"})
    assert italian.status_code == english.status_code == 400
    _assert_translated(
        _text(italian),
        _text(english),
        [
            "Controlla i dati inseriti",
            "Compila il campo «Nome dell'alunno».",
            "Compila il campo «Cognome dell'alunno».",
        ],
        ["Check the details you entered", "Fill in “Pupil's first name”."],
    )


def test_area_personale_summary_and_status_box_in_english(comune: Comune) -> None:
    parent = _parent(comune)
    with tenant_context(comune):
        draft = domanda_create(parent, [service(_NEW[comune.slug])], draft=True)[0]
    _assert_translated(
        *_both(comune, parent, reverse("enrollment:summary", args=[draft.domanda])),
        [
            "Passo 5 di 5: Riepilogo",
            "Riepilogo Dati",
            "Dati dell'alunno",
            "Nome e cognome",
            "Nato/a a",
            "Stato Iscrizione",
            "Numero di riferimento",
            "Data primo salvataggio",
            "Invia Iscrizione",
            "Modifica Iscrizione",
            "L'iscrizione non è ancora stata inviata",
            "Il salvataggio in bozza",
            ">Bozza<",
            "Annulla l'iscrizione",
        ],
        ["Summary of details", "Enrollment status", "Submit enrollment", ">Draft<"],
    )
    _assert_translated(
        *_both(comune, parent, reverse("enrollment:parent_home")),
        [
            "Le mie iscrizioni",
            "Prossimo passo",
            "Stato Iscrizione",
            "Numero di riferimento",
            "Completa l'iscrizione",
            "Manuale informativo (PDF)",
            "Rinnova iscrizione",
            ">Bozza<",
            "Pagamenti",
        ],
        ["My enrollments", "Next step", "Guide to the portal (PDF)", "Payments"],
    )
    _assert_translated(
        *_both(comune, parent, reverse("enrollment:renewals")),
        ["Rinnova iscrizione", "Non ci sono iscrizioni dello scorso anno", "Aggiungi un fratello"],
        ["Renew enrollment", "Add a brother or sister"],
    )
    with tenant_context(comune):
        sibling = pupil_data(codice_fiscale=SIBLING_CF, first_name="Giulia", birth_date=SIBLING_BIRTH)
        sent = domanda_create(parent, [service(_NEW[comune.slug])], pupil=sibling, submit=True)[0]
    _assert_translated(
        *_both(comune, parent, reverse("enrollment:summary", args=[sent.domanda])),
        [
            "Quanto è stato facile",
            "Invia valutazione",
            "Vuoi aggiungere altri dettagli?",
            "Le indicazioni erano",
            "Data inserimento iscrizione",
            "Documenti",
            "Riepilogo della domanda d'iscrizione (PDF)",
            ">Inviata<",
        ],
        ["How easy was it to use this service?", "Send rating", ">Submitted<"],
    )
    _assert_translated(
        *_both(comune, parent, reverse("enrollment:riepilogo_pdf", args=[sent.domanda])),
        ["in preparazione", "Il documento è in preparazione", "Scarica di nuovo"],
        ["being prepared", "Download again"],
    )


def test_pagamenti_in_english(comune: Comune) -> None:
    parent = _parent(comune)
    with tenant_context(comune):
        position_create(
            source="enrollment:2025-000950",
            payer_account=parent,
            payer_codice_fiscale="RSSMRA80A01H501U",
            payer_name="Mario Rossi",
            description="MENSA 2025/2026 – Luca Rossi",
            amount=Decimal("120.00"),
            instalments=[
                FeeInstalment(due_date=timezone.localdate() + timedelta(days=20), share_percent=Decimal(100))
            ],
        )
    _assert_translated(
        *_both(comune, parent, reverse("payments:home")),
        [
            "<h1>Pagamenti",
            "Le quote dei servizi confermati",
            "Causale",
            "Scadenza",
            "Importo",
            "Codice avviso",
            "Da pagare",
            "Paga online",
            "Avviso PDF",
        ],
        ["<h1>Payments", "Due date", "To pay", "Pay online"],
    )


def _pdf_text(content: bytes) -> str:
    return " ".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(content))


def _submit_through_the_portal(comune: Comune, parent: Account, *, english: bool) -> Enrollment:
    client = _client(comune, parent, english=english)
    with tenant_context(comune):
        data = form_data(services=[service("PRE")])
    response = client.post(reverse("enrollment:new"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.post(response["Location"], {"azione": "invia"}).status_code == 302
    with tenant_context(comune):
        return Enrollment.objects.get(guardian__account=parent)


def test_mails_and_pdfs_speak_the_language_of_the_parent_who_submitted(palosco: Comune) -> None:
    with tenant_context(palosco):
        english_parent = parent_create(username="PAL-000951")
        italian_parent = parent_create(username="PAL-000952")
    english = _submit_through_the_portal(palosco, english_parent, english=True)
    with tenant_context(palosco):
        italian_rows = domanda_create(
            italian_parent,
            [service("POST")],
            guardian=guardian_data(email="anna.bianchi@example.it", first_name="Anna", last_name="Bianchi"),
            pupil=pupil_data(codice_fiscale=SIBLING_CF, first_name="Giulia", birth_date=SIBLING_BIRTH),
            submit=True,
        )
    italian = italian_rows[0]
    assert (english.language, italian.language) == ("en", "it")

    with tenant_context(palosco):
        receipt = OutgoingEmail.objects.get(purpose="enrollment_submitted", to=[english.guardian_shown.email])
        assert receipt.subject.startswith("Enrollment receipt for ")
        assert "has been sent to Comune di Palosco" in receipt.body and "Gentile" not in receipt.body
        assert "inviata" not in receipt.body
        # The receipt links the riepilogo; its PDF, rendered at the first download, speaks English.
        assert receipt.attachments == []
        link = reverse("enrollment:riepilogo_pdf", args=[english.domanda])
        assert link in receipt.body and "The application's summary" in receipt.body
        params = {"domanda": str(english.domanda), "language": "en"}
        _, content, _ = attachments.render({"document": "enrollment.riepilogo", "params": params})
        text = _pdf_text(content)
        assert "Summary of the enrollment application" in text and "Pupil's details" in text
        assert "Dati dell'alunno" not in text and "Consenso prestato" not in text
        letter = OutgoingEmail.objects.get(
            purpose="credentials_letter", attachments__0__params__account_id=english_parent.pk
        )
        assert letter.subject.startswith("Your sign-in credentials") and "Dear parent," in letter.body
        assert "Sign-in credentials letter" in _pdf_text(attachments.render(letter.attachments[0])[1])

        italian_receipt = (
            OutgoingEmail.objects.filter(purpose="enrollment_submitted").exclude(pk=receipt.pk).get()
        )
        assert italian_receipt.subject.startswith("Ricevuta iscrizione ")
        assert "è stata inviata al Comune di Palosco" in italian_receipt.body
        assert italian_receipt.attachments == [] and "Il riepilogo della domanda" in italian_receipt.body
        italian_spec = {"document": "enrollment.riepilogo", "params": {"domanda": str(italian.domanda)}}
        italian_text = _pdf_text(attachments.render(italian_spec)[1])
        assert "Dati dell'alunno" in italian_text and "Pupil's details" not in italian_text

        # Staff decide later, in their own (Italian) session: the outcome still speaks English.
        staff = StaffFactory.create(role=OPERATORE)
        enrollment_confirm(enrollment=english, by=staff, note="")
        enrollment_confirm(enrollment=italian, by=staff, note="")
        outcome = OutgoingEmail.objects.get(purpose="enrollment_confirmed", to=[english.guardian_shown.email])
        assert outcome.subject.startswith(f"Enrollment no. {english.reference} confirmed")
        assert "has been confirmed" in outcome.body and "Gentile" not in outcome.body
        italian_outcome = OutgoingEmail.objects.get(
            purpose="enrollment_confirmed", to=[italian.guardian_shown.email]
        )
        assert "è stata confermata" in italian_outcome.body
        # Subjects written by the back office's services follow the parent too.
        enrollment_reopen_notify(enrollment=english, by=staff)
        enrollment_reopen_notify(enrollment=italian, by=staff)
        reopened = {m.to[0]: m.subject for m in OutgoingEmail.objects.filter(purpose="enrollment_reopened")}
        assert reopened[english.guardian_shown.email].startswith(
            f"Enrollment no. {english.reference} is under review again"
        )
        assert reopened[italian.guardian_shown.email].startswith(
            f"Iscrizione n. {italian.reference} di nuovo in esame"
        )


def test_a_pdf_download_follows_the_page_language_and_keeps_the_italian_file_apart(palosco: Comune) -> None:
    from enrollment.documents import Riepilogo

    with tenant_context(palosco):
        parent = parent_create(username="PAL-000953")
        row = domanda_create(parent, [service("PRE")], submit=True)[0]
        italian = Riepilogo(comune=palosco, domanda=row.domanda)
        english = Riepilogo(comune=palosco, domanda=row.domanda, language="en")
        assert italian.stored_path() != english.stored_path()
        assert "language" not in italian.spec()["params"] and english.spec()["params"]["language"] == "en"
        assert 'lang="en"' in english.html() and 'lang="it"' in italian.html()
        assert "Pupil's details" in english.html() and "Dati dell'alunno" in italian.html()
        # A language the platform does not offer falls back to Italian.
        assert Riepilogo(comune=palosco, domanda=row.domanda, language="xx").language == "it"


def test_erasing_a_family_removes_its_english_riepilogo_too(
    palosco: Comune, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from enrollment.documents import Riepilogo
    from enrollment.gdpr import family_erase

    with tenant_context(palosco):
        parent = parent_create(username="PAL-000954")
        row = domanda_create(parent, [service("PRE")], submit=True)[0]
        stored = []
        for language in ("it", "en"):
            doc = Riepilogo(comune=palosco, domanda=row.domanda, language=language)
            doc.pdf()
            stored.append(doc.stored_path())
        assert all(path.is_file() for path in stored)
        with django_capture_on_commit_callbacks(execute=True):
            family_erase(guardian=row.guardian, confirmation=row.guardian.codice_fiscale)
        assert [path for path in stored if path.exists()] == []
