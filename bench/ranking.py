"""Ranking 5,000 requests of one service (enrollment.ranking.rank).

Synthetic requests with answers to the criteria's questions, residency,
siblings, staff adjustments and many equal totals (so the tie-break works).
The baseline, timed in the same run, sorts the same requests by a
precomputed key: the ratio is what computing the points costs on top of
ordering them. No database is needed.

    .venv/bin/python bench/ranking.py [--count 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

print = functools.partial(print, flush=True)
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from enrollment.ranking import RankingRequest, rank  # noqa: E402
from tenants.service_definition import Ranking  # noqa: E402

RANKING = Ranking.model_validate(
    {
        "criteria": [
            {"id": "residenti", "label": "Residenti", "points": 10, "source": "residency"},
            {"id": "fratelli", "label": "Fratelli", "points": 3, "source": "siblings"},
            {"id": "lavoro", "label": "Lavoro", "points": 5, "question": "lavoro", "equals": True},
            {"id": "settimane", "label": "Tutte", "points": "1.5", "question": "settimane", "equals": "3ª"},
            {"id": "disabile", "label": "Disabilità", "points": 20, "question": "disabile", "equals": True},
        ],
        "tie_break": "submitted_at",
    }
)


def _requests(count: int) -> list[RankingRequest]:
    rng = random.Random(14)
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    return [
        RankingRequest(
            id=i,
            answers={
                "lavoro": rng.random() < 0.6,
                "settimane": rng.sample(["1ª", "2ª", "3ª"], rng.randint(1, 3)),
                "disabile": rng.random() < 0.03,
            },
            resident=rng.random() < 0.8,
            has_sibling=rng.random() < 0.3,
            # Many requests in the same minute, as at a window's opening.
            submitted_at=start + timedelta(minutes=rng.randint(0, 600)),
            birth_date=date(2015, 1, 1) + timedelta(days=rng.randint(0, 2500)),
            adjustment=Decimal(rng.choice([0, 0, 0, 0, 1, -2])),
        )
        for i in range(1, count + 1)
    ]


def _median(fn: object, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    requests = _requests(args.count)
    ranked = rank(criteria=RANKING.criteria, tie_break=RANKING.tie_break, requests=requests)
    assert [r.rank for r in ranked] == list(range(1, args.count + 1))
    keys = {r.request.id: (-r.total, r.request.submitted_at, r.request.id) for r in ranked}
    baseline = _median(lambda: sorted(requests, key=lambda r: keys[r.id]), args.repeat)
    full = _median(
        lambda: rank(criteria=RANKING.criteria, tie_break=RANKING.tie_break, requests=requests), args.repeat
    )
    distinct = len({r.total for r in ranked})
    print(
        f"{args.count} requests, {len(RANKING.criteria)} criteria, only {distinct} distinct totals; "
        f"median of {args.repeat} runs"
    )
    print(f"baseline (sort by a precomputed key): {baseline * 1000:8.1f} ms")
    print(f"rank (points, totals, tie-break):     {full * 1000:8.1f} ms")
    print(f"ratio: {full / baseline:.1f}x")


if __name__ == "__main__":
    main()
