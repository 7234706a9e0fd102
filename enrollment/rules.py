"""Fixed texts and rules of the parents' enrollment: privacy text, notes and
the plausible ages per school. What each service asks is in its definition."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from identity import validators

# The consent text of both seeds, word for word. The Italian text is the one consented to and
# stored (its version below); pages in English show its translation (gettext_noop marks it).
PRIVACY_TEXT = gettext_noop(
    "Autorizzo il trattamento dei miei dati personali ai sensi dell'art. 13 del regolamento (UE) "
    "n. 2016/679 e successive modifiche ed integrazioni, Codice in materia di protezione dei dati "
    "personali."
)
PRIVACY_VERSION = "art13-" + hashlib.sha256(PRIVACY_TEXT.encode()).hexdigest()[:12]

# Shown translated by the templates ({% translate siblings_note %}).
SIBLINGS_NOTE = gettext_noop(
    "Attenzione: in caso di iscrizione di più fratelli, iscrivere tutti gli utenti con lo stesso "
    "genitore/tutore."
)
DRAFT_NOTE = gettext_noop(
    "Il salvataggio in bozza dell'iscrizione non è sufficiente per considerare valida l'iscrizione: "
    "per inviarla al gestore del servizio è necessario arrivare fino all'ultimo passo e premere "
    '"Invia Iscrizione".'
)


# Age (in years, on 31 December of the school year's first year) a pupil of
# each school can plausibly have; anticipi and repeaters fit the margins.
SCHOOL_AGES = {"infanzia": (2, 6), "primaria": (5, 12), "secondaria": (10, 16)}


# The enrollment form's words for the problems identity.validators finds in
# a pupil's or guardian's codice fiscale (the login form has its own).
CODICE_FISCALE_MESSAGES = {
    "required": _("Il codice fiscale deve essere di 16 caratteri."),
    "length": _("Il codice fiscale deve essere di 16 caratteri."),
    "format": _("Il codice fiscale non è valido: controlla lettere e cifre."),
    "checksum": _("Il codice fiscale non è valido: il carattere di controllo non corrisponde."),
    "birth_date": _("Il codice fiscale non è valido: controlla lettere e cifre."),
}


def codice_fiscale_clean(value: str) -> str:
    """The codice fiscale as stored, or a ValidationError with the enrollment form's message."""
    return validators.codice_fiscale_clean(value, messages=CODICE_FISCALE_MESSAGES)


def birth_date_problem(*, birth_date: date, school: str, school_year: str) -> str | None:
    """An Italian message when the birth date is implausible for the school."""
    first_year = int(school_year[:4])
    age = first_year - birth_date.year
    low, high = SCHOOL_AGES[school]
    if not low <= age <= high:
        return gettext(
            "La data di nascita non è compatibile con la scuola indicata per l'anno scolastico "
            "%(year)s: sono previsti alunni tra %(low)s e %(high)s anni."
        ) % {"year": school_year, "low": low, "high": high}
    return None


DRAFT_MISSING = gettext_noop(
    "Per salvare in bozza l'iscrizione è necessario aver compilato i dati dell'alunno e del "
    "genitore/tutore, scelto almeno un servizio e accettato l'autorizzazione al trattamento dei dati "
    "personali."
)


def is_cf_account(account: Any) -> bool:
    """A "Sono un nuovo iscritto" account: its codice fiscale is the pupil's.

    An SPID/CIE account also has a codice fiscale (and logs in with it), but
    it is the parent's own: only the backend that created the account tells
    them apart.
    """
    return bool(account.codice_fiscale) and account.created_by_backend == "codice_fiscale"


# The data of a pupil and of a guardian, as the form collects them and the
# services store them.
PUPIL_FIELDS = (
    "first_name",
    "last_name",
    "codice_fiscale",
    "birth_date",
    "birth_place",
    "school",
    "class_section",
)
GUARDIAN_FIELDS = ("first_name", "last_name", "codice_fiscale", "email", "phone", "address", "cap", "city")
