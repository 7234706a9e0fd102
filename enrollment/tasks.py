"""Jobs of the enrollment app. Each takes the schema name and plain data."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db import connection, transaction
from django_tenants.utils import schema_context
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from core import attachments
from enrollment.gdpr import retention_apply
from enrollment.selectors import comune_current


@app.task(queue="documents", retry=RetryStrategy(max_attempts=3, wait=5), name="enrollment.document_prepare")
def document_prepare(*, schema_name: str, spec: dict[str, Any]) -> None:
    """Render and store one PDF (see enrollment/documents.py) off the request path."""
    with schema_context(schema_name):
        attachments.render(spec)


def document_prepare_defer(*, spec: dict[str, Any]) -> None:
    """Queue the preparation once: repeated clicks while it waits add nothing."""
    lock = f"{connection.schema_name}:{spec['document']}:{sorted(spec.get('params', {}).items())}"
    # The savepoint keeps a surrounding transaction usable after the refusal.
    with contextlib.suppress(AlreadyEnqueued), transaction.atomic():
        document_prepare.configure(queueing_lock=lock).defer(schema_name=connection.schema_name, spec=spec)


@app.periodic(cron="30 3 * * *", periodic_id="enrollment.retention")
@app.task(queue="maintenance", name="enrollment.retention_all")
def retention_all(timestamp: int) -> None:
    """Every night, one retention job per active comune (each opens its own schema)."""
    from tenants.models import Comune

    for schema_name in Comune.objects.filter(status=Comune.Status.ACTIVE).values_list(
        "schema_name", flat=True
    ):
        retention_run.defer(schema_name=schema_name)


@app.task(queue="maintenance", name="enrollment.retention_run")
def retention_run(*, schema_name: str) -> None:
    """Erase what the comune's `retention_years` no longer allows to keep."""
    with schema_context(schema_name):
        retention_apply(years=comune_current().settings.retention_years)
