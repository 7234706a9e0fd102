"""Input rules with precise Italian messages: codice fiscale and passwords."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from stdnum.exceptions import InvalidChecksum, InvalidComponent
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import codicefiscale

CF_LENGTH = 16

# What the login form says about each problem ("Sono un nuovo iscritto");
# enrollment.rules words the same problems for the enrollment form.
# `%(length)s` is the number of characters typed, `%(expected)s` the right
# control character.
CODICE_FISCALE_MESSAGES: Mapping[str, StrOrPromise] = {
    "required": _("Inserire il codice fiscale dell'alunno."),
    "length": _("Il codice fiscale deve avere 16 caratteri: ne sono stati inseriti %(length)s."),
    "format": _(
        "Il codice fiscale non ha un formato valido: 6 lettere (cognome e nome), "
        "2 cifre (anno), 1 lettera (mese), 2 cifre (giorno), 4 caratteri (comune) "
        "e 1 lettera di controllo."
    ),
    "checksum": _(
        "Il carattere di controllo (l'ultimo) non è corretto: con questi dati dovrebbe essere "
        "%(expected)s. Verificare il codice fiscale."
    ),
    "birth_date": _("Il codice fiscale contiene una data di nascita non valida."),
}


def identifier_normalize(value: str) -> str:
    """The one form in which every login identifier is counted and looked up.

    NFKC folds full-width and other compatibility letters into the plain
    ones, then surrounding space goes and the case is folded. Callers
    whose identifiers are stored in upper case (codici utente and fiscali)
    take `.upper()` of the result.
    """
    return unicodedata.normalize("NFKC", value or "").strip().casefold()


def codice_fiscale_clean(
    value: str, *, messages: Mapping[str, StrOrPromise] = CODICE_FISCALE_MESSAGES
) -> str:
    """The personal codice fiscale in upper case without spaces, or a ValidationError saying what is wrong.

    The rules are python-stdnum's (shape with omocodia letters, control
    character, birth date); the length is checked here first because stdnum
    also accepts the 11 digits of a company's codice fiscale.
    """
    cf = re.sub(r"\s+", "", identifier_normalize(value)).upper()

    def problem(code: str, **params: object) -> ValidationError:
        return ValidationError(messages[code], code=code, params=params or None)

    if not cf:
        raise problem("required")
    if len(cf) != CF_LENGTH:
        raise problem("length", length=len(cf))
    try:
        codicefiscale.validate(cf)
    except InvalidChecksum as exc:
        raise problem("checksum", expected=codicefiscale.calc_check_digit(cf[:15])) from exc
    except InvalidComponent as exc:
        raise problem("birth_date") from exc
    except StdnumError as exc:
        raise problem("format") from exc
    return cf


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule with a complete Italian message (its catalogue lacks this plural form)."""

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(
                f"La password è troppo corta: deve contenere almeno {self.min_length} caratteri "
                f"(ne sono stati inseriti {len(password)}).",
                code="password_too_short",
            )

    def get_help_text(self) -> str:
        return f"La password deve contenere almeno {self.min_length} caratteri."


class LettersAndDigitsValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if not (re.search(r"[^\W\d_]", password) and re.search(r"\d", password)):
            raise ValidationError(
                "La password deve contenere sia lettere sia numeri.", code="password_letters_digits"
            )

    def get_help_text(self) -> str:
        return "La password deve contenere sia lettere sia numeri."


class NotIdentifierValidator:
    """The password must not be, nor contain, the codice utente or a codice fiscale of the account."""

    def validate(self, password: str, user: Any = None) -> None:
        if user is None:
            return
        lowered = password.lower()
        for value in (
            getattr(user, "codice_utente", None),
            getattr(user, "codice_fiscale", None),
            getattr(user, "username", None),
        ):
            if value and value.lower() in lowered:
                raise ValidationError(
                    "La password non può essere uguale al codice utente o al codice fiscale, né contenerli.",
                    code="password_contains_identifier",
                )

    def get_help_text(self) -> str:
        return "La password non può essere uguale al codice utente o al codice fiscale, né contenerli."
