"""PDF documents (WeasyPrint) and the e-mails that carry them, over real SMTP."""

from __future__ import annotations

import re
import time
import zlib

import pytest
from django.db import connection
from django.test import Client

from core.models import OutgoingEmail
from enrollment.credentials import LetterCredentials, PasswordState
from enrollment.documents import LetteraCredenziali, ManualeInformativo, Riepilogo
from enrollment.models import Enrollment
from enrollment.services import enrollment_confirm, enrollments_submit
from tests.enrollment.conftest import parent_create, pupil_data, service
from tests.factories import domanda_create
from tests.jobs import run_pending_jobs


def pdf_objects(content: bytes) -> bytes:
    """The PDF's objects with every compressed stream inflated, to look inside."""
    out = [content]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return b"\n".join(out)


def _submitted(account, services):  # type: ignore[no-untyped-def]
    return domanda_create(account, services, extra={"PRE": {"motivo": "Lavoro"}}, submit=True)


def test_documents_are_tagged_a4_italian_with_title(in_palosco, palosco_parent) -> None:
    rows = _submitted(palosco_parent, [service("PRE")])
    for doc in (
        Riepilogo(comune=in_palosco, domanda=rows[0].domanda),
        ManualeInformativo(comune=in_palosco),
        LetteraCredenziali(comune=in_palosco, account=palosco_parent),
    ):
        content = doc.pdf()
        assert content.startswith(b"%PDF-")
        inside = pdf_objects(content)
        assert b"/Lang (it)" in inside
        assert f"/Title ({doc.title} - Comune di Palosco)".encode() in inside
        assert b"/StructTreeRoot" in inside and b"/MarkInfo" in inside
        # A4 is 595 x 842 points.
        assert re.search(rb"/MediaBox \[0 0 595\.\d+ 841\.\d+\]", inside)


def test_riepilogo_has_all_data_status_reference_and_dates(in_palosco, palosco_parent) -> None:
    rows = _submitted(palosco_parent, [service("PRE"), service("POST")])
    html = Riepilogo(comune=in_palosco, domanda=rows[0].domanda).html()
    for text in (
        "Comune di Palosco",
        "protocollo@comune.palosco.bg.it",
        "palosco/stemma.svg",
        rows[0].reference,
        rows[1].reference,
        "Inviata",
        "Data primo salvataggio",
        "Data ultima modifica",
        "Data inserimento iscrizione",
        "Rossi Luca",
        pupil_data()["codice_fiscale"],
        "Via Roma 1",
        "Lavoro",
        "Consenso prestato",
    ):
        assert text in html, text
    assert '<html lang="it">' in html


def test_manuale_uses_the_comune_template_or_the_generic_one(in_palosco, romano) -> None:
    palosco_html = ManualeInformativo(comune=in_palosco).html()
    assert "Sono un nuovo iscritto" in palosco_html and "ComunicApp" not in palosco_html
    connection.set_tenant(romano)
    romano_html = ManualeInformativo(comune=romano).html()
    assert "ComunicApp" in romano_html and "Entra con SPID" in romano_html
    assert "Sono un nuovo iscritto" not in romano_html  # Romano has no codice fiscale access
    assert "0363 982341" in romano_html
    assert "della Città di Romano di Lombardia" in romano_html and "del Città" not in romano_html
    assert "del Comune di Palosco" in palosco_html


def test_lettera_shows_codice_utente_and_a_password_only_when_issued(in_palosco, palosco_parent) -> None:
    html = LetteraCredenziali(comune=in_palosco, account=palosco_parent).html()
    assert "PAL-000900" in html and "Password iniziale" not in html
    issued = LetterCredentials(
        codice_utente="PAL-000900", password_state=PasswordState.ISSUED, password="Xy7-segreta"
    )
    doc = LetteraCredenziali(comune=in_palosco, account=palosco_parent, credentials=issued)
    assert "Xy7-segreta" in doc.html()
    doc.pdf()
    assert not doc.stored_path().exists()  # a letter with a password is never stored
    plain = LetteraCredenziali(comune=in_palosco, account=palosco_parent)
    plain.pdf()
    assert plain.stored_path().is_file()


def test_stored_documents_are_per_comune_and_keep_only_the_latest_version(in_palosco, palosco_parent) -> None:
    rows = _submitted(palosco_parent, [service("PRE")])
    doc = Riepilogo(comune=in_palosco, domanda=rows[0].domanda)
    first = doc.stored_path()
    doc.pdf()
    assert first.parent.name == "palosco" and first.is_file()
    enrollment_confirm(enrollment=rows[0], by=None, note="")  # the data shown changes
    newer = Riepilogo(comune=in_palosco, domanda=rows[0].domanda)
    assert newer.stored() is None and newer.stored_path() != first
    newer.pdf()
    assert newer.stored_path().is_file() and not first.exists()


