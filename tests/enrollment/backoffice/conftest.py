"""Staff accounts by role, logged-in clients and submitted enrollments."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_tenants.utils import tenant_context
from procrastinate.contrib.django.models import ProcrastinateJob

from enrollment.backoffice.roles import AMMINISTRATORE, OPERATORE, SOLA_LETTURA, staff_roles_ensure
from enrollment.models import Enrollment, Service
from enrollment.services import domanda_save, enrollments_submit
from identity.models import Account
from tenants.models import Comune
from tests.conftest import PALOSCO_HOST, ROMANO_HOST
from tests.enrollment.conftest import PUPIL_BIRTH, guardian_data, make_cf, parent_create, pupil_data

ROLE_USERS = {AMMINISTRATORE: "admin.test", OPERATORE: "operatore.test", SOLA_LETTURA: "lettura.test"}


def staff_create(username: str, role: str | None, **extra: object) -> Account:
    staff_roles_ensure()
    account = Account.objects.create_user(
        username=username,
        kind=Account.Kind.STAFF,
        is_staff=True,
        first_name=extra.pop("first_name", "Anna"),
        last_name=extra.pop("last_name", "Ufficio"),
        **extra,
    )
    if role:
        account.groups.add(Group.objects.get(name=role))
    return account


def client_for(comune: Comune, account: Account) -> Client:
    client = Client(HTTP_HOST=PALOSCO_HOST if comune.slug == "palosco" else ROMANO_HOST)
    with tenant_context(comune):
        client.force_login(account)
    return client


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


_counter = iter(range(1, 10_000))


def _letters(n: int) -> str:
    return chr(65 + n // 676 % 26) + chr(65 + n // 26 % 26) + chr(65 + n % 26)


def submitted(
    service: Service,
    *,
    last_name: str = "Rossi",
    first_name: str = "Luca",
    email: str = "genitore@example.org",
) -> Enrollment:
    """A new enrollment of a fresh family (own parent account), submitted by the parent."""
    n = next(_counter)
    parent = parent_create(username=f"PAL-{n:06d}", email=email)
    rows = domanda_save(
        account=parent,
        guardian_data=guardian_data(email=email, codice_fiscale=f"GRD{n:013d}"),
        pupil_data=pupil_data(
            codice_fiscale=make_cf(name=_letters(n), birth=PUPIL_BIRTH),
            last_name=last_name,
            first_name=first_name,
        ),
        services=[service],
        extra={"PRE": {"motivo": "Lavoro"}, "TRASPORTO": {"fermata": "Via Dante 3"}},
        consent=True,
    )
    return enrollments_submit(enrollments=rows, by=parent)[0]
