"""The rating component at the end of the service: markup, plain POST, JSON, limits, isolation, staff."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from lxml import html as lxml_html

from core.models import AuditEntry
from enrollment.backoffice.roles import SOLA_LETTURA
from enrollment.feedback import ALREADY_GIVEN, THANKS, TITLE, feedback_record
from enrollment.gdpr import family_erase
from enrollment.models import Feedback
from identity.models import Account
from tenants.models import Comune
from tests.conftest import host_of
from tests.enrollment.conftest import GUARDIAN_CF, PUPIL_BIRTH, logged_in, parent_create, pupil_data, service
from tests.factories import StaffFactory, domanda_create, letters, make_cf

URL = "/iscrizioni/valutazione/"


def _submitted(comune: Comune, username: str = "PAL-000900", n: int = 0) -> tuple[Account, str]:
    """A parent of `comune` whose domanda (child number `n`) is submitted, and its status page."""
    with tenant_context(comune):
        parent = parent_create(username=username)
        code = "PRE" if comune.slug == "palosco" else "MENSA"
        pupil = pupil_data(codice_fiscale=make_cf(surname=letters(n), birth=PUPIL_BIRTH))
        rows = domanda_create(parent, [service(code)], pupil=pupil, submit=True)
    return parent, f"/iscrizioni/domanda/{rows[0].domanda}/"


def _post(client: Client, *, json_reply: bool = False, **fields: object):  # type: ignore[no-untyped-def]
    data = {"page": "riepilogo", "next": "/iscrizioni/"} | fields
    headers = {"HTTP_ACCEPT": "application/json"} if json_reply else {}
    return client.post(URL, data, **headers)


def test_status_page_has_the_component_with_agid_marks(palosco: Comune) -> None:
    parent, summary = _submitted(palosco)
    tree = lxml_html.fromstring(logged_in(palosco, parent).get(summary).content.decode())
    (box,) = tree.xpath("//*[@data-element='feedback']")
    assert box.xpath("string(.//*[@data-element='feedback-title'])") == TITLE
    for n in range(1, 6):
        (label,) = box.xpath(f".//label[@data-element='feedback-rate-{n}']")
        (star,) = box.xpath(f".//input[@id='{label.get('for')}']")
        assert star.get("type") == "radio" and star.get("name") == "rating" and star.get("value") == str(n)
        assert label.xpath("string(.//span[@class='visually-hidden'])").startswith(f"Valuta {n} stell")
    assert box.xpath(".//fieldset[contains(@class,'rating')]/legend")
    (text,) = box.xpath(".//input[@data-element='feedback-input-text']")
    assert text.get("maxlength") == "200"
    assert box.xpath(".//form/@action") == [URL]
    assert box.xpath(".//input[@name='csrfmiddlewaretoken']")
    assert "Quali sono stati gli aspetti che hai preferito?" in box.text_content()
    assert "Dove hai incontrato le maggiori difficoltà?" in box.text_content()


def test_draft_page_has_no_component(palosco: Comune) -> None:
    with tenant_context(palosco):
        parent = parent_create()
        rows = domanda_create(parent, [service("PRE")], draft=True)
    page = logged_in(palosco, parent).get(f"/iscrizioni/domanda/{rows[0].domanda}/").content.decode()
    assert 'data-element="feedback"' not in page


def test_plain_post_stores_the_rating_and_the_answer_matching_the_stars(palosco: Comune) -> None:
    parent, summary = _submitted(palosco)
    client = logged_in(palosco, parent)
    response = _post(
        client, rating="2", aspect_positive="chiare", aspect_negative="problemi_tecnici",
        details="  Il caricamento era lento  ", next=summary,
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == summary
    with tenant_context(palosco):
        f = Feedback.objects.get()
        assert (f.account, f.page, f.rating, f.aspect, f.details) == (
            parent,
            "riepilogo",
            2,
            "problemi_tecnici",
            "Il caricamento era lento",
        )
        assert AuditEntry.objects.filter(action="feedback.recorded", object_id=str(f.pk)).exists()
    page = client.get(summary).content.decode()
    assert THANKS in page and 'data-testid="feedback-given"' in page and "feedback-rate-1" not in page


def test_json_reply_for_the_script_and_one_rating_per_account_and_page(palosco: Comune) -> None:
    parent, _ = _submitted(palosco)
    client = logged_in(palosco, parent)
    first = _post(client, json_reply=True, rating="5", aspect_positive="complete")
    assert first.status_code == 200 and json.loads(first.content) == {"message": THANKS}
    second = _post(client, json_reply=True, rating="1")
    assert second.status_code == 400 and json.loads(second.content) == {"error": ALREADY_GIVEN}
    with tenant_context(palosco):
        assert list(Feedback.objects.values_list("rating", "aspect")) == [(5, "complete")]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "Scegli da 1 a 5 stelle."),
        ({"rating": "6"}, "Scegli da 1 a 5 stelle."),
        ({"rating": "4", "details": "x" * 201}, "Scrivi al massimo 200 caratteri (ne hai scritti 201)."),
        ({"rating": "4", "page": "altrove"}, "Scegli un'opzione valida"),
    ],
)
def test_invalid_ratings_are_refused_with_a_message(
    palosco: Comune, fields: dict[str, str], error: str
) -> None:
    parent, _ = _submitted(palosco)
    client = logged_in(palosco, parent)
    reply = _post(client, json_reply=True, **fields)
    assert reply.status_code == 400 and json.loads(reply.content)["error"].startswith(error)
    plain = _post(client, **fields)
    assert plain.status_code == 302
    assert error in client.get("/iscrizioni/").content.decode().replace("&#x27;", "'")
    with tenant_context(palosco):
        assert not Feedback.objects.exists()


def test_an_aspect_of_the_other_question_is_refused_by_the_service(in_palosco: Comune) -> None:
    from enrollment.errors import EnrollmentError

    parent = parent_create()
    with pytest.raises(EnrollmentError, match="Scegli una delle risposte proposte"):
        feedback_record(account=parent, page="riepilogo", rating=5, aspect="problemi_tecnici")


def test_needs_a_signed_in_parent_and_the_csrf_token(palosco: Comune) -> None:
    anonymous = Client(HTTP_HOST=host_of(palosco))
    assert _post(anonymous, rating="5")["Location"].startswith("/accesso/")
    parent, summary = _submitted(palosco)
    strict = Client(HTTP_HOST=host_of(palosco), enforce_csrf_checks=True)
    with tenant_context(palosco):
        strict.force_login(parent)
    assert _post(strict, rating="5").status_code == 403
    token = lxml_html.fromstring(strict.get(summary).content.decode()).xpath(
        "//form[@data-feedback-form]//input[@name='csrfmiddlewaretoken']/@value"
    )[0]
    assert _post(strict, rating="5", csrfmiddlewaretoken=token).status_code == 302
    with tenant_context(palosco):
        assert Feedback.objects.count() == 1


def test_ratings_stay_in_their_comune_and_staff_see_average_and_comments(
    palosco: Comune, romano: Comune
) -> None:
    for i, (rating, details) in enumerate([(5, "Tutto chiaro"), (4, ""), (2, "Non trovavo il tasto")]):
        parent, _ = _submitted(palosco, username=f"PAL-00095{i}", n=i)
        _post(logged_in(palosco, parent), rating=str(rating), details=details)
    romano_parent, _ = _submitted(romano, username="ROM-000950")
    _post(logged_in(romano, romano_parent), rating="1", details="Commento di Romano")
    with tenant_context(palosco):
        palosco_staff = StaffFactory.create(role=SOLA_LETTURA)
    with tenant_context(romano):
        romano_staff = StaffFactory.create(role=SOLA_LETTURA)
        assert Feedback.objects.count() == 1
    page = logged_in(palosco, palosco_staff).get("/admin/valutazioni/").content.decode()
    tree = lxml_html.fromstring(page)
    average = " ".join(tree.xpath("string(//*[@data-testid='feedback-average'])").split())
    assert average == "Valutazione media: 3,7 su 5 (3 valutazioni)"
    assert tree.xpath("//td[@data-stars='4']/text()") == ["1"]
    comments = tree.xpath("string(//*[@data-testid='feedback-comments'])")
    assert "Tutto chiaro" in comments and "Non trovavo il tasto" in comments
    assert "Commento di Romano" not in page
    romano_page = logged_in(romano, romano_staff).get("/admin/valutazioni/").content.decode()
    assert "Commento di Romano" in romano_page and "Tutto chiaro" not in romano_page


def test_erasing_the_family_keeps_the_stars_and_drops_the_words(palosco: Comune) -> None:
    parent, _ = _submitted(palosco)
    _post(logged_in(palosco, parent), rating="3", details="Scritto da Mario Rossi")
    with tenant_context(palosco):
        family_erase(guardian=parent.guardian, confirmation=GUARDIAN_CF)
        assert list(Feedback.objects.values_list("account", "rating", "details")) == [(None, 3, "")]