def test_submission_mails_receipt_and_letter_over_smtp(in_palosco, palosco_parent, smtp_server) -> None:
    rows = _submitted(palosco_parent, [service("PRE")])
    assert run_pending_jobs(task_name="core.email_send") == 2
    assert len(smtp_server.messages) == 2
    by_subject = {m["Subject"]: m for m in smtp_server.messages}
    receipt = next(m for s, m in by_subject.items() if s.startswith("Ricevuta iscrizione"))
    letter = next(m for s, m in by_subject.items() if s.startswith("Credenziali di accesso"))
    assert receipt["To"] == "genitore@example.org"
    # The receipt carries no PDF: it links the riepilogo, rendered when first downloaded.
    assert [p.get_filename() for p in receipt.walk() if p.get_filename()] == []
    text = receipt.get_payload(decode=True).decode()
    (link,) = re.findall(r"https://palosco\.localhost(/\S+/riepilogo\.pdf)", text)
    parent = Client(HTTP_HOST="palosco.localhost")
    parent.force_login(palosco_parent)
    assert parent.get(link).status_code == 202  # in preparation: one job queued
    assert run_pending_jobs(task_name="enrollment.document_prepare") == 1
    download = parent.get(link)
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")
    assert f"riepilogo-iscrizione-{rows[0].reference}.pdf" in download["Content-Disposition"]
    assert Client(HTTP_HOST="palosco.localhost").get(link).status_code == 302  # to the login page
    other_parent = Client(HTTP_HOST="palosco.localhost")
    other_parent.force_login(parent_create(username="PAL-000951"))
    assert other_parent.get(link).status_code == 404
    letter_files = [p.get_filename() for p in letter.walk() if p.get_filename()]
    assert letter_files == ["lettera-credenziali.pdf"]
    body = "\n".join(smtp_server.bodies())
    assert rows[0].reference in body and "PAL-000900" in body
    enrollments_submit(enrollments=rows, by=palosco_parent)  # resubmitted form
    assert run_pending_jobs(task_name="core.email_send") == 0 and len(smtp_server.messages) == 2


def test_failed_smtp_never_rolls_back_and_is_retried(in_palosco, palosco_parent, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # nothing listens
    rows = _submitted(palosco_parent, [service("PRE")])
    with pytest.raises(Exception, match="not sent"):
        run_pending_jobs()
    rows[0].refresh_from_db()
    assert rows[0].status == Enrollment.Status.INVIATA
    assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.FAILED).count() == 1
    assert OutgoingEmail.objects.filter(status=OutgoingEmail.Status.QUEUED).count() == 1


def test_outcome_mail_after_confirmation(in_palosco, palosco_parent, smtp_server) -> None:
    rows = _submitted(palosco_parent, [service("PRE")])
    run_pending_jobs()
    enrollment_confirm(enrollment=rows[0], by=None, note="Inizio il 15 settembre")
    run_pending_jobs()
    last = smtp_server.bodies()[-1]
    assert "è stata confermata" in last and "Inizio il 15 settembre" in last


def test_pdf_generation_time(in_palosco, palosco_parent, capsys) -> None:
    rows = _submitted(palosco_parent, [service("PRE"), service("POST")])
    docs = {
        "riepilogo": lambda: Riepilogo(comune=in_palosco, domanda=rows[0].domanda),
        "manuale informativo": lambda: ManualeInformativo(comune=in_palosco),
        "lettera credenziali": lambda: LetteraCredenziali(comune=in_palosco, account=palosco_parent),
    }
    report = []
    for name, factory in docs.items():
        times = []
        for _ in range(3):
            started = time.perf_counter()
            factory().render()
            times.append((time.perf_counter() - started) * 1000)
        factory().pdf()
        started = time.perf_counter()
        factory().pdf()
        cached = (time.perf_counter() - started) * 1000
        report.append(f"{name}: {' / '.join(f'{t:.0f}' for t in times)} ms rendered, {cached:.1f} ms cached")
        # No wall-clock bound here (the suite shares 2 cores); the numbers are
        # printed, and the cache must beat a fresh render by far.
        assert cached < min(times) / 2
    with capsys.disabled():
        print("\nPDF generation (first / second / third render):\n  " + "\n  ".join(report))


def test_lettera_gives_a_codice_utente_to_a_codice_fiscale_family(in_palosco) -> None:  # type: ignore[no-untyped-def]
    from identity.models import Account

    family = Account.objects.create_user(
        username="RSSLCU15T10A562K", kind=Account.Kind.PARENT, codice_fiscale="RSSLCU15T10A562K"
    )
    family.set_password("Scelta-Dal-Genitore-7")
    family.save()
    html = LetteraCredenziali(comune=in_palosco, account=family).html()
    family.refresh_from_db()
    assert family.codice_utente.startswith("PAL-")
    assert family.codice_utente in html
    assert "Password iniziale" not in html
    assert family.check_password("Scelta-Dal-Genitore-7")  # the chosen password is kept
