"""Birth date and place from the pupil's codice fiscale: prefilled, editable, a mismatch flagged."""

from __future__ import annotations

from datetime import date

from lxml import html as lxml_html

from enrollment.birth import birth_from_codice_fiscale, birth_place_matches
from enrollment.models import Pupil
from tenants.models import Comune
from tests.enrollment.conftest import PUPIL_BIRTH, PUPIL_CF, form_data, logged_in, parent_create, service
from tests.factories import ParentFactory, make_cf


def test_birth_from_the_codice_fiscale() -> None:
    birth = birth_from_codice_fiscale(PUPIL_CF.lower())
    assert birth is not None and (birth.date, birth.place) == (PUPIL_BIRTH, "Bergamo")
    abroad = birth_from_codice_fiscale(make_cf(birth=date(2018, 5, 4), female=True, place="Z110"))
    assert abroad is not None and (abroad.date, abroad.place) == (date(2018, 5, 4), "Francia")
    assert birth_from_codice_fiscale("RSSLCU17C10A794X") is None  # wrong check character
    assert birth_from_codice_fiscale("") is None


def test_a_place_matches_with_its_province_or_case() -> None:
    birth = birth_from_codice_fiscale(PUPIL_CF)
    assert birth is not None
    assert all(birth_place_matches(birth, p) for p in ("Bergamo", "BERGAMO", "Bergamo (BG)"))
    assert not any(birth_place_matches(birth, p) for p in ("Milano", "Bergamonte", "Ponte San Pietro"))


def test_new_enrollee_finds_birth_date_and_place_prefilled_and_editable(in_palosco: Comune) -> None:
    account = ParentFactory(username=PUPIL_CF, new_enrollee=True, password="Una-Password-9")
    tree = lxml_html.fromstring(logged_in(in_palosco, account).get("/iscrizioni/nuova/").content.decode())
    (birth_date,) = tree.xpath("//input[@name='pupil_birth_date']")
    (birth_place,) = tree.xpath("//input[@name='pupil_birth_place']")
    assert (birth_date.get("value"), birth_place.get("value")) == ("2017-03-10", "Bergamo")
    for field in (birth_date, birth_place):
        assert field.get("disabled") is None and field.get("readonly") is None


def test_empty_birth_fields_are_taken_from_the_codice_fiscale(in_palosco: Comune) -> None:
    client = logged_in(in_palosco, parent_create())
    data = form_data(services=[service("PRE")], pupil_birth_date="", pupil_birth_place="")
    response = client.post("/iscrizioni/nuova/", data)
    assert response.status_code == 302, response.content.decode()
    pupil = Pupil.objects.get(codice_fiscale=PUPIL_CF)
    assert (pupil.birth_date, pupil.birth_place) == (PUPIL_BIRTH, "Bergamo")


def test_a_birth_place_other_than_the_codice_fiscale_is_flagged(in_palosco: Comune) -> None:
    client = logged_in(in_palosco, parent_create())
    response = client.post(
        "/iscrizioni/nuova/", form_data(services=[service("PRE")], pupil_birth_place="Milano")
    )
    assert response.status_code == 400
    page = response.content.decode().replace("&#x27;", "'")
    assert "Il luogo di nascita non corrisponde al codice fiscale dell'alunno, che indica Bergamo" in page
    assert not Pupil.objects.exists()
