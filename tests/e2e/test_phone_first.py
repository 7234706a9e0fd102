"""Every parents' page on a phone (390 by 844 px), at 320 px (WCAG 1.4.10 reflow) and on a desktop.

For each page, in each state a family can reach (no enrollment yet, a form
with errors, a draft, submitted, confirmed, rejected, a renewal), in both
comuni: nothing scrolls sideways, no button is cut by the screen's edge, and
axe-core finds no WCAG 2.1 A/AA violation; the same again in English, on a
phone and on a desktop. The rating component is then used
with scripts on: the follow-up question follows the stars and the answers go
without leaving the page.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import Browser, BrowserContext, Page, expect

from enrollment.backoffice.roles import OPERATORE
from enrollment.feedback import THANKS
from enrollment.models import Enrollment, Feedback
from enrollment.services import enrollment_confirm, enrollment_reject
from identity.models import Account
from tenants.models import Comune
from tests.e2e.conftest import logged_in_context
from tests.e2e.test_accessibility import axe_violations
from tests.factories import (
    PUPIL_BIRTH,
    ParentFactory,
    StaffFactory,
    domanda_create,
    last_year_confirmed,
    letters,
    make_cf,
    pupil_data,
)

pytestmark = pytest.mark.e2e
VIEWPORTS = {"telefono": (390, 844), "320 px": (320, 640), "computer": (1280, 900)}
# The services a new family can ask for in each comune, with their required answers.
NEW = {"palosco": ("PRE", "POST"), "romanodilombardia": ("MENSA", "TRASPORTO")}
ANSWERS: dict[str, dict[str, Any]] = {"PRE": {"motivo": "Lavoro"}, "TRASPORTO": {"fermata": "Via Dante 3"}}

# What overflows sideways, and which buttons the screen's edge cuts.
LAYOUT_JS = """() => {
  const width = window.innerWidth;
  const cut = [...document.querySelectorAll('.btn')]
    .filter(b => b.offsetParent !== null)
    .map(b => [b, b.getBoundingClientRect()])
    .filter(([b, r]) => r.left < 0 || r.right > width + 0.5)
    .map(([b, r]) => b.textContent.trim().slice(0, 40));
  return {scroll: document.documentElement.scrollWidth, width: width, cut: cut};
}"""


def _family(comune: Comune) -> tuple[Account, dict[str, str]]:
    """A parent of `comune` with one domanda in each state and a renewal to do; their pages."""
    first, second = NEW[comune.slug]
    with schema_context(comune.schema_name):
        parent = ParentFactory.create(username=f"{comune.slug[:3].upper()}-000654")
        staff = StaffFactory.create(role=OPERATORE)
        from enrollment.models import Service

        def domanda(n: int, code: str, **options: Any) -> Enrollment:
            pupil = pupil_data(codice_fiscale=make_cf(surname=letters(700 + n), birth=PUPIL_BIRTH))
            svc = Service.objects.get(code=code, school_year="2025/2026")
            return domanda_create(parent, [svc], pupil=pupil, extra=ANSWERS, **options)[0]

        draft = domanda(1, first, draft=True)
        sent = domanda(2, second, submit=True)
        confirmed = enrollment_confirm(enrollment=domanda(3, first, submit=True), by=staff, note="")
        rejected = enrollment_reject(
            enrollment=domanda(4, second, submit=True), by=staff, reason="Fuori zona"
        )
        previous = last_year_confirmed(parent, first if comune.slug == "palosco" else "MENSA", extra=ANSWERS)
    pages = {
        "Le mie iscrizioni": "/iscrizioni/",
        "Nuova Iscrizione": "/iscrizioni/nuova/",
        "Rinnova iscrizione": "/iscrizioni/rinnovi/",
        "modulo di rinnovo": f"/iscrizioni/rinnovi/{previous.pk}/",
        "bozza (riepilogo)": f"/iscrizioni/domanda/{draft.domanda}/",
        "bozza (modifica)": f"/iscrizioni/domanda/{draft.domanda}/modifica/",
        "inviata": f"/iscrizioni/domanda/{sent.domanda}/",
        "confermata": f"/iscrizioni/domanda/{confirmed.domanda}/",
        "respinta": f"/iscrizioni/domanda/{rejected.domanda}/",
        "Pagamenti": "/pagamenti/",
        "informativa privacy": "/informativa-privacy/",
        "note legali": "/note-legali/",
        "dichiarazione di accessibilità": "/dichiarazione-accessibilita/",
    }
    return parent, pages


def _service_pages(comune: Comune) -> dict[str, str]:
    """The public page of each of the comune's services (scheda servizio)."""
    from enrollment.models import Service

    with schema_context(comune.schema_name):
        services = list(Service.objects.order_by("pk"))
    return {
        f"scheda {s.code} {s.school_year}": f"/servizi/{s.code}/{s.school_year.replace('/', '-')}/"
        for s in services
    }


