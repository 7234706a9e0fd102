"""The rough edges a review of the parents' and staff's pages found (issue #15), one test each."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django_tenants.utils import tenant_context
from lxml import html as lxml_html

from core.models import OutgoingEmail
from enrollment.backoffice.roles import OPERATORE
from enrollment.models import Enrollment
from enrollment.services import enrollment_reject
from identity.email_verification import email_verification_send
from tenants.models import Comune
from tests.conftest import ROMANO_HOST, host_of
from tests.enrollment.conftest import (
    PUPIL_BIRTH,
    PUPIL_CF,
    SIBLING_BIRTH,
    SIBLING_CF,
    form_data,
    logged_in,
    parent_create,
    pupil_data,
    service,
)
from tests.factories import StaffFactory, domanda_create, make_cf

S = Enrollment.Status


def test_security_code_mail_uses_the_article_of_the_comune_kind(romano: Comune, palosco: Comune) -> None:
    bodies = {}
    for comune in (romano, palosco):
        with tenant_context(comune):
            account = parent_create(username="ART-000001", issued=True)
            request = RequestFactory().post("/", HTTP_HOST=ROMANO_HOST)
            email_verification_send(request=request, account=account, email="a@example.org", login_backend="")
            bodies[comune.slug] = OutgoingEmail.objects.get(purpose="email_verification").body
    assert "Portale Iscrizioni Online della Città di Romano di Lombardia" in bodies["romanodilombardia"]
    assert "Portale Iscrizioni Online del Comune di Palosco" in bodies["palosco"]
    assert "del Città" not in bodies["romanodilombardia"]


def test_display_name_articles(romano: Comune, palosco: Comune) -> None:
    assert (romano.display_name_the, palosco.display_name_the) == (
        "la Città di Romano di Lombardia",
        "il Comune di Palosco",
    )


@pytest.mark.parametrize(
    ("status", "icon"),
    [(S.INVIATA, "it-clock"), (S.RESPINTA, "it-close-circle"), (S.BOZZA, "it-pencil")],
)
def test_status_box_icon_follows_the_state(palosco: Comune, status: str, icon: str) -> None:
    with tenant_context(palosco):
        parent = parent_create()
        rows = domanda_create(parent, [service("PRE")], submit=status != S.BOZZA, draft=status == S.BOZZA)
        if status == S.RESPINTA:
            enrollment_reject(enrollment=rows[0], by=StaffFactory.create(role=OPERATORE), reason="Fuori zona")
    page = logged_in(palosco, parent).get(f"/iscrizioni/domanda/{rows[0].domanda}/").content.decode()
    icons = lxml_html.fromstring(page).xpath("//section[contains(@class,'status-box')]//svg")
    assert len(icons) == 1
    assert icons[0].get("data-status-icon") == status and icons[0].get("aria-hidden") == "true"
    assert icons[0].xpath("./use/@href")[0].endswith(f"#{icon}")
    assert "✓" not in page


def test_new_form_title_has_the_school_year_before_the_first_save(palosco: Comune) -> None:
    with tenant_context(palosco):
        parent = parent_create()
    tree = lxml_html.fromstring(logged_in(palosco, parent).get("/iscrizioni/nuova/").content.decode())
    assert tree.xpath("string(//h1)") == "Modulo Iscrizione - Anno Scolastico 2025/2026"
    # The step comes first in the title (each step is its own page), the form's name and year next.
    assert tree.xpath("string(//title)").startswith(
        "Passo 1 di 5: Informativa privacy · Modulo Iscrizione - Anno Scolastico 2025/2026 · "
    )


def test_the_lettera_credenziali_goes_with_the_first_submission_only(in_palosco: Comune) -> None:
    parent = parent_create()
    domanda_create(parent, [service("PRE")], submit=True)
    sibling = pupil_data(codice_fiscale=SIBLING_CF, first_name="Giulia", birth_date=SIBLING_BIRTH)
    domanda_create(parent, [service("POST")], pupil=sibling, submit=True)
    assert OutgoingEmail.objects.filter(purpose="enrollment_submitted").count() == 2
    (letter,) = OutgoingEmail.objects.filter(purpose="credentials_letter")
    assert letter.attachments == [
        {"document": "enrollment.lettera_credenziali", "params": {"account_id": parent.pk}}
    ]
    # Another family's first submission still gets its own letter.
    other = parent_create(username="PAL-000901")
    third = pupil_data(codice_fiscale=make_cf(surname="BNC", birth=PUPIL_BIRTH), first_name="Anna")
    domanda_create(other, [service("PRE")], pupil=third, submit=True)
    assert OutgoingEmail.objects.filter(purpose="credentials_letter").count() == 2


def test_riepilogo_of_one_service_is_one_page_with_the_generation_note(in_palosco: Comune) -> None:
    """The note used to be the last line of the text and spilled alone onto a second page."""
    from django.conf import settings
    from weasyprint import HTML

    from enrollment.documents import Riepilogo

    rows = domanda_create(parent_create(), [service("PRE")], submit=True)
    html = Riepilogo(comune=in_palosco, domanda=rows[0].domanda).html()
    document = HTML(string=html, base_url=str(settings.BASE_DIR)).render()
    assert len(document.pages) == 1
    assert "Documento generato il " in html and "dal Portale Iscrizioni Online del Comune di Palosco." in html


def test_salva_bozza_says_the_temporary_password_was_mailed_and_where(palosco: Comune) -> None:
    """ "Sono un nuovo iscritto": the first "Salva Bozza" mails a password; the page says so, masked."""
    from tests.identity.conftest import cf_post, code_from

    client = Client(HTTP_HOST=host_of(palosco))
    assert cf_post(client, PUPIL_CF).status_code == 302
    assert client.post("/accesso/verifica-email/", {"email": "famiglia.verdi@example.org"}).status_code == 302
    with tenant_context(palosco):
        code = code_from(OutgoingEmail.objects.filter(purpose="email_verification").latest("id").body)
    assert client.post("/accesso/verifica-email/codice/", {"code": code}).status_code == 302
    with tenant_context(palosco):
        data = form_data(
            services=[service("PRE")], guardian_email="famiglia.verdi@example.org", azione="bozza"
        )
    saved = client.post("/iscrizioni/nuova/", data)
    assert saved.status_code == 302 and saved["Location"].endswith("/modifica/")
    page = client.get(saved["Location"]).content.decode()
    assert "Bozza salvata." in page
    assert "Ti abbiamo inviato una password temporanea a f***@example.org" in page
    assert "famiglia.verdi@example.org" not in page.split("password temporanea a", 1)[1][:60]
    with tenant_context(palosco):
        assert OutgoingEmail.objects.get(purpose="temporary_password").to == ["famiglia.verdi@example.org"]
