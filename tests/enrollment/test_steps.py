"""The enrollment in five steps (issue #15), walked as a browser without JavaScript would."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from django.test import Client

from enrollment.models import Enrollment
from tests.enrollment.conftest import form_data, service

NEW = "/iscrizioni/nuova/"


class _Inputs(HTMLParser):
    """The hidden inputs of the page's enrollment form, as the browser would send them back."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name") != "csrfmiddlewaretoken":
            self.values.setdefault(str(a["name"]), []).append(a.get("value") or "")


def carried(html: str) -> dict[str, Any]:
    parser = _Inputs()
    parser.feed(html)
    return {k: v if len(v) > 1 else v[0] for k, v in parser.values.items()}


def step_fields(data: dict[str, Any], step: int) -> dict[str, Any]:
    def belongs(name: str) -> bool:
        if name == "privacy":
            return step == 1
        if name.startswith("pupil_"):
            return step == 2
        if name.startswith("guardian_"):
            return step == 3
        return step == 4 and name != "azione"

    return {k: v for k, v in data.items() if belongs(k)}


def post_step(client: Client, html: str, fields: dict[str, Any], azione: str) -> Any:
    return client.post(NEW, carried(html) | fields | {"azione": azione})


def test_first_step_is_the_privacy_notice_announced_as_step_1(in_palosco, palosco_parent, login) -> None:
    html = login(in_palosco, palosco_parent).get(NEW).content.decode()
    assert "<title>Passo 1 di 5: Informativa privacy" in html
    assert "Passo 1 di 5: Informativa privacy</h2>" in html
    assert html.count('aria-current="step"') == 1
    assert 'type="checkbox" name="privacy"' in html
    assert 'type="hidden" name="pupil_first_name"' in html
    assert 'type="text" name="pupil_first_name"' not in html
    assert ">Avanti</button>" in html and ">Indietro</button>" not in html and ">Salva Bozza</button>" in html


