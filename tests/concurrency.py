"""Run calls at the same instant on real, separate database connections (threads)."""

from __future__ import annotations

import threading
import time
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


def until_another_waits_on_a_lock(*, or_else: threading.Event | None = None) -> None:
    """Called inside a transaction: return once another backend waits for a lock (a row this
    transaction holds, say), or once `or_else` is set. So a race test orders its two sides by
    PostgreSQL's own state instead of by sleeps; the bound (60 s) only keeps a broken test from
    hanging, nothing is asserted about time."""
    with connection.cursor() as cursor:
        for _ in range(1200):
            if or_else is not None and or_else.is_set():
                return
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
