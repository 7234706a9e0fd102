"""Jobs of the enrollment app. Each takes the schema name and plain data.

The PDF job (`document_prepare`) is in enrollment/documents.py, next to the
files it stores.
"""

from __future__ import annotations

from django_tenants.utils import schema_context
from procrastinate.contrib.django import app

from enrollment.gdpr import retention_apply
from enrollment.graduatorie import graduatoria_rank, graduatorie_due
from enrollment.selectors import comune_current
from enrollment.uploads import uploads_unattached_sweep
from tenants.selectors import comuni, comuni_active


@app.periodic(cron="30 3 * * *", periodic_id="enrollment.retention")
@app.task(queue="maintenance", name="enrollment.retention_all")
def retention_all(timestamp: int) -> None:
    """Every night, one retention job per active comune (each opens its own schema)."""
    for schema_name in comuni_active().values_list("schema_name", flat=True):
        retention_run.defer(schema_name=schema_name)


@app.task(queue="maintenance", name="enrollment.retention_run")
def retention_run(*, schema_name: str) -> None:
    """Erase what the comune's `retention_years` no longer allows to keep."""
    with schema_context(schema_name):
        retention_apply(years=comune_current().settings.retention_years)


@app.periodic(cron="*/15 * * * *", periodic_id="enrollment.graduatorie")
@app.task(queue="maintenance", name="enrollment.graduatorie_all")
def graduatorie_all(timestamp: int) -> None:
    """Every quarter of an hour, one job per active comune computes the graduatorie
    of its services whose window has just closed (each job opens its own schema)."""
    for schema_name in comuni_active().values_list("schema_name", flat=True):
        graduatorie_run.defer(schema_name=schema_name)


@app.task(queue="maintenance", name="enrollment.graduatorie_run")
def graduatorie_run(*, schema_name: str) -> None:
    """Compute the draft graduatoria of each ranked service of the comune whose window closed."""
    with schema_context(schema_name):
        for service in graduatorie_due():
            graduatoria_rank(service=service)


@app.periodic(cron="45 3 * * *", periodic_id="enrollment.uploads_sweep")
@app.task(queue="maintenance", name="enrollment.uploads_sweep_all")
def uploads_sweep_all(timestamp: int) -> None:
    """Every night, one sweep of unattached API uploads per comune (each opens its own schema)."""
    for schema_name in comuni().values_list("schema_name", flat=True):
        uploads_sweep_run.defer(schema_name=schema_name)


@app.task(queue="maintenance", name="enrollment.uploads_sweep_run")
def uploads_sweep_run(*, schema_name: str) -> None:
    """Remove the comune's API uploads no enrollment named within UPLOADS_UNATTACHED_MAX_HOURS."""
    with schema_context(schema_name):
        uploads_unattached_sweep()
