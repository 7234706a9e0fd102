"""Accounts and helpers for the access tests."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from identity.models import Account
from tenants.models import Comune
from tests.factories import ParentFactory

PASSWORD = "Genitore-Prova-2026"
VALID_CF = "RSSMRA15T10A562Z"  # a valid pupil's codice fiscale (check character Z)
OTHER_CF = "BNCLCU18A01H509A"


def parent_create(
    comune: Comune, codice_utente: str, *, password: str = PASSWORD, **fields: object
) -> Account:
    """A parent account of `comune` as the comune issues it (no e-mail verified yet)."""
    with tenant_context(comune):
        return ParentFactory.create(username=codice_utente, password=password, issued=True, **fields)


def reload(comune: Comune, account: Account) -> Account:
    with tenant_context(comune):
        return Account.objects.get(pk=account.pk)


def credentials_post(client: Client, codice_utente: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/accesso/credentials/",
        {"credentials-codice_utente": codice_utente, "credentials-password": password, **extra},
    )


def cf_post(client: Client, codice_fiscale: str, password: str = ""):  # type: ignore[no-untyped-def]
    return client.post(
        "/accesso/codice_fiscale/",
        {"codice_fiscale-codice_fiscale": codice_fiscale, "codice_fiscale-password": password},
    )


def code_from(body: str) -> str:
    match = re.search(r"^\s+(\d{6})\s*$", body, re.MULTILINE)
    assert match, body
    return match.group(1)


@pytest.fixture
def palosco_parent(palosco: Comune) -> Account:
    return parent_create(palosco, "PAL-000777", first_name="Anna", last_name="Neri", email="anna@example.org")


@pytest.fixture
def romano_parent(romano: Comune) -> Account:
    return parent_create(
        romano, "ROM-000777", first_name="Paolo", last_name="Gialli", email="paolo@example.org"
    )
