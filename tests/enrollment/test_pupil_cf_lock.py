"""Whose codice fiscale fills the pupil's field (security review D2).

Only a "Sono un nuovo iscritto" account logs in with the pupil's codice
fiscale; an SPID/CIE account logs in with the parent's own, so its parent
types the child's codice fiscale like everyone else.
"""

from __future__ import annotations

import re

from django.utils import timezone

from enrollment.models import Enrollment
from identity.models import Account
from identity.services import parent_account_for_codice_fiscale
from tests.api.conftest import api_client, body, post, token_for
from tests.enrollment.conftest import GUARDIAN_CF, PUPIL_CF, SIBLING_CF, form_data, service
from tests.factories import ParentFactory

LOCKED_MESSAGE = "accesso, e non può essere cambiato"  # the refusal, not the field's help text


def _pupil_cf_input(html: str) -> str:
    match = re.search(r'<input[^>]*name="pupil_codice_fiscale"[^>]*>', html)
    assert match, "pupil codice fiscale field missing"
    return match.group(0)


def _spid_parent() -> Account:
    """The account the SPID/CIE login creates for the parent (identity.spid's ACS)."""
    account, created = parent_account_for_codice_fiscale(
        codice_fiscale=GUARDIAN_CF, first_name="Mario", last_name="Rossi", email="genitore@example.org"
    )
    assert created
    account.email_verified_at = timezone.now()
    account.save(update_fields=["email_verified_at"])
    return account


def _cf_only_account() -> Account:
    """The account "Sono un nuovo iscritto" creates: its codice fiscale is the pupil's."""
    return ParentFactory(username=PUPIL_CF, new_enrollee=True, password="Una-Password-9")


def test_spid_parent_types_the_child_codice_fiscale_on_the_web(in_romano, login) -> None:
    client = login(in_romano, _spid_parent())
    html = client.get("/iscrizioni/nuova/").content.decode()
    field = _pupil_cf_input(html)
    assert "disabled" not in field and "value=" not in field
    assert re.search(rf'name="guardian_codice_fiscale"[^>]*value="{GUARDIAN_CF}"', html)  # the parent's own
    response = client.post("/iscrizioni/nuova/", form_data(services=[service("MENSA")]))
    assert response.status_code == 302, response.content.decode()
    enrollment = Enrollment.objects.get()
    assert enrollment.pupil.codice_fiscale == PUPIL_CF
    assert enrollment.guardian.codice_fiscale == GUARDIAN_CF


def test_spid_parent_types_the_child_codice_fiscale_in_the_api(in_romano) -> None:
    app = api_client(in_romano, token_for(in_romano, _spid_parent()))
    response = post(app, "/api/v1/enrollments/", body(services=[service("MENSA")]))
    assert response.status_code == 201, response.json()
    assert response.json()["pupil"]["codice_fiscale"] == PUPIL_CF
    sibling = body(services=[service("MENSA")], pupil_cf=SIBLING_CF)
    sibling["pupil"]["birth_date"] = "2019-06-02"
    assert post(app, "/api/v1/enrollments/", sibling).status_code == 201


def test_codice_fiscale_account_has_the_pupil_cf_fixed_on_the_web(in_palosco, login) -> None:
    client = login(in_palosco, _cf_only_account())
    html = client.get("/iscrizioni/nuova/?passo=2").content.decode()  # step 2: Dati dell'alunno
    field = _pupil_cf_input(html)
    assert "disabled" in field and f'value="{PUPIL_CF}"' in field
    forged = client.post("/iscrizioni/nuova/", form_data(services=[service("PRE")], pupil_cf=SIBLING_CF))
    assert forged.status_code == 400 and LOCKED_MESSAGE in forged.content.decode()
    assert not Enrollment.objects.exists()
    # A browser does not send a disabled field: the login's codice fiscale is used.
    response = client.post(
        "/iscrizioni/nuova/", form_data(services=[service("PRE")], pupil_codice_fiscale=None)
    )
    assert response.status_code == 302
    enrollment = Enrollment.objects.get()
    assert enrollment.pupil.codice_fiscale == PUPIL_CF
    edit = client.post(
        f"/iscrizioni/domanda/{enrollment.domanda}/modifica/",
        form_data(services=[service("PRE")], pupil_cf=SIBLING_CF),
    )
    assert edit.status_code == 400 and LOCKED_MESSAGE in edit.content.decode()
    enrollment.pupil.refresh_from_db()
    assert enrollment.pupil.codice_fiscale == PUPIL_CF


def test_codice_fiscale_account_has_the_pupil_cf_fixed_in_the_api(in_palosco) -> None:
    app = api_client(in_palosco, token_for(in_palosco, _cf_only_account()))
    forged = post(app, "/api/v1/enrollments/", body(pupil_cf=SIBLING_CF))
    assert forged.status_code == 400
    assert any(LOCKED_MESSAGE in m for m in forged.json()["error"]["fields"]["pupil.codice_fiscale"])
    assert not Enrollment.objects.exists()
    created = post(app, "/api/v1/enrollments/", body())
    assert created.status_code == 201 and created.json()["pupil"]["codice_fiscale"] == PUPIL_CF
