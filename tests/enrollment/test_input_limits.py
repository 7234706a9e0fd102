"""Over-long values on the parents' web forms: the form's Italian message, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from enrollment.models import Enrollment
from tests.conftest import PALOSCO_HOST
from tests.enrollment.conftest import form_data, service

LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".it"  # 259 characters, a valid address


def test_long_email_is_a_valid_address_longer_than_the_column() -> None:
    from django.core.validators import validate_email

    validate_email(LONG_EMAIL)
    assert len(LONG_EMAIL) == 259


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("guardian_email", LONG_EMAIL, "«Email del genitore/tutore» può avere al massimo 254 caratteri."),
        (
            "guardian_address",
            "Via " + "x" * 300,
            "«Indirizzo di residenza» può avere al massimo 200 caratteri.",
        ),
        ("pupil_first_name", "L" * 101, "«Nome dell&#x27;alunno» può avere al massimo 100 caratteri."),
        ("pupil_class_section", "3" * 21, "«Classe e sezione» può avere al massimo 20 caratteri."),
        ("guardian_city", "P" * 101, "«Comune di residenza» può avere al massimo 100 caratteri."),
        ("extra_PRE_motivo", "m" * 2001, "può avere al massimo 2000 caratteri"),
    ],
)
def test_enrollment_form_refuses_over_long_values(
    in_palosco, palosco_parent, login, field: str, value: str, message: str
) -> None:
    client = login(in_palosco, palosco_parent)
    for action in ("riepilogo", "bozza"):
        data = form_data(services=[service("PRE")], azione=action, **{field: value})
        response = client.post("/iscrizioni/nuova/", data)
        assert response.status_code in (200, 400), response.status_code
        assert message in response.content.decode(), (action, field)
    assert not Enrollment.objects.exists()


def test_email_verification_and_login_forms_refuse_over_long_values(
    in_palosco, palosco_parent, login
) -> None:
    palosco_parent.email_verified_at = None
    palosco_parent.save()
    client = login(in_palosco, palosco_parent)
    response = client.post("/accesso/verifica-email/", {"email": LONG_EMAIL})
    assert response.status_code in (200, 400)
    html = response.content.decode()
    assert "non contenga più di 254 caratteri (ne ha 259)" in html
    anonymous = Client(HTTP_HOST=PALOSCO_HOST)
    response = anonymous.post(
        "/accesso/credentials/", {"credentials-codice_utente": "P" * 300, "credentials-password": "x" * 300}
    )
    assert response.status_code in (200, 400)
    assert "non contenga più di 20 caratteri (ne ha 300)" in response.content.decode()
