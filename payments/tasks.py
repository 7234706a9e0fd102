"""Jobs of the payments app. Each takes ids and the schema name and opens the schema itself."""

from __future__ import annotations

from django.utils import timezone
from django_tenants.utils import schema_context
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from payments.appio import io_deliver
from payments.reminders import reminders_send
from payments.services import position_sync, positions_reconcile, positions_sync
from tenants.selectors import comune_current, comuni_active

# pagoPA outages last minutes to hours: 15 attempts, exponential wait from
# 3 s up to about 4 days in total (3^n seconds), so a position is never given up early.
PAGOPA_RETRY = RetryStrategy(max_attempts=15, exponential_wait=3)


@app.task(queue="payments", retry=PAGOPA_RETRY, name="payments.position_send")
def position_send(*, schema_name: str, position_id: int) -> None:
    with schema_context(schema_name):
        position_sync(position_id=position_id)


@app.task(queue="payments", retry=PAGOPA_RETRY, name="payments.positions_send")
def positions_send(*, schema_name: str, position_ids: list[int]) -> None:
    """A batch of positions created together (a bulk confirmation), over one connection."""
    with schema_context(schema_name):
        positions_sync(position_ids=position_ids)


@app.periodic(cron="17 * * * *", periodic_id="payments.reconcile")
@app.task(queue="maintenance", name="payments.reconcile_all")
def reconcile_all(timestamp: int) -> None:
    """Every hour, one reconciliation job per active comune paid through GPD."""
    for comune in comuni_active():
        payments = comune.settings.payments
        if payments is not None and payments.adapter == "gpd":
            reconcile_run.defer(schema_name=comune.schema_name)


@app.task(queue="payments", retry=PAGOPA_RETRY, name="payments.reconcile_run")
def reconcile_run(*, schema_name: str) -> None:
    with schema_context(schema_name):
        positions_reconcile()


@app.task(queue="payments", retry=PAGOPA_RETRY, name="payments.io_send")
def io_send(*, schema_name: str, message_id: int) -> None:
    with schema_context(schema_name):
        io_deliver(message_id=message_id)


@app.periodic(cron="0 9 * * *", periodic_id="payments.reminders")
@app.task(queue="maintenance", name="payments.reminders_all")
def reminders_all(timestamp: int) -> None:
    """Every morning, the automatic reminders of each comune that set `reminder_days_after_due`."""
    for comune in comuni_active():
        payments = comune.settings.payments
        if payments is not None and payments.reminder_days_after_due:
            reminders_run.defer(schema_name=comune.schema_name)


@app.task(queue="maintenance", name="payments.reminders_run")
def reminders_run(*, schema_name: str) -> None:
    with schema_context(schema_name):
        payments = comune_current().settings.payments
        if payments is not None and payments.reminder_days_after_due:
            reminders_send(today=timezone.localdate(), min_days_overdue=payments.reminder_days_after_due)
