"""A service that exists nowhere in code, walked in Chromium end to end.

The test writes a new comune's YAML with a LUDOTECA service (choices, a
conditional file question, a number ISEE, a ranking with residency and a
question criterion, ISEE-band fees), onboards it with `sync_tenants` as
operators do, and walks it: the public service page, three parents'
requests (more than the two places), the staff's graduatoria and its
publication, and what each parent then sees. The comune's schema is
dropped at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists
from playwright.sync_api import Browser, Locator, Page, expect

from core.models import AuditEntry
from enrollment.backoffice.roles import OPERATORE
from enrollment.models import Enrollment, Graduatoria, Service, Upload
from enrollment.rules import PRIVACY_TEXT
from enrollment.selectors import enrollment_fee
from identity.models import Account
from tenants.config import config_parse
from tenants.models import Comune
from tenants.services import comune_drop
from tests.committed import shared_state_clear
from tests.e2e.conftest import logged_in_context
from tests.e2e.test_parent_enrollment import field, tick
from tests.factories import PARENT_PASSWORD, ParentFactory, StaffFactory, make_cf

pytestmark = pytest.mark.e2e

SLUG = "ludoville"
HOST = "ludoville.localhost"
SERVICE = "LUDOTECA INVERNALE"
LUDOVILLE_YAML = f"""
slug: {SLUG}
name: Ludoville
province: Bergamo
hosts: [{HOST}]
identity: {{backends: [credentials]}}
branding: {{primary_color: "#1e5b2d", header_text: Iscrizioni Ludoville}}
services:
  - code: LUDOTECA
    name: {SERVICE}
    description: Giochi e laboratori il sabato mattina, da dicembre a febbraio.
    school_year: 2025/2026
    opens_at: 2025-05-05T09:00:00
    closes_at: 2027-06-30T23:59:59
    capacity: 2
    schools: [primaria]
    questions:
      - id: laboratori
        label: Laboratori scelti
        type: choices
        options: [Pittura, Costruzioni, Teatro]
        required: true
        help: Puoi sceglierne più di uno.
      - id: allergie
        label: Allergie alimentari
        type: boolean
      - id: certificato
        label: Certificato medico delle allergie
        type: file
        required_if: {{question: allergie, equals: true}}
      - id: isee
        label: ISEE del nucleo familiare (euro)
        type: number
        min: 0
      - id: lavoro
        label: Entrambi i genitori lavorano il sabato
        type: boolean
    documents: [Certificato medico delle allergie, se presenti]
    ranking:
      criteria:
        - {{id: residenti, label: Residenti a Ludoville, points: 10, source: residency}}
        - {{id: lavoro, label: Genitori al lavoro il sabato, points: 5, question: lavoro, equals: true}}
      tie_break: submitted_at
    fees:
      kind: isee_bands
      isee_question: isee
      bands:
        - {{up_to: 10000, amount: "90.00"}}
        - {{up_to: 25000, amount: "150.00"}}
        - {{amount: "210.00"}}
"""
# A one-page PDF is enough: the upload is checked by its first bytes.
SMALL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclass
class Family:
    """One parent's request: who they are and what they answer."""

    pupil_first: str
    last_name: str
    birth: date
    pupil_cf: str
    guardian_cf: str
    city: str
    laboratori: list[str]
    allergie: bool
    isee: str
    lavoro: bool
    fee: str
    points: dict[str, str]
    account: Account | None = None


FAMILIES = [
    # Sent in this order; points: 10, 15, 0 → ranks 2, 1, 3 with two places.
    Family(
        "Giulia", "Bianchi",
        date(2017, 3, 4),
        make_cf(surname="BNC", name="GLI", birth=date(2017, 3, 4), female=True),
        make_cf(surname="BNC", name="NNA", birth=date(1985, 1, 2), female=True),
        "Ludoville", ["Pittura", "Teatro"], True, "8000", False, "€ 90,00",
        {"Residenti a Ludoville": "10 punti", "Genitori al lavoro il sabato": "0 punti"},
    ),
    Family(
        "Marco", "Verdi",
        date(2016, 6, 7),
        make_cf(surname="VRD", name="MRC", birth=date(2016, 6, 7)),
        make_cf(surname="VRD", name="PLA", birth=date(1983, 5, 6)),
        "Ludoville", ["Costruzioni"], False, "30000", True, "€ 210,00",
        {"Residenti a Ludoville": "10 punti", "Genitori al lavoro il sabato": "5 punti"},
    ),
    Family(
        "Sara", "Neri",
        date(2017, 9, 10),
        make_cf(surname="NRE", name="SRA", birth=date(2017, 9, 10), female=True),
        make_cf(surname="NRE", name="LCA", birth=date(1980, 8, 9)),
        "Bergamo", ["Teatro"], False, "", False, "€ 210,00",
        {"Residenti a Ludoville": "0 punti", "Genitori al lavoro il sabato": "0 punti"},
    ),
]  # fmt: skip