def _problems(page: Page, label: str) -> list[str]:
    layout = page.evaluate(LAYOUT_JS)
    problems = []
    if layout["scroll"] > layout["width"]:
        problems.append(f"{label}: scrolls sideways ({layout['scroll']} > {layout['width']} px)")
    if layout["cut"]:
        problems.append(f"{label}: buttons cut by the screen's edge: {layout['cut']}")
    return problems + [f"{label}: {v}" for v in axe_violations(page)]


@pytest.mark.parametrize("slug", ["palosco", "romanodilombardia"])
def test_parents_pages_fit_a_phone_and_pass_axe(
    browser: Browser, live_comuni: int, committed_comuni: dict[str, Comune], slug: str
) -> None:
    comune = committed_comuni[slug]
    parent, pages = _family(comune)
    base = f"http://{slug}.localhost:{live_comuni}"
    signed_in = logged_in_context(browser, comune=comune, account=parent, base_url=base)
    anonymous = browser.new_context(base_url=base, locale="it-IT")
    problems: list[str] = []
    for size, (width, height) in VIEWPORTS.items():
        page = signed_in.new_page()
        page.set_viewport_size({"width": width, "height": height})
        for name, path in pages.items():
            page.goto(path)
            problems += _problems(page, f"{slug} {size} {name}")
        for step in (1, 2, 3, 4):  # each step page of the form (issue #15)
            page.goto(f"/iscrizioni/nuova/?passo={step}")
            problems += _problems(page, f"{slug} {size} Nuova Iscrizione passo {step}")
        page.get_by_role("button", name="Vai al riepilogo iscrizione").click()
        expect(page.locator("[data-autofocus]")).to_be_visible()
        problems += _problems(page, f"{slug} {size} Nuova Iscrizione con errori")
        page.close()
        public = anonymous.new_page()
        public.set_viewport_size({"width": width, "height": height})
        for name, path in {"home": "/", "accesso": "/accesso/", **_service_pages(comune)}.items():
            public.goto(path)
            problems += _problems(public, f"{slug} {size} {name}")
        public.close()
    signed_in.close()
    anonymous.close()
    assert problems == []


# English is chosen with the header's selector, which stores this cookie (issue #15).
ENGLISH_SIZES = {"telefono": VIEWPORTS["telefono"], "computer": VIEWPORTS["computer"]}


def _english(context: BrowserContext, base: str) -> BrowserContext:
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base}])
    return context


@pytest.mark.parametrize("slug", ["palosco", "romanodilombardia"])
def test_parents_pages_in_english_fit_a_phone_and_pass_axe(
    browser: Browser, live_comuni: int, committed_comuni: dict[str, Comune], slug: str
) -> None:
    """The same pages with English chosen: `lang="en"`, no WCAG violation, nothing cut by longer words."""
    comune = committed_comuni[slug]
    parent, pages = _family(comune)
    base = f"http://{slug}.localhost:{live_comuni}"
    signed_in = _english(logged_in_context(browser, comune=comune, account=parent, base_url=base), base)
    anonymous = _english(browser.new_context(base_url=base, locale="it-IT"), base)
    problems: list[str] = []
    for size, (width, height) in ENGLISH_SIZES.items():
        page = signed_in.new_page()
        page.set_viewport_size({"width": width, "height": height})
        for name, path in pages.items():
            page.goto(path)
            assert page.locator("html").get_attribute("lang") == "en", path
            problems += _problems(page, f"{slug} en {size} {name}")
        for step in (1, 2, 3, 4):
            page.goto(f"/iscrizioni/nuova/?passo={step}")
            expect(page.get_by_role("heading", name=f"Step {step} of 5")).to_be_visible()
            problems += _problems(page, f"{slug} en {size} new enrollment step {step}")
        page.get_by_role("button", name="Go to the enrollment summary").click()
        expect(page.get_by_role("heading", name="Check the details you entered")).to_be_visible()
        problems += _problems(page, f"{slug} en {size} new enrollment with errors")
        page.close()
        public = anonymous.new_page()
        public.set_viewport_size({"width": width, "height": height})
        for name, path in {"home": "/", "accesso": "/accesso/", **_service_pages(comune)}.items():
            public.goto(path)
            assert public.locator("html").get_attribute("lang") == "en", path
            problems += _problems(public, f"{slug} en {size} {name}")
        public.close()
    signed_in.close()
    anonymous.close()
    assert problems == []


