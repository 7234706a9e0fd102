"""Run queued jobs in-process, as the worker would.

Tests run inside a transaction the real worker (another connection) cannot
see, so they execute the queued rows themselves: the job rows are the real
ones `defer()` wrote, and the task functions are the real ones.
"""

from __future__ import annotations

from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob


def run_pending_jobs(*, task_name: str | None = None) -> int:
    """Execute every `todo` job (optionally of one task); return how many ran."""
    schema = connection.schema_name
    ran = 0
    try:
        while True:
            jobs = ProcrastinateJob.objects.filter(status="todo").order_by("id")
            if task_name:
                jobs = jobs.filter(task_name=task_name)
            job = jobs.first()
            if job is None:
                return ran
            task = app.tasks[job.task_name]
            # Mark first so a failing job is not picked again in this loop.
            ProcrastinateJob.objects.filter(pk=job.pk).update(status="doing")
            try:
                task.func(**job.args)
            except Exception:
                ProcrastinateJob.objects.filter(pk=job.pk).update(status="failed")
                raise
            ProcrastinateJob.objects.filter(pk=job.pk).update(status="succeeded")
            ran += 1
    finally:
        if schema == "public":
            connection.set_schema_to_public()
        else:
            connection.set_schema(schema)
