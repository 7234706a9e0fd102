"""The nightly prune of finished jobs: old ones go with their events, the rest stay.

Jobs are written as procrastinate writes them (its triggers add the events),
then their events are moved back in time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django import app

from core import tasks

pytestmark = pytest.mark.django_db


def _job(status: str, *, days_ago: float, task: str = "core.email_send") -> int:
    """A job of `status` whose events (deferred, then the final one) are `days_ago` old."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args) "
            "VALUES ('email', %s, '{}') RETURNING id",
            [task],
        )
        (job_id,) = cursor.fetchone()
        if status != "todo":
            cursor.execute(
                "UPDATE procrastinate_jobs SET status = %s::procrastinate_job_status WHERE id = %s",
                [status, job_id],
            )
        cursor.execute(
            "UPDATE procrastinate_events SET at = %s WHERE job_id = %s",
            [timezone.now() - timedelta(days=days_ago), job_id],
        )
    return int(job_id)


def _left(ids: list[int]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM procrastinate_jobs WHERE id = ANY(%s)", [ids])
        return {row[0] for row in cursor.fetchall()}


def _events_of(ids: list[int]) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_events WHERE job_id = ANY(%s)", [ids])
        return int(cursor.fetchone()[0])


def test_finished_jobs_go_after_their_keep_and_the_rest_stay() -> None:
    gone = [
        _job("succeeded", days_ago=8),
        _job("failed", days_ago=31),
        _job("cancelled", days_ago=40),
        _job("aborted", days_ago=31),
    ]
    kept = [
        _job("succeeded", days_ago=6),  # inside its 7 days
        _job("failed", days_ago=8),  # a failure stays 30 days for the operators
        _job("todo", days_ago=60),  # never run: not finished, whatever its age
        _job("doing", days_ago=60),
    ]
    app.tasks["core.jobs_prune"].func(timestamp=0)
    assert _left(gone + kept) == set(kept)
    assert _events_of(gone) == 0 and _events_of(kept) > 0


def test_a_job_the_periodic_deferrer_still_names_is_kept() -> None:
    named = _job("succeeded", days_ago=9, task="enrollment.retention_all")
    old = _job("succeeded", days_ago=9, task="enrollment.retention_all")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp, job_id) "
            "VALUES ('enrollment.retention_all', 'enrollment.retention', 1, %s)",
            [named],
        )
    app.tasks["core.jobs_prune"].func(timestamp=0)  # no foreign-key error
    assert _left([named, old]) == {named}


def test_the_prune_deletes_in_batches_until_none_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "JOBS_PRUNE_BATCH", 3)
    old = [_job("succeeded", days_ago=10) for _ in range(7)]
    recent = _job("succeeded", days_ago=1)
    deleted = tasks.jobs_delete_finished(statuses=("succeeded",), before=timezone.now() - timedelta(days=7))
    assert deleted == 7
    assert _left([*old, recent]) == {recent}


def test_the_prune_is_scheduled_every_night() -> None:
    task = app.tasks["core.jobs_prune"]
    assert task.queueing_lock == "core.jobs_prune"
    periodic = {p.periodic_id: p for p in app.periodic_registry.periodic_tasks.values()}
    assert periodic["core.jobs_prune"].cron == "15 4 * * *"
