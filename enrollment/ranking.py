"""The graduatoria of one service: points per criterion, total and rank.

Pure rules, no database: the caller turns enrollments into `RankingRequest`s
(answers as cleaned by enrollment.answers, residency and siblings as the
platform knows them, staff adjustments) and stores what `rank` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from tenants.service_definition import Criterion, answer_matches


@dataclass(frozen=True)
class RankingRequest:
    """What the ranking needs to know about one request."""

    id: int
    answers: Mapping[str, Any]
    resident: bool
    has_sibling: bool
    submitted_at: datetime
    birth_date: date
    # Points staff added (or, negative, removed) with a reason, outside the criteria.
    adjustment: Decimal = Decimal(0)


@dataclass(frozen=True)
class RankedRequest:
    request: RankingRequest
    points: dict[str, Decimal] = field(default_factory=dict)  # by criterion id
    total: Decimal = Decimal(0)
    rank: int = 0


def _earns(criterion: Criterion, request: RankingRequest) -> bool:
    if criterion.source == "residency":
        return request.resident
    if criterion.source == "siblings":
        return request.has_sibling
    if criterion.question is None or criterion.equals is None:
        return False
    return answer_matches(request.answers.get(criterion.question), criterion.equals)


def rank(
    *,
    criteria: Sequence[Criterion],
    tie_break: Literal["submitted_at", "birth_date"],
    requests: Iterable[RankingRequest],
) -> list[RankedRequest]:
    """Every request with its points, best first, ranks 1, 2, 3, … without gaps.

    Equal totals are ordered by the tie-break (the earlier submission, or the
    earlier birth date: the older child), then by id, so the same requests
    always give the same ranking.
    """
    scored = []
    for request in requests:
        points = {c.id: (c.points if _earns(c, request) else Decimal(0)) for c in criteria}
        total = sum(points.values(), Decimal(0)) + request.adjustment
        tie = request.submitted_at if tie_break == "submitted_at" else request.birth_date
        scored.append(((-total, tie, request.id), request, points, total))
    scored.sort(key=lambda row: row[0])
    return [
        RankedRequest(request=request, points=points, total=total, rank=position)
        for position, (_key, request, points, total) in enumerate(scored, start=1)
    ]
