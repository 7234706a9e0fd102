"""Annual fees from a service's definition: bands at their edges, discount, euro."""

from __future__ import annotations

from decimal import Decimal

import pytest

from enrollment.fees import euro, fee_for
from tenants.service_definition import Fees

BANDS = Fees.model_validate(
    {
        "kind": "isee_bands",
        "isee_question": "isee",
        "bands": [
            {"up_to": 8000, "amount": "120.00"},
            {"up_to": 20000, "amount": "200.00"},
            {"amount": "300.00"},
        ],
        "sibling_discount_percent": 20,
    }
)


@pytest.mark.parametrize(
    ("isee", "fee"),
    [
        (Decimal("0"), "120.00"),
        (Decimal("7999.99"), "120.00"),
        (Decimal("8000"), "120.00"),  # up_to is inclusive
        (Decimal("8000.01"), "200.00"),
        (Decimal("20000"), "200.00"),
        (Decimal("20000.01"), "300.00"),
        (Decimal("1000000"), "300.00"),
        (None, "300.00"),  # no ISEE given: the last band
    ],
)
def test_isee_band_edges(isee: Decimal | None, fee: str) -> None:
    answers = {} if isee is None else {"isee": isee}
    assert fee_for(fees=BANDS, answers=answers, sibling_index=0) == Decimal(fee)


def test_first_child_pays_in_full_the_others_get_the_discount() -> None:
    answers = {"isee": Decimal("9000")}
    assert [fee_for(fees=BANDS, answers=answers, sibling_index=i) for i in range(3)] == [
        Decimal("200.00"),
        Decimal("160.00"),
        Decimal("160.00"),
    ]


def test_discount_rounds_half_up_to_cents() -> None:
    fees = Fees.model_validate({"kind": "flat", "amount": "99.99", "sibling_discount_percent": "12.5"})
    # 99.99 * 0.875 = 87.49125 → 87.49; 0.05 * 0.5 = 0.025 → 0.03
    assert fee_for(fees=fees, answers={}, sibling_index=1) == Decimal("87.49")
    half = Fees.model_validate({"kind": "flat", "amount": "0.05", "sibling_discount_percent": 50})
    assert fee_for(fees=half, answers={}, sibling_index=1) == Decimal("0.03")


def test_flat_fee_ignores_answers_and_no_fees_is_none() -> None:
    flat = Fees.model_validate({"kind": "flat", "amount": "45.00"})
    assert fee_for(fees=flat, answers={"isee": Decimal(1)}, sibling_index=0) == Decimal("45.00")
    assert fee_for(fees=flat, answers={}, sibling_index=3) == Decimal("45.00")  # no discount set
    assert fee_for(fees=None, answers={}, sibling_index=0) is None


def test_isee_given_as_stored_text_still_finds_its_band() -> None:
    assert fee_for(fees=BANDS, answers={"isee": "8000.00"}, sibling_index=0) == Decimal("120.00")
    assert fee_for(fees=BANDS, answers={"isee": ""}, sibling_index=0) == Decimal("300.00")


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("1234.5"), "€ 1.234,50"),
        (Decimal("120"), "€ 120,00"),
        (Decimal("0.005"), "€ 0,01"),
        (Decimal("1234567.891"), "€ 1.234.567,89"),
        (Decimal("-5"), "€ -5,00"),
    ],
)
def test_euro_in_italian(amount: Decimal, text: str) -> None:
    assert euro(amount) == text
