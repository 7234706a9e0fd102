"""Committed data in a comune's schema for tests that need other connections.

Threads and a live server open their own database connections, which cannot
see the rows of a test's rolled-back transaction. pytest-django's
`transactional_db` would flush afterwards, and a flush truncates the public
schema's tables too (the comuni!). So these tests commit for real inside this
fixture, which afterwards deletes exactly what enrollment tests create in the
comune's schema and restores the catalogue, leaving every other test's
starting state untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context
from procrastinate.contrib.django.models import ProcrastinateJob

from core.models import AuditEntry, OutgoingEmail
from enrollment.models import (
    Enrollment,
    Feedback,
    Graduatoria,
    Guardian,
    PrivacyConsent,
    Pupil,
    ReferenceCounter,
    Service,
)
from identity.models import Account
from tenants.models import Comune
from tenants.services import comune_catalogue_changed


def shared_state_clear() -> None:
    """Forget committed lockouts, marks and cache entries (they are not per schema)."""
    cache.clear()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM public.shared_counter")


def _last_id(model: type[Any]) -> int:
    return model.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.fixture
def committed_comuni(django_db_setup, django_db_blocker) -> Iterator[dict[str, Comune]]:  # type: ignore[no-untyped-def]
    """Both demo comuni of the test database, with commits allowed; cleaned up afterwards.

    pytest-django creates the test database only when some collected test
    uses `db` (or a django_db marker): a module of committed tests must hold
    one such test, or this fixture would write to the development database.
    """
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("committed tests need the test database: add a test using `db` to the module")
    with django_db_blocker.unblock():
        comuni = {c.slug: c for c in Comune.objects.filter(slug__in=["palosco", "romanodilombardia"])}
        last_job = _last_id(ProcrastinateJob)
        before: dict[str, dict[str, Any]] = {}
        for slug, comune in comuni.items():
            with schema_context(comune.schema_name):
                before[slug] = {
                    "catalogue": list(Service.objects.values()),
                    "account": _last_id(Account),
                    "audit": _last_id(AuditEntry),
                    "mail": _last_id(OutgoingEmail),
                }
        try:
            yield comuni
        finally:
            connection.set_schema_to_public()
            shared_state_clear()
            ProcrastinateJob.objects.filter(id__gt=last_job).delete()
            for slug, comune in comuni.items():
                with schema_context(comune.schema_name):
                    for model in (
                        Graduatoria,
                        Feedback,
                        PrivacyConsent,
                        Enrollment,
                        Pupil,
                        Guardian,
                        ReferenceCounter,
                    ):
                        model.objects.all().delete()
                    for row in before[slug]["catalogue"]:
                        Service.objects.filter(pk=row["id"]).update(**row)
                    # update() sends no signal: the portal's cached catalogue must not outlive the test.
                    comune_catalogue_changed(schema_name=comune.schema_name)
                    AuditEntry.objects.filter(id__gt=before[slug]["audit"]).delete()
                    OutgoingEmail.objects.filter(id__gt=before[slug]["mail"]).delete()
                    Session.objects.all().delete()
                    Account.objects.filter(id__gt=before[slug]["account"]).delete()


@pytest.fixture
def committed_palosco(committed_comuni: dict[str, Comune]) -> Comune:
    return committed_comuni["palosco"]
