"""Run calls at the same instant on real, separate database connections (threads)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection


def together(calls: Sequence[Callable[[], Any]], *, join_timeout: float = 60) -> list[Any]:
    """The calls' results, in order; each thread opens and closes its own connection.

    `join_timeout` only keeps a deadlocked test from hanging forever; nothing is
    asserted about time.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=join_timeout)
    return results
