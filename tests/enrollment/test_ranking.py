"""The graduatoria: points per criterion, ties, adjustments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from enrollment.ranking import RankingRequest, rank
from tenants.service_definition import Ranking

RANKING = Ranking.model_validate(
    {
        "criteria": [
            {"id": "residenti", "label": "Residenti", "points": 10, "source": "residency"},
            {"id": "fratelli", "label": "Fratelli", "points": 3, "source": "siblings"},
            {"id": "lavoro", "label": "Lavoratori", "points": 5, "question": "lavoro", "equals": True},
            {"id": "tutte", "label": "Tutte le settimane", "points": "1.5", "question": "settimane",
             "equals": "3ª"},
        ]
    }
)  # fmt: skip


def _request(id: int, **overrides: Any) -> RankingRequest:
    values: dict[str, Any] = {
        "answers": {},
        "resident": False,
        "has_sibling": False,
        "submitted_at": datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        "birth_date": date(2018, 5, 1),
    }
    values.update(overrides)
    return RankingRequest(id=id, **values)


def _rank(requests: list[RankingRequest], tie_break: str = "submitted_at") -> list[tuple[int, Decimal]]:
    ranked = rank(criteria=RANKING.criteria, tie_break=tie_break, requests=requests)  # type: ignore[arg-type]
    assert [r.rank for r in ranked] == list(range(1, len(requests) + 1))
    return [(r.request.id, r.total) for r in ranked]


def test_each_source_earns_its_points() -> None:
    ranked = rank(
        criteria=RANKING.criteria,
        tie_break="submitted_at",
        requests=[
            _request(1, resident=True),
            _request(2, has_sibling=True),
            _request(3, answers={"lavoro": True}),
            _request(4, answers={"lavoro": False, "settimane": ["1ª", "3ª"]}),
            _request(5),
        ],
    )
    by_id = {r.request.id: r for r in ranked}
    assert by_id[1].points == {
        "residenti": Decimal(10),
        "fratelli": Decimal(0),
        "lavoro": Decimal(0),
        "tutte": Decimal(0),
    }
    assert by_id[2].points["fratelli"] == Decimal(3)
    assert by_id[3].points["lavoro"] == Decimal(5)
    assert by_id[4].points["lavoro"] == Decimal(0) and by_id[4].points["tutte"] == Decimal("1.5")
    assert [(r.request.id, r.total, r.rank) for r in ranked] == [
        (1, Decimal(10), 1),
        (3, Decimal(5), 2),
        (2, Decimal(3), 3),
        (4, Decimal("1.5"), 4),
        (5, Decimal(0), 5),
    ]


def test_a_yes_no_criterion_is_not_met_by_the_number_one() -> None:
    ranked = rank(
        criteria=RANKING.criteria, tie_break="submitted_at", requests=[_request(1, answers={"lavoro": 1})]
    )
    assert ranked[0].points["lavoro"] == Decimal(0)


def test_ties_go_to_the_earlier_submission_then_the_lower_id() -> None:
    early = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    late = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    requests = [
        _request(7, resident=True, submitted_at=late),
        _request(3, resident=True, submitted_at=late),
        _request(9, resident=True, submitted_at=early),
    ]
    assert _rank(requests) == [(9, Decimal(10)), (3, Decimal(10)), (7, Decimal(10))]
    assert _rank(list(reversed(requests))) == _rank(requests)


def test_ties_by_birth_date_put_the_older_child_first() -> None:
    requests = [
        _request(1, birth_date=date(2019, 1, 1), submitted_at=datetime(2026, 3, 1, tzinfo=UTC)),
        _request(2, birth_date=date(2018, 1, 1), submitted_at=datetime(2026, 3, 9, tzinfo=UTC)),
        _request(3, birth_date=date(2018, 1, 1), submitted_at=datetime(2026, 3, 5, tzinfo=UTC)),
    ]
    assert [rid for rid, _ in _rank(requests, "birth_date")] == [2, 3, 1]
    assert [rid for rid, _ in _rank(requests, "submitted_at")] == [1, 3, 2]


def test_adjustments_add_or_remove_points() -> None:
    requests = [
        _request(1, resident=True, adjustment=Decimal(-6)),
        _request(2, answers={"lavoro": True}),
        _request(3, adjustment=Decimal("2.5")),
    ]
    ranked = rank(criteria=RANKING.criteria, tie_break="submitted_at", requests=requests)
    assert [(r.request.id, r.total) for r in ranked] == [
        (2, Decimal(5)),
        (1, Decimal(4)),
        (3, Decimal("2.5")),
    ]
    # The points per criterion stay those earned; the adjustment is on top.
    assert ranked[1].points["residenti"] == Decimal(10)


def test_no_requests_no_ranking() -> None:
    assert rank(criteria=RANKING.criteria, tie_break="submitted_at", requests=[]) == []
