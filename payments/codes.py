"""pagoPA identifiers: IUV and numero avviso (codice avviso), per the SACI specification.

With aux digit 3 (an ente with more than one point of generation, the usual
case with an intermediary):

    numero avviso = 3 <codice segregazione (2)> <IUV base (13)> <check digit (2)>
    IUV           =   <codice segregazione (2)> <IUV base (13)> <check digit (2)>

where the check digit is the remainder of the division by 93 of the number
made of aux digit, codice segregazione and IUV base.
"""

from __future__ import annotations

import re

IUV_BASE_DIGITS = 13
_AVVISO_RE = re.compile(r"^\d{18}$")


def check_digits(*, aux_digit: int, segregation_code: str, iuv_base: str) -> str:
    return f"{int(f'{aux_digit}{segregation_code}{iuv_base}') % 93:02d}"


def iuv_compose(*, aux_digit: int, segregation_code: str, iuv_base: str) -> str:
    """The 17-digit IUV for `iuv_base` (13 digits)."""
    if not (len(segregation_code) == 2 and segregation_code.isdigit()):
        raise ValueError("the segregation code has two digits")
    if not (len(iuv_base) == IUV_BASE_DIGITS and iuv_base.isdigit()):
        raise ValueError("the IUV base has 13 digits")
    digits = check_digits(aux_digit=aux_digit, segregation_code=segregation_code, iuv_base=iuv_base)
    return f"{segregation_code}{iuv_base}{digits}"


def codice_avviso(*, aux_digit: int, iuv: str) -> str:
    """The 18-digit numero avviso printed on the notice and read by every PSP."""
    return f"{aux_digit}{iuv}"


def codice_avviso_valid(value: str) -> bool:
    """True when `value` is 18 digits whose last two check the others (aux digit 3)."""
    if not _AVVISO_RE.match(value) or value[0] != "3":
        return False
    return check_digits(aux_digit=3, segregation_code=value[1:3], iuv_base=value[3:16]) == value[16:]


def codice_avviso_display(value: str) -> str:
    """Grouped by four as on the paper notice: 3012 3456 7890 1234 56."""
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
