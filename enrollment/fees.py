"""A pupil's annual fee from the service's definition, and euro in Italian.

Pure rules: Decimal end to end, no database. The definition's `fees`
(tenants.service_definition.Fees) is either flat or by ISEE band; a sibling
discount applies from the second child on.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from tenants.service_definition import Fees

CENT = Decimal("0.01")


def _isee(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def fee_for(*, fees: Fees | None, answers: Mapping[str, Any], sibling_index: int) -> Decimal | None:
    """The annual fee in euro, or None when the service charges nothing.

    `sibling_index` is the child's position among the family's children in
    the service, from 0: the first child (0) pays in full, the others get
    the discount. A band covers ISEE values up to its `up_to` inclusive;
    the last band covers everything above and a missing ISEE.
    """
    if fees is None:
        return None
    if fees.kind == "flat":
        base = fees.amount
    else:
        isee = _isee(answers.get(fees.isee_question or ""))
        last = fees.bands[-1]
        band = next(
            (b for b in fees.bands[:-1] if isee is not None and b.up_to is not None and isee <= b.up_to),
            last,
        )
        base = band.amount
    if base is None:  # refused by the validator; kept explicit for the type checker
        return None
    if sibling_index >= 1 and fees.sibling_discount_percent:
        base = base * (Decimal(100) - fees.sibling_discount_percent) / Decimal(100)
    return base.quantize(CENT, rounding=ROUND_HALF_UP)


def euro(amount: Decimal) -> str:
    """`Decimal("1234.5")` → "€ 1.234,50" (Italian separators, cents rounded half up)."""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    english = f"{abs(cents):,.2f}"
    italian = english.replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"€ {sign}{italian}"
