"""Staff accounts by role, logged-in clients and submitted enrollments."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from procrastinate.contrib.django.models import ProcrastinateJob

from enrollment.backoffice.roles import AMMINISTRATORE, OPERATORE, SOLA_LETTURA
from identity.models import Account
from tenants.models import Comune
from tests.enrollment.conftest import logged_in as client_for
from tests.factories import StaffFactory, submitted

__all__ = ["client_for", "staff_create", "submitted"]

ROLE_USERS = {AMMINISTRATORE: "admin.test", OPERATORE: "operatore.test", SOLA_LETTURA: "lettura.test"}


def staff_create(username: str, role: str | None, **fields: object) -> Account:
    """A staff member of the active comune with a back-office role (see `StaffFactory`)."""
    return StaffFactory.create(username=username, role=role, **fields)


@pytest.fixture
def staff(in_palosco: Comune) -> dict[str, Account]:
    return {role: staff_create(username, role) for role, username in ROLE_USERS.items()}


@pytest.fixture
def admin_user(staff: dict[str, Account]) -> Account:
    return staff[AMMINISTRATORE]


@pytest.fixture
def operatore(staff: dict[str, Account]) -> Account:
    return staff[OPERATORE]


@pytest.fixture
def as_role(palosco: Comune, staff: dict[str, Account]) -> Callable[[str], Client]:
    return lambda role: client_for(palosco, staff[role])


def discard_pending_jobs() -> None:
    """Forget the jobs queued so far (the parents' receipts, tested by the
    enrollment tests), so a test sees only the e-mails of the staff action."""
    ProcrastinateJob.objects.filter(status="todo").update(status="succeeded")
