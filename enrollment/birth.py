"""What a pupil's codice fiscale says about their birth: the date and the place.

The date comes from python-stdnum; the place from the Belfiore code (the
comune, or the foreign country, of birth) through python-codicefiscale's
table, which also knows the comuni merged or renamed since. The form
prefills both (the parent may change them) and flags a place that does not
match.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from codicefiscale import codicefiscale as belfiore
from slugify import slugify
from stdnum.exceptions import ValidationError
from stdnum.it import codicefiscale


@dataclass(frozen=True)
class Birth:
    date: date
    place: str | None
    place_slugs: tuple[str, ...]


def birth_from_codice_fiscale(value: str) -> Birth | None:
    """The birth a personal codice fiscale encodes, or None for an invalid or temporary one."""
    return _birth((value or "").strip().upper())


# A pure function of the code, and python-codicefiscale's decoding costs about
# 2 ms (every omocodia variant, dates through dateutil): the form asks it twice
# per request (prefill, then the check), bench/form.py. Bounded, per process.
@functools.lru_cache(maxsize=4096)
def _birth(value: str) -> Birth | None:
    try:
        born = codicefiscale.get_birth_date(codicefiscale.validate(value))
    except (ValidationError, ValueError):
        return None
    try:
        place = belfiore.decode(value).get("birthplace")
    except ValueError:
        place = None
    if not place:
        return Birth(date=born, place=None, place_slugs=())
    return Birth(date=born, place=place["name"], place_slugs=tuple(place.get("name_slugs") or ()))


def birth_place_matches(birth: Birth, place: str) -> bool:
    """Whether `place` names the comune or country of the codice fiscale ("Roma (RM)" names Roma)."""
    if not birth.place_slugs:
        return True
    typed = slugify(place)
    return any(typed == s or typed.startswith(f"{s}-") for s in birth.place_slugs)
