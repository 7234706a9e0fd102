"""Euro amounts: `Decimal` euro for people, integer cents for storage and pagoPA. Never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def to_cents(amount: Decimal) -> int:
    if not isinstance(amount, Decimal):
        raise TypeError("amounts are Decimal, never float")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_euro(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def euro_text(cents: int) -> str:
    """ "1.234,50 €" as Italians write it."""
    whole, frac = divmod(cents, 100)
    return f"{whole:,}".replace(",", ".") + f",{frac:02d} €"


def split_cents(total: int, shares: list[Decimal]) -> list[int]:
    """`total` split by percent `shares` (adding up to 100); the last part takes the rounding."""
    parts = [
        int((Decimal(total) * share / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)) for share in shares
    ]
    parts[-1] = total - sum(parts[:-1])
    return parts