@pytest.fixture
def ludoville(committed_comuni: dict[str, Comune], tmp_path: Path, django_db_blocker) -> Iterator[Comune]:  # type: ignore[no-untyped-def]
    """The new comune, onboarded from its YAML file with `sync_tenants`; dropped afterwards."""
    path = tmp_path / f"{SLUG}.yaml"
    path.write_text(LUDOVILLE_YAML, encoding="utf-8")
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        last_audit = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        out = StringIO()
        call_command("sync_tenants", str(path), stdout=out)
        assert f"{SLUG}: created" in out.getvalue()
        comune = Comune.objects.get(slug=SLUG)
        try:
            yield comune
        finally:
            connection.set_schema_to_public()
            comune_drop(comune=Comune.objects.get(slug=SLUG), action="comune.offboarded")
            AuditEntry.objects.filter(id__gt=last_audit).delete()
            shared_state_clear()
            assert not schema_exists(SLUG)


def _public_service_page(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name=SERVICE).click()
    expect(page).to_have_url(re.compile(r"/servizi/LUDOTECA/2025-2026/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(SERVICE)
    who = page.locator("#a-chi-e-rivolto")
    expect(who).to_contain_text("primaria")
    expect(who).to_contain_text("Chi risiede nel comune ha la precedenza in graduatoria (10 punti)")
    expect(page.locator("#come-fare")).to_contain_text("Se le domande superano i posti disponibili (2)")
    expect(page.locator("#cosa-serve")).to_contain_text("Certificato medico delle allergie")
    costs = page.locator("#quanto-costa li").all_inner_texts()
    assert costs == [
        "ISEE fino a € 10.000,00: € 90,00",
        "ISEE fino a € 25.000,00: € 150,00",
        "ISEE oltre € 25.000,00 o non dichiarato: € 210,00",
    ], costs
    expect(page.locator("#accedi-al-servizio").get_by_role("link", name="Accedi al servizio")).to_be_visible()


def _login(page: Page, account: Account) -> None:
    page.goto("/accesso/")
    page.get_by_role("textbox", name=re.compile("^Codice utente")).fill(account.username)
    page.locator("#id_credentials-password").fill(PARENT_PASSWORD)
    page.get_by_role("button", name="Accedi", exact=True).click()
    expect(page).to_have_url(re.compile(r"/iscrizioni/$"))


def _q(page: Page, label: str) -> Locator:
    """A LUDOTECA question's control: its label carries the service's name for screen readers."""
    return field(page, f"{label} ({SERVICE})")


def _fill_request(page: Page, family: Family, artifacts: Path, tmp_path: Path) -> None:
    page.get_by_role("link", name="Nuova Iscrizione").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Modulo Iscrizione")
    tick(page, PRIVACY_TEXT)
    page.get_by_role("button", name="Avanti").click()
    field(page, "Codice fiscale dell'alunno").fill(family.pupil_cf)
    field(page, "Nome dell'alunno").fill(family.pupil_first)
    field(page, "Cognome dell'alunno").fill(family.last_name)
    field(page, "Data di nascita dell'alunno").fill(family.birth.isoformat())
    field(page, "Luogo di nascita dell'alunno").fill("Bergamo")
    field(page, "Scuola frequentata nell'anno scolastico").select_option("primaria")
    field(page, "Classe e sezione").fill("2ª B")
    page.get_by_role("button", name="Avanti").click()
    field(page, "Nome del genitore/tutore").fill("Genitore")
    field(page, "Cognome del genitore/tutore").fill(family.last_name)
    field(page, "Codice fiscale del genitore/tutore").fill(family.guardian_cf)
    field(page, "Telefono del genitore/tutore").fill("035 765432")
    field(page, "Indirizzo di residenza").fill("Via dei Giochi 3")
    field(page, "CAP").fill("24050")
    field(page, "Comune di residenza").fill(family.city)
    page.get_by_role("button", name="Avanti").click()

    tick(page, f"{SERVICE} 2025/2026")
    questions = page.locator("#domande-ludoteca")
    expect(questions.get_by_role("group", name=re.compile("^Laboratori scelti"))).to_be_visible()
    for option in family.laboratori:
        questions.locator("label").filter(has_text=re.compile(f"^{option}$")).click()
    # The file question is shown only once its condition holds.
    certificate = _q(page, "Certificato medico delle allergie")
    expect(certificate).to_be_hidden()
    if family.allergie:
        tick(page, f"Allergie alimentari ({SERVICE})")
        expect(certificate).to_be_visible()
        pdf = tmp_path / "certificato allergie.pdf"
        pdf.write_bytes(SMALL_PDF)
        certificate.set_input_files(str(pdf))
    if family.isee:
        _q(page, "ISEE del nucleo familiare (euro)").fill(family.isee)
    if family.lavoro:
        tick(page, f"Entrambi i genitori lavorano il sabato ({SERVICE})")
    page.screenshot(path=artifacts / f"ludoville-01-modulo-{family.last_name}.png", full_page=True)
    page.get_by_role("button", name="Vai al riepilogo iscrizione").click()


def _answers(page: Page) -> dict[str, str]:
    service = page.locator("#services-title + ul > li").first
    labels = service.locator("dt").all_inner_texts()
    values = service.locator("dd").all_inner_texts()
    return {k.strip(): v.strip() for k, v in zip(labels, values, strict=True)}


def _check_summary_and_send(page: Page, family: Family, artifacts: Path) -> str:
    errors = page.locator("#error-summary")
    assert not errors.count(), page.get_by_role("alert").first.inner_text()
    expect(page.get_by_role("heading", name="Riepilogo Dati")).to_be_visible()
    answers = _answers(page)
    assert answers["Laboratori scelti"] == ", ".join(family.laboratori), answers
    assert answers["Allergie alimentari"] == ("Sì" if family.allergie else "No"), answers
    assert answers["Entrambi i genitori lavorano il sabato"] == ("Sì" if family.lavoro else "No"), answers
    assert answers["Quota annuale"] == family.fee, answers
    if family.allergie:
        assert answers["Certificato medico delle allergie"].endswith(".pdf"), answers
    else:
        assert "Certificato medico delle allergie" not in answers, answers
    if family.isee:
        assert answers["ISEE del nucleo familiare (euro)"].replace(".", "") == family.isee, answers
    page.screenshot(path=artifacts / f"ludoville-02-riepilogo-{family.last_name}.png", full_page=True)
    page.get_by_role("button", name="Invia Iscrizione").click()
    expect(page.get_by_role("status").first).to_contain_text("Iscrizione inviata.")
    # Before publication the place is provisional, and the parent is told so.
    expect(page.get_by_test_id("graduatoria")).to_contain_text(
        "sarà calcolata alla chiusura delle iscrizioni"
    )
    return page.url


def _graduatoria_outcome(page: Page) -> dict[str, str]:
    box = page.get_by_test_id("graduatoria")
    labels = box.locator("dt").all_inner_texts()
    values = box.locator("dd").all_inner_texts()
    return {k.strip().rstrip(":"): v.strip() for k, v in zip(labels, values, strict=True)}


def test_a_service_defined_only_in_yaml_from_its_page_to_the_published_graduatoria(
    browser: Browser, live_comuni: int, ludoville: Comune, artifacts: Path, tmp_path: Path
) -> None:
    base = f"http://{HOST}:{live_comuni}"
    with schema_context(SLUG):
        assert list(Service.objects.values_list("code", flat=True)) == ["LUDOTECA"]
        for family in FAMILIES:
            family.account = ParentFactory.create()
        staff = StaffFactory.create(username="operatore.ludoville", role=OPERATORE)

    # A parent learns everything from the public page, then signs in and applies.
    summaries: list[str] = []
    for i, family in enumerate(FAMILIES):
        context = browser.new_context(base_url=base, locale="it-IT")
        page = context.new_page()
        if i == 0:
            _public_service_page(page)
            page.screenshot(path=artifacts / "ludoville-00-scheda-servizio.png", full_page=True)
        assert family.account is not None
        _login(page, family.account)
        _fill_request(page, family, artifacts, tmp_path)
        summaries.append(_check_summary_and_send(page, family, artifacts))
        context.close()

    with schema_context(SLUG):
        requests = Enrollment.objects.filter(status=Enrollment.Status.INVIATA).order_by("submitted_at")
        assert [e.pupil.last_name for e in requests] == [f.last_name for f in FAMILIES]
        first = requests[0]
        assert first.extra["laboratori"] == ["Pittura", "Teatro"] and first.extra["allergie"] is True
        upload = Upload.objects.get()
        assert upload.enrollment_id == first.pk
        fees = [enrollment_fee(enrollment=e) for e in requests]
        assert fees == [Decimal("90.00"), Decimal("210.00"), Decimal("210.00")], fees

    # The office computes the graduatoria in the back office, then publishes it.
    office = logged_in_context(browser, comune=ludoville, account=staff, base_url=base)
    page = office.new_page()
    page.goto("/admin/")
    page.get_by_role("link", name="Graduatorie").first.click()
    page.get_by_role("link", name=f"{SERVICE} 2025/2026").click()
    expect(page.get_by_text("non è ancora stata calcolata")).to_be_visible()
    page.get_by_role("button", name="Calcola la graduatoria").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    order = [rows.nth(i).locator("td").first.inner_text() for i in range(3)]
    assert [re.sub(r"\s+", " ", o) for o in order] == ["1", "2", "3"], order
    table = page.locator("table").first.inner_text()
    assert table.index("Verdi") < table.index("Bianchi") < table.index("Neri"), table
    page.screenshot(path=artifacts / "ludoville-03-graduatoria.png", full_page=True)
    page.get_by_role("button", name="Pubblica la graduatoria").click()
    expect(page.get_by_text("Graduatoria pubblicata")).to_be_visible()
    office.close()
    with schema_context(SLUG):
        assert Graduatoria.objects.get().is_published

    # Each parent now sees their points and position, no longer provisional.
    expected = [("2", "posto assegnato"), ("1", "posto assegnato"), ("3", "in lista d'attesa, posizione 1")]
    for family, summary, (rank, outcome) in zip(FAMILIES, summaries, expected, strict=True):
        context = browser.new_context(base_url=base, locale="it-IT")
        page = context.new_page()
        assert family.account is not None
        _login(page, family.account)
        page.goto(summary)
        box = page.get_by_test_id("graduatoria")
        expect(box).not_to_contain_text("Graduatoria provvisoria")
        got = _graduatoria_outcome(page)
        assert got["Posizione in graduatoria"] == rank, got
        assert got["Esito della graduatoria"] == outcome, got
        for label, points in family.points.items():
            assert got[label] == points, got
        if family is FAMILIES[2]:
            page.screenshot(path=artifacts / "ludoville-04-esito-lista-attesa.png", full_page=True)
        context.close()


def test_the_ludoville_yaml_is_valid_and_its_service_is_defined_only_there(db) -> None:  # type: ignore[no-untyped-def]
    """The walk's definition passes the operators' validator; no code knows LUDOTECA.

    Uses `db`, so pytest-django creates the test database for this module's committed test.
    """
    cfg = config_parse(LUDOVILLE_YAML, source=f"{SLUG}.yaml")
    definition = cfg.services[0].definition
    assert [q.type for q in definition.questions] == ["choices", "boolean", "file", "number", "boolean"]
    assert definition.ranking is not None and definition.fees is not None
    code_dirs = ("core", "tenants", "identity", "enrollment", "payments", "api", "platform")
    root = Path(__file__).resolve().parents[2]
    for folder in code_dirs:
        for source in (root / folder).rglob("*.py"):
            assert "LUDOTECA" not in source.read_text(encoding="utf-8"), source