def test_walk_all_five_steps_without_javascript_then_submit_once(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    data = form_data(services=[service("PRE")])
    html = client.get(NEW).content.decode()
    for step in (1, 2, 3):
        response = post_step(client, html, step_fields(data, step), "avanti")
        assert response.status_code == 200, step
        html = response.content.decode()
        assert f"Passo {step + 1} di 5" in html
    response = post_step(client, html, step_fields(data, 4), "riepilogo")
    assert response.status_code == 302
    summary = response["Location"]
    html = client.get(summary).content.decode()
    assert "Passo 5 di 5: Riepilogo" in html and "Riepilogo Dati" in html
    assert client.post(summary, {"azione": "invia"}).status_code == 302
    assert client.post(summary, {"azione": "invia"}).status_code == 302  # replayed
    rows = Enrollment.objects.all()
    assert len(rows) == 1 and rows[0].status != Enrollment.Status.BOZZA
    assert rows[0].pupil.first_name == data["pupil_first_name"]
    assert rows[0].guardian.email == data["guardian_email"]


def test_each_step_shows_its_own_errors_only(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    html = client.get(NEW).content.decode()
    response = post_step(client, html, {}, "avanti")  # no consent
    assert response.status_code == 400
    page = response.content.decode()
    assert "Passo 1 di 5" in page and "autorizzare il trattamento dei dati personali" in page
    assert "Compila il campo «Nome dell&#x27;alunno»" not in page  # step 2 is not judged yet
    html = post_step(client, html, {"privacy": "on"}, "avanti").content.decode()
    response = post_step(client, html, {"pupil_first_name": ""}, "avanti")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Passo 2 di 5" in page and "Compila il campo «Nome dell&#x27;alunno»" in page
    assert 'id="error-summary"' in page
    assert "Email del genitore/tutore:" not in page  # step 3 errors are not shown on step 2


def test_back_and_forth_keeps_the_data(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    data = form_data(services=[service("PRE")])
    html = client.get(NEW).content.decode()
    html = post_step(client, html, step_fields(data, 1), "avanti").content.decode()
    html = post_step(client, html, step_fields(data, 2), "avanti").content.decode()
    assert "Passo 3 di 5" in html
    back = post_step(client, html, step_fields(data, 3), "indietro")
    assert back.status_code == 200
    html = back.content.decode()
    assert "Passo 2 di 5" in html and 'id="error-summary"' not in html
    assert f'value="{data["pupil_first_name"]}"' in html
    assert f'value="{data["guardian_email"]}"' in html  # step 3's input rides along, hidden
    html = post_step(client, html, step_fields(data, 2), "avanti").content.decode()
    assert "Passo 3 di 5" in html and f'value="{data["guardian_email"]}"' in html


def test_submit_with_an_invalid_earlier_step_goes_back_to_it(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    data = form_data(services=[service("PRE")], guardian_cap="2405", passo="4")
    response = client.post(NEW, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Passo 3 di 5: Dati del genitore/tutore" in html and "Il CAP è formato da 5 cifre." in html
    assert not Enrollment.objects.exists()


def test_a_step_in_the_url_is_shown_and_out_of_range_is_clamped(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    assert "Passo 3 di 5" in client.get(NEW + "?passo=3").content.decode()
    assert "Passo 4 di 5" in client.get(NEW + "?passo=9").content.decode()
    assert "Passo 1 di 5" in client.get(NEW + "?passo=x").content.decode()


def test_salva_bozza_works_from_a_middle_step(in_palosco, palosco_parent, login) -> None:
    """Once the services are chosen (a draft is one row per service), any step can save it."""
    client = login(in_palosco, palosco_parent)
    data = form_data(services=[service("PRE")])
    html = client.get(NEW).content.decode()
    for step in (1, 2, 3):
        html = post_step(client, html, step_fields(data, step), "avanti").content.decode()
    html = post_step(client, html, step_fields(data, 4), "indietro").content.decode()
    assert "Passo 3 di 5" in html
    response = post_step(client, html, step_fields(data, 3), "bozza")
    assert response.status_code == 302, response.content.decode()[-6000:]
    edit = response["Location"]
    assert Enrollment.objects.get().status == Enrollment.Status.BOZZA
    html = client.get(edit.split("?")[0] + "?passo=2").content.decode()
    assert "Passo 2 di 5" in html and f'value="{data["pupil_first_name"]}"' in html


def test_salva_bozza_too_early_shows_the_step_still_missing(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    data = form_data(services=[service("PRE")])
    html = client.get(NEW).content.decode()
    html = post_step(client, html, step_fields(data, 1), "avanti").content.decode()
    response = post_step(client, html, step_fields(data, 2), "bozza")
    assert response.status_code == 400
    page = response.content.decode()
    # The first step still missing for a draft is shown, with the draft rule.
    assert "Passo 3 di 5" in page and "Per salvare in bozza l&#x27;iscrizione è necessario" in page
    assert not Enrollment.objects.exists()


def test_salva_bozza_reopens_the_step_the_parent_was_on(in_palosco, palosco_parent, login) -> None:
    client = login(in_palosco, palosco_parent)
    data = form_data(services=[service("PRE")])
    html = client.get(NEW).content.decode()
    for step in (1, 2, 3):
        html = post_step(client, html, step_fields(data, step), "avanti").content.decode()
    assert "Passo 4 di 5" in html
    response = post_step(client, html, step_fields(data, 4), "bozza")
    assert response.status_code == 302
    edit = response["Location"]
    assert edit.endswith("?passo=4")
    page = client.get(edit).content.decode()
    assert "Passo 4 di 5: Servizi" in page and "Bozza salvata." in page
    # In the draft: back to step 2, saved from there, step 2 again (not the first).
    html = client.post(edit, carried(page) | step_fields(data, 4) | {"azione": "indietro"}).content.decode()
    html = client.post(edit, carried(html) | step_fields(data, 3) | {"azione": "indietro"}).content.decode()
    assert "Passo 2 di 5" in html
    again = client.post(edit, carried(html) | step_fields(data, 2) | {"azione": "bozza"})
    assert again.status_code == 302 and again["Location"].endswith("?passo=2")
    page = client.get(again["Location"]).content.decode()
    assert "Passo 2 di 5" in page and "Bozza salvata." in page
    assert f'value="{data["pupil_first_name"]}"' in page
    assert Enrollment.objects.get().status == Enrollment.Status.BOZZA
