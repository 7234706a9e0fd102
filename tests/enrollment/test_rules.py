"""The enrollment form's codice fiscale check: identity's one validator, the form's own words."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from enrollment.rules import codice_fiscale_clean


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Il codice fiscale deve essere di 16 caratteri."),
        ("RSSMRA15T10A562", "Il codice fiscale deve essere di 16 caratteri."),
        ("RSSMRA15T10A5621", "Il codice fiscale non è valido: controlla lettere e cifre."),
        ("RSSMRA15T10A562X", "Il codice fiscale non è valido: il carattere di controllo non corrisponde."),
        ("RSSMRA15B30A562N", "Il codice fiscale non è valido: controlla lettere e cifre."),
        # An 11-digit company codice fiscale is valid for stdnum, not for a person.
        ("00743110157", "Il codice fiscale deve essere di 16 caratteri."),
    ],
)
def test_enrollment_words_each_problem(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        codice_fiscale_clean(value)
    assert info.value.messages == [message]


def test_enrollment_stores_the_normalised_codice_fiscale() -> None:
    assert codice_fiscale_clean(" rssmra15t10a562z ") == "RSSMRA15T10A562Z"
