""" "Le mie iscrizioni": each enrollment's status, dates and next step; the status box a click after login."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from lxml import html as lxml_html

from enrollment.backoffice.roles import OPERATORE
from enrollment.models import Enrollment
from enrollment.services import enrollment_confirm
from tenants.models import Comune
from tests.conftest import host_of
from tests.enrollment.conftest import PUPIL_BIRTH, SIBLING_CF, parent_create, pupil_data, service
from tests.factories import PARENT_PASSWORD, StaffFactory, domanda_create, make_cf
from tests.identity.conftest import credentials_post


def _cards(page: str) -> dict[str, lxml_html.HtmlElement]:
    tree = lxml_html.fromstring(page)
    return {c.get("data-enrollment"): c for c in tree.xpath("//article[@data-enrollment]")}


def test_after_login_each_enrollment_shows_status_dates_and_next_step(palosco: Comune) -> None:
    with tenant_context(palosco):
        parent = parent_create()
        draft = domanda_create(parent, [service("PRE")], draft=True)[0]
        other_child = pupil_data(codice_fiscale=SIBLING_CF, first_name="Giulia")
        sent = domanda_create(parent, [service("POST")], pupil=other_child, submit=True)[0]
        third = pupil_data(codice_fiscale=make_cf(name="ANN", birth=PUPIL_BIRTH), first_name="Anna")
        confirmed = domanda_create(parent, [service("PRE")], pupil=third, submit=True)[0]
        enrollment_confirm(enrollment=confirmed, by=StaffFactory.create(role=OPERATORE), note="")
        confirmed.refresh_from_db()
    client = Client(HTTP_HOST=host_of(palosco))
    response = credentials_post(client, parent.username, PARENT_PASSWORD)
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert home.request["PATH_INFO"] == "/iscrizioni/"
    cards = _cards(home.content.decode())
    assert set(cards) == {draft.reference, sent.reference, confirmed.reference}

    def text(e: Enrollment, testid: str) -> str:
        return " ".join(cards[e.reference].xpath(f"string(.//*[@data-testid='{testid}'])").split())

    assert (text(draft, "status"), text(sent, "status"), text(confirmed, "status")) == (
        "Bozza", "Inviata", "Confermata"
    )  # fmt: skip
    assert "premi «Invia Iscrizione»" in text(draft, "next-action")
    assert "riceverai l'esito per email" in text(sent, "next-action")
    assert "l'iscrizione è confermata" in text(confirmed, "next-action")

    def date_shown(e: Enrollment, label: str) -> str:
        return str(cards[e.reference].xpath(f"string(.//dt[.='{label}']/following-sibling::dd[1])"))

    assert (
        date_shown(sent, "Data inserimento iscrizione")
        == f"{timezone.localtime(sent.submitted_at):%d/%m/%Y %H:%M}"
    )
    assert (
        date_shown(draft, "Data primo salvataggio")
        == f"{timezone.localtime(draft.first_saved_at):%d/%m/%Y %H:%M}"
    )
    assert date_shown(draft, "Data inserimento iscrizione") == ""
    assert date_shown(confirmed, "Data esito") == f"{timezone.localtime(confirmed.decided_at):%d/%m/%Y %H:%M}"

    # One click from the landing page to the status box.
    (link,) = cards[sent.reference].xpath(".//a[contains(., 'Vedi lo stato')]/@href")
    assert link == f"/iscrizioni/domanda/{sent.domanda}/#stato-{sent.pk}"
    status_page = lxml_html.fromstring(client.get(link.split("#")[0]).content.decode())
    (box,) = status_page.xpath(f"//section[@id='stato-{sent.pk}']")
    assert "Stato Iscrizione" in box.text_content() and "Inviata" in box.text_content()
