"""Dashboard counts and the demo staff accounts."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import tenant_context

from enrollment.backoffice import demo
from enrollment.backoffice.roles import AMMINISTRATORE, OPERATORE, SOLA_LETTURA, staff_role
from enrollment.backoffice.selectors import dashboard_counts, submissions_per_day
from enrollment.models import Enrollment
from identity import demo as identity_demo
from identity.models import Account
from tests.conftest import PALOSCO_HOST
from tests.enrollment.backoffice.conftest import client_for, submitted
from tests.enrollment.conftest import service

S = Enrollment.Status


def test_dashboard_counts_places_and_waiting(palosco, staff) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        post = service("POST")
        post.capacity = 2
        post.save()
        rows = [submitted(post) for _ in range(4)]  # 2 hold a place, 2 wait
        Enrollment.objects.filter(pk=rows[0].pk).update(status=S.CONFERMATA)
        submitted(service("PRE"))
        counts = {c.service.code: c for c in dashboard_counts(school_year="2025/2026")}
        assert counts["POST"].by_status == {"inviata": 3, "confermata": 1, "respinta": 0, "annullata": 0}
        assert (counts["POST"].places_left, counts["POST"].waiting, counts["POST"].total) == (0, 2, 4)
        assert (counts["PRE"].places_left, counts["PRE"].waiting) == (39, 0)
        per_day = submissions_per_day(school_year="2025/2026")
        assert len(per_day) == 30 and per_day[-1][1] == 5 and sum(n for _, n in per_day) == 5
    html = client_for(palosco, staff[SOLA_LETTURA]).get("/admin/", {"anno": "2025/2026"}).content.decode()
    assert 'data-testid="places-left">0<' in html and 'data-testid="waiting">2<' in html
    assert "Comune di Palosco" in html and "Cruscotto iscrizioni" in html
    assert 'href="#main-content"' in html  # skip link of the comune's layout
    assert 'name="language"' not in html  # the back office is Italian only: no language switch


def test_demo_staff_one_per_role(palosco) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        identity_demo.load_comune(palosco)
        demo.load_comune(palosco)
        demo.load_comune(palosco)  # idempotent
        roles = {
            name: staff_role(Account.objects.get(username=f"{name}.palosco"))
            for name in ("ufficio", "operatore", "lettura")
        }
        assert roles == {"ufficio": AMMINISTRATORE, "operatore": OPERATORE, "lettura": SOLA_LETTURA}
        assert Account.objects.filter(username__startswith="operatore.").count() == 1
    client = Client(HTTP_HOST=PALOSCO_HOST)
    response = client.post(
        "/admin/login/",
        {"username": "lettura.palosco", "password": identity_demo.DEMO_STAFF_PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert client.get("/admin/iscrizioni/").status_code == 200
    assert client.get("/admin/sportello/").status_code == 403
    assert any("lettura.<slug>" in line for line in demo.banner_lines(port=8000))


def test_back_office_is_italian_whatever_the_browser_asks(palosco, staff) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, staff[SOLA_LETTURA])
    html = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="it">' in html
    assert "Wed" not in html and "Mon" not in html
    login = Client(HTTP_HOST=PALOSCO_HOST).post(
        "/admin/login/", {"username": "x", "password": "y"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Inserisci" in login.content.decode()  # Django's own error, in Italian
