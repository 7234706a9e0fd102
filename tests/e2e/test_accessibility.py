"""WCAG 2.1 AA checks of the main pages with axe-core, in headless Chromium.

axe-core (npm, pinned in package.json) runs inside each page: every rule of
the wcag2a/wcag2aa/wcag21a/wcag21aa sets must pass. Automated checks find
about a third of accessibility problems; they guard against regressions of
what they can see (labels, contrast, landmarks, names, ARIA).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import Browser, Page

from enrollment.models import Service
from identity.models import Account
from tenants.models import Comune
from tests.e2e.conftest import logged_in_context

pytestmark = pytest.mark.e2e
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Page) -> list[str]:
    # Evaluated through DevTools: the page's CSP rightly refuses an injected <script>.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def _check(page: Page, path: str) -> list[str]:
    page.goto(path)
    return [f"{path}: {v}" for v in axe_violations(page)]


def test_public_pages_of_both_comuni(browser: Browser, live_comuni: int, committed_comuni) -> None:  # type: ignore[no-untyped-def]
    assert AXE.exists(), "axe-core is missing: run `make deps`"
    problems: list[str] = []
    for host, paths in (
        ("palosco.localhost", ["/", "/accesso/", "/informativa-privacy/", "/accesso/password-dimenticata/"]),
        ("romanodilombardia.localhost", ["/", "/accesso/"]),
        ("localhost", ["/"]),
    ):
        context = browser.new_context(base_url=f"http://{host}:{live_comuni}", locale="it-IT")
        page = context.new_page()
        for path in paths:
            problems += _check(page, path)
        context.close()
    assert problems == []


def test_parent_form_with_errors_and_dashboard(browser: Browser, live_comuni: int, committed_comuni) -> None:  # type: ignore[no-untyped-def]
    palosco: Comune = committed_comuni["palosco"]
    with schema_context("palosco"):
        account = Account.objects.create_user(
            username="PAL-000777",
            codice_utente="PAL-000777",
            kind=Account.Kind.PARENT,
            email="a11y@example.org",
            email_verified_at=timezone.now(),
            password="Password-A11y-1",
        )
    base = f"http://palosco.localhost:{live_comuni}"
    context = logged_in_context(browser, comune=palosco, account=account, base_url=base)
    page = context.new_page()
    problems = _check(page, "/iscrizioni/")
    for step in (4, 3, 2, 1):  # each step page of the form (issue #15); step 1 is left open
        problems += _check(page, f"/iscrizioni/nuova/?passo={step}")
    page.get_by_role("button", name="Avanti").click()  # no consent: step 1's error summary
    problems += [f"/iscrizioni/nuova/ (errori): {v}" for v in axe_violations(page)]
    context.close()
    assert problems == []


def test_back_office_pages(browser: Browser, live_comuni: int, committed_comuni) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group

    from enrollment.backoffice.roles import AMMINISTRATORE, staff_roles_ensure

    romano: Comune = committed_comuni["romanodilombardia"]
    with schema_context("romanodilombardia"):
        staff = Account.objects.create_user(
            "ufficio.a11y", "Ufficio-A11y-2026", kind=Account.Kind.STAFF, is_staff=True
        )
        staff_roles_ensure()
        staff.groups.add(Group.objects.get(name=AMMINISTRATORE))
        service_id = Service.objects.order_by("pk").values_list("pk", flat=True).first()
    base = f"http://romanodilombardia.localhost:{live_comuni}"
    context = logged_in_context(browser, comune=romano, account=staff, base_url=base)
    page = context.new_page()
    problems: list[str] = []
    for path in (
        "/admin/",
        "/admin/iscrizioni/",
        "/admin/lista-attesa/",
        "/admin/catalogo/",
        f"/admin/catalogo/{service_id}/definizione/",
        "/admin/graduatorie/",
        "/admin/sportello/",
    ):
        problems += _check(page, path)
    context.close()
    assert problems == []


def test_the_check_finds_known_violations(browser: Browser) -> None:
    """The same check on a page with a missing label, alt text and poor contrast fails."""
    page = browser.new_page()
    page.set_content(
        '<html lang="it"><body><main><img src="x.png"><input type="text">'
        '<p style="color:#aaa;background:#fff">testo poco leggibile</p></main></body></html>'
    )
    ids = {v.split(" ")[0] for v in axe_violations(page)}
    assert {"image-alt", "label", "color-contrast"} <= ids
    page.close()


def test_static_assets_for_the_checks_exist(palosco_client) -> None:  # type: ignore[no-untyped-def]
    """Uses `db`, so pytest-django creates the test database for this module's committed tests."""
    assert AXE.exists()
    assert palosco_client.get("/").status_code == 200


def test_waiting_room_page(browser: Browser, live_comuni: int, committed_comuni) -> None:  # type: ignore[no-untyped-def]
    """The "sala d'attesa" passes every rule; its self-refresh is the one axe cannot judge.

    WCAG 2.2.1 lets a page refresh itself when the user can turn that off:
    the page's first paragraph links to the same page without the refresh.
    axe's `meta-refresh` rule flags any timed refresh whatever the page offers,
    so on the refreshing page that rule alone is expected, and the page without
    the refresh must have no violation at all.
    """
    from tenants import waiting_room
    from tenants.config import WaitingRoom
    from tenants.models import InFlightRequest, WaitingTicket
    from tenants.services import comune_config_save

    palosco: Comune = committed_comuni["palosco"]
    original = palosco.settings
    comune_config_save(
        config=original.model_copy(update={"waiting_room": WaitingRoom(enabled=True, capacity=1)})
    )
    held = waiting_room.request_enter(schema_name="palosco")
    try:
        context = browser.new_context(base_url=f"http://palosco.localhost:{live_comuni}", locale="it-IT")
        page = context.new_page()
        page.goto("/")
        assert page.get_by_role("heading", name="Sala d'attesa").is_visible()
        assert [v.split(" ")[0] for v in axe_violations(page)] == ["meta-refresh"]
        page.get_by_role("link", name="Ferma l'aggiornamento automatico").click()
        assert page.get_by_role("link", name="Aggiorna la posizione").is_visible()
        problems = [f"/?aggiornamento=manuale: {v}" for v in axe_violations(page)]
        context.close()
    finally:
        InFlightRequest.objects.filter(pk=held).delete()
        WaitingTicket.objects.filter(schema_name="palosco").delete()
        comune_config_save(config=original)
    assert problems == []