def test_the_layout_check_finds_sideways_scrolling_and_cut_buttons(browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 320, "height": 640})
    page.set_content(
        '<html lang="it"><body><main><h1>Prova</h1><div style="width:600px">una tabella larga</div>'
        '<a class="btn" href="#" style="position:absolute;left:300px;width:120px">Invia</a>'
        "</main></body></html>"
    )
    layout = page.evaluate(LAYOUT_JS)
    assert layout["scroll"] > layout["width"] and layout["cut"] == ["Invia"]
    page.close()


def test_rating_with_scripts_stays_on_the_page(
    browser: Browser, live_comuni: int, committed_comuni: dict[str, Comune]
) -> None:
    palosco = committed_comuni["palosco"]
    parent, pages = _family(palosco)
    context = logged_in_context(
        browser, comune=palosco, account=parent, base_url=f"http://palosco.localhost:{live_comuni}"
    )
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(pages["inviata"])
    liked = page.get_by_role("group", name="Quali sono stati gli aspetti che hai preferito?")
    struggled = page.get_by_role("group", name="Dove hai incontrato le maggiori difficoltà?")
    expect(liked).to_be_hidden()
    expect(struggled).to_be_hidden()
    page.locator("label[data-element='feedback-rate-5']").click()
    expect(liked).to_be_visible()
    expect(struggled).to_be_hidden()
    page.locator("label[data-element='feedback-rate-2']").click()
    expect(struggled).to_be_visible()
    expect(liked).to_be_hidden()
    # Bootstrap Italia draws the radio on its label: people click the label.
    struggled.locator("label", has_text="Ho avuto problemi tecnici").click()
    expect(struggled.get_by_label("Ho avuto problemi tecnici")).to_be_checked()
    page.get_by_label("Vuoi aggiungere altri dettagli?").fill("Il PDF ci ha messo un po'")
    url = page.url
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.get_by_role("button", name="Invia valutazione").click()
    expect(page.get_by_role("status").filter(has_text=THANKS)).to_be_visible()
    assert navigations == [] and page.url == url
    assert axe_violations(page) == []
    with schema_context("palosco"):
        f = Feedback.objects.get()
        assert (f.account_id, f.rating, f.aspect, f.details) == (
            parent.pk,
            2,
            "problemi_tecnici",
            "Il PDF ci ha messo un po'",
        )
        assert f.created_at <= timezone.now()
    context.close()


def test_static_assets_for_the_phone_checks_exist(palosco_client) -> None:  # type: ignore[no-untyped-def]
    """Uses `db`, so pytest-django creates the test database for this module's committed tests."""
    assert palosco_client.get("/").status_code == 200


def test_the_graduatoria_in_the_status_box_fits_a_phone_and_passes_axe(
    browser: Browser, live_comuni: int, committed_comuni: dict[str, Comune]
) -> None:
    """A CRE request's points, provisional and then published, in the status box."""
    from enrollment.backoffice.graduatoria import graduatoria_compute, graduatoria_publish
    from enrollment.models import Graduatoria, Service

    palosco = committed_comuni["palosco"]
    with schema_context("palosco"):
        parent = ParentFactory.create(username="PAL-000655")
        staff = StaffFactory.create(role=OPERATORE)
        cre = Service.objects.get(code="CRE", school_year="2025/2026")
        pupil = pupil_data(codice_fiscale=make_cf(surname=letters(760), birth=PUPIL_BIRTH))
        answers = {"CRE": {"settimane": [cre.definition["questions"][0]["options"][0]], "lavoro": True}}
        sent = domanda_create(parent, [cre], pupil=pupil, extra=answers, submit=True)[0]
    context = logged_in_context(
        browser, comune=palosco, account=parent, base_url=f"http://palosco.localhost:{live_comuni}"
    )
    page = context.new_page()
    problems: list[str] = []
    try:
        for state, act in (("provvisoria", graduatoria_compute), ("pubblicata", graduatoria_publish)):
            with schema_context("palosco"):
                act(service=cre, by=staff)
            for size, (width, height) in VIEWPORTS.items():
                page.set_viewport_size({"width": width, "height": height})
                page.goto(f"/iscrizioni/domanda/{sent.domanda}/")
                expect(page.get_by_text("Entrambi i genitori lavoratori").first).to_be_visible()
                problems += _problems(page, f"graduatoria {state} {size}")
    finally:
        context.close()
        with schema_context("palosco"):  # other tests send CRE requests to this comune
            Graduatoria.objects.filter(service=cre).delete()
    assert problems == []
