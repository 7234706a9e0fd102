"""The periodic jobs that fan out once per comune: every active comune, never the platform's own record.

The public schema's `Comune` row is active too, but holds no comune tables
and no config: a retention or graduatoria job opened there failed on its
first query, every night and every quarter of an hour (seen in `make run`'s
worker log), and the payment fan-outs stopped at that row reading its empty
config, so no comune after it got its reconciliation or reminders.
"""

from __future__ import annotations

import pytest
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from tenants.models import Comune
from tenants.services import comune_suspend
from tests.jobs import run_pending_jobs

FAN_OUTS = {
    "enrollment.retention_all": "enrollment.retention_run",
    "enrollment.graduatorie_all": "enrollment.graduatorie_run",
}


@pytest.mark.parametrize(("fan_out", "per_comune"), FAN_OUTS.items())
def test_one_job_per_active_comune_and_none_for_the_platform(
    palosco, romano, fan_out: str, per_comune: str
) -> None:  # type: ignore[no-untyped-def]
    comune_suspend(comune=Comune.objects.get(pk=romano.pk), reason="prova")
    app.tasks[fan_out].func(timestamp=0)
    deferred = {j.args["schema_name"] for j in ProcrastinateJob.objects.filter(task_name=per_comune)}
    active = set(Comune.objects.filter(status=Comune.Status.ACTIVE).values_list("schema_name", flat=True))
    assert "public" in active  # the platform's record is active: the selector must leave it out
    assert deferred == active - {"public"}
    assert "palosco" in deferred and romano.schema_name not in deferred
    assert run_pending_jobs(task_name=per_comune) == len(deferred)


@pytest.mark.parametrize("fan_out", ["payments.reconcile_all", "payments.reminders_all"])
def test_the_payment_fan_outs_never_open_the_platform(palosco, romano, fan_out: str) -> None:  # type: ignore[no-untyped-def]
    app.tasks[fan_out].func(timestamp=0)
    jobs = ProcrastinateJob.objects.exclude(task_name=fan_out)
    assert "public" not in {j.args.get("schema_name") for j in jobs}
