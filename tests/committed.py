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

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django_tenants.utils import schema_context
from procrastinate.contrib.django.models import ProcrastinateJob

from core.models import AuditEntry, OutgoingEmail
from enrollment.models import Enrollment, Guardian, PrivacyConsent, Pupil, ReferenceCounter, Service
from identity.models import Account
from tenants.models import Comune


@pytest.fixture
def committed_palosco(django_db_blocker) -> Iterator[Comune]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        comune = Comune.objects.get(slug="palosco")
        last_job = ProcrastinateJob.objects.order_by("-id").values_list("id", flat=True).first() or 0
        with schema_context(comune.schema_name):
            catalogue = list(Service.objects.values())
            last_account = Account.objects.order_by("-id").values_list("id", flat=True).first() or 0
            last_audit = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
            last_mail = OutgoingEmail.objects.order_by("-id").values_list("id", flat=True).first() or 0
        try:
            yield comune
        finally:
            connection.set_schema_to_public()
            ProcrastinateJob.objects.filter(id__gt=last_job).delete()
            with schema_context(comune.schema_name):
                for model in (PrivacyConsent, Enrollment, Pupil, Guardian, ReferenceCounter):
                    model.objects.all().delete()
                for row in catalogue:
                    Service.objects.filter(pk=row["id"]).update(**row)
                AuditEntry.objects.filter(id__gt=last_audit).delete()
                OutgoingEmail.objects.filter(id__gt=last_mail).delete()
                Session.objects.all().delete()
                Account.objects.filter(id__gt=last_account).delete()
