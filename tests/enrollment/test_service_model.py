"""The Designers Italia service model's marks on the parents' pages: footer, breadcrumb, privacy notice.

AgID's validator of comuni' services reads fixed `data-element` marks; these
tests read the same marks from the HTML every parents' page serves, in both
comuni.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from lxml import html as lxml_html

from superadmin.operations import comune_apply_config
from tenants.models import Comune
from tests.conftest import host_of
from tests.enrollment.conftest import logged_in, parent_create, service
from tests.factories import domanda_create

PUBLIC_PAGES = ["/informativa-privacy/", "/note-legali/", "/dichiarazione-accessibilita/", "/accesso/",
                "/accesso/password-dimenticata/", "/pagina-che-non-esiste/"]  # fmt: skip
PARENT_PAGES = ["/iscrizioni/", "/iscrizioni/nuova/", "/iscrizioni/rinnovi/"]


def _tree(client: Client, path: str) -> Any:
    response = client.get(path)
    assert response.status_code in (200, 404), (path, response.status_code)
    return lxml_html.fromstring(response.content.decode())


def _pages(comune: Comune) -> list[tuple[Client, str]]:
    """Every parents' page reachable without data, anonymous and signed in, plus a submitted domanda's."""
    anonymous = Client(HTTP_HOST=host_of(comune))
    with tenant_context(comune):
        parent = parent_create(username="PAR-000321")
        code = "PRE" if comune.slug == "palosco" else "MENSA"
        rows = domanda_create(parent, [service(code)], submit=True)
    signed_in = logged_in(comune, parent)
    summary = f"/iscrizioni/domanda/{rows[0].domanda}/"
    return [
        (anonymous, "/"),
        *((anonymous, p) for p in PUBLIC_PAGES),
        *((signed_in, p) for p in PARENT_PAGES),
        (signed_in, summary),
    ]


@pytest.mark.parametrize("slug", ["palosco", "romanodilombardia"])
def test_footer_links_on_every_page(slug: str, db) -> None:  # type: ignore[no-untyped-def]
    comune = Comune.objects.get(slug=slug)
    cfg = comune.settings
    for client, path in _pages(comune):
        tree = _tree(client, path)
        footers = tree.xpath("//footer")
        assert len(footers) == 1, path
        marks = {a.get("data-element"): a.get("href") for a in footers[0].xpath(".//a[@data-element]")}
        assert marks == {
            "privacy-policy-link": "/informativa-privacy/",
            "legal-notes": "/note-legali/",
            "accessibility-link": cfg.accessibility_statement_url,
        }, path
        links = footers[0].xpath(".//a/@href")
        assert "/dichiarazione-accessibilita/" in links and f"mailto:{cfg.contacts.email}" in links, path


def test_accessibility_statement_url_comes_from_the_comune_config(palosco: Comune, romano: Comune) -> None:
    url = "https://form.agid.gov.it/view/3fa85f64-5717-4562-b3fc-2c963f66afa6"
    comune_apply_config(config=palosco.settings.model_copy(update={"accessibility_statement_url": url}))
    palosco_footer = _tree(Client(HTTP_HOST=host_of(palosco)), "/").xpath("//footer")[0]
    romano_footer = _tree(Client(HTTP_HOST=host_of(romano)), "/").xpath("//footer")[0]
    assert palosco_footer.xpath("//a[@data-element='accessibility-link']/@href") == [url]
    assert romano_footer.xpath("//a[@data-element='accessibility-link']/@href") == [
        "https://form.agid.gov.it/"
    ]


@pytest.mark.parametrize("slug", ["palosco", "romanodilombardia"])
def test_breadcrumb_on_every_inner_page(slug: str, db) -> None:  # type: ignore[no-untyped-def]
    comune = Comune.objects.get(slug=slug)
    for client, path in _pages(comune):
        crumbs = _tree(client, path).xpath("//*[@data-element='breadcrumb']")
        if path == "/":
            assert crumbs == [], "the home page has no breadcrumb"
            continue
        assert len(crumbs) == 1, path
        nav = crumbs[0].getparent()
        assert nav.tag == "nav" and nav.get("aria-label") == "Percorso di navigazione", path
        items = crumbs[0].xpath("./li")
        assert items[0].xpath("./a/@href") == ["/"], path
        assert [i.get("aria-current") for i in items] == [None] * (len(items) - 1) + ["page"], path
        assert items[-1].xpath("./a") == [], f"{path}: the current page is not a link"


def test_privacy_notice_names_the_dpo_of_each_comune(palosco: Comune, romano: Comune) -> None:
    for comune in (palosco, romano):
        page = Client(HTTP_HOST=host_of(comune)).get("/informativa-privacy/").content.decode()
        dpo = comune.settings.dpo
        assert dpo is not None
        assert dpo.name in page and f'href="mailto:{dpo.email}"' in page
    other = romano.settings.dpo
    assert other is not None
    assert other.email not in Client(HTTP_HOST=host_of(palosco)).get("/informativa-privacy/").content.decode()


def test_privacy_notice_lists_every_cookie_the_portal_sets(palosco: Comune) -> None:
    """Only technical cookies, and the page says which: walk a parent's visit and collect them."""
    client = Client(HTTP_HOST=host_of(palosco), enforce_csrf_checks=False)
    seen: set[str] = set()
    for response in (
        client.get("/"),
        client.get("/accesso/"),
        client.post("/i18n/setlang/", {"language": "en", "next": "/"}),
        client.post("/i18n/setlang/", {"language": "it", "next": "/"}),
    ):
        seen.update(response.cookies.keys())
    with tenant_context(palosco):
        parent = parent_create()
    signed_in = logged_in(palosco, parent)
    seen.update(signed_in.cookies.keys())
    seen.update(signed_in.get("/iscrizioni/nuova/").cookies.keys())
    page = client.get("/informativa-privacy/").content.decode()
    assert "solo cookie tecnici" in page
    listed = set(lxml_html.fromstring(page).xpath("//section[@aria-labelledby='cookie-title']//code/text()"))
    assert {"iscrizioni_session", "csrftoken", "django_language"} <= seen
    assert seen <= listed
