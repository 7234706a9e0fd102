"""Operators: an account in the public schema and a client that passed both steps."""

from __future__ import annotations

import pytest
from django.test import Client

from enrollment.backoffice.roles import AMMINISTRATORE
from identity.models import Account
from superadmin import totp
from superadmin.models import OperatorSecondFactor
from tests.conftest import PUBLIC_HOST
from tests.factories import OperatorFactory, StaffFactory

OPERATOR_PASSWORD = "Console-Prova-2026!"


@pytest.fixture
def operator(db) -> Account:  # type: ignore[no-untyped-def]
    return OperatorFactory.create(username="operatore.prova", password=OPERATOR_PASSWORD)


def password_login(client: Client, username: str, password: str) -> None:
    response = client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})
    assert response.status_code == 302, response.content.decode()[:2000]


def pass_second_factor(client: Client, account: Account) -> None:
    client.get("/admin/secondo-fattore/")
    factor = OperatorSecondFactor.objects.get(account=account)
    step = totp.time_step()
    # A fresh step each time: codes are single use.
    if factor.last_used_step is not None and factor.last_used_step >= step - 1:
        step = factor.last_used_step + 1
    response = client.post("/admin/secondo-fattore/", {"code": totp.code_at_step(factor.secret, step)})
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.fixture
def operator_client(operator: Account) -> Client:
    client = Client(HTTP_HOST=PUBLIC_HOST)
    password_login(client, operator.username, OPERATOR_PASSWORD)
    pass_second_factor(client, operator)
    return client


def comune_admin_create(username: str, password: str) -> Account:
    """A staff account of the current comune schema with the back office's administrator role."""
    return StaffFactory.create(username=username, password=password, role=AMMINISTRATORE)
