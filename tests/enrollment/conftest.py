"""Parents, codici fiscali and form data for the enrollment tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from stdnum.it import codicefiscale

from enrollment.models import Service
from identity.models import Account
from tenants.models import Comune
from tests.conftest import PALOSCO_HOST, ROMANO_HOST

GUARDIAN_CF = "RSSMRA80A01H501U"
MONTHS = "ABCDEHLMPRST"


def make_cf(*, surname: str = "RSS", name: str = "LCU", birth: date, female: bool = False) -> str:
    """A valid codice fiscale for a pupil born on `birth` (check digit computed)."""
    day = birth.day + (40 if female else 0)
    body = f"{surname}{name}{birth.year % 100:02d}{MONTHS[birth.month - 1]}{day:02d}G856"
    return body + codicefiscale.calc_check_digit(body)


PUPIL_BIRTH = date(2017, 3, 10)
PUPIL_CF = make_cf(birth=PUPIL_BIRTH)
SIBLING_BIRTH = date(2019, 6, 2)
SIBLING_CF = make_cf(name="GLI", birth=SIBLING_BIRTH, female=True)


def parent_create(
    *, username: str = "PAL-000900", email: str = "genitore@example.org", **extra: Any
) -> Account:
    if "-" in username:  # a codice utente like PAL-000900 (credentials login)
        extra.setdefault("codice_utente", username)
    return Account.objects.create_user(
        username=username,
        password="Password-Genitore-1",
        kind=Account.Kind.PARENT,
        email=email,
        email_verified_at=timezone.now(),
        first_name=extra.pop("first_name", "Mario"),
        last_name=extra.pop("last_name", "Rossi"),
        **extra,
    )


def form_data(*, services: list[Service], pupil_cf: str = PUPIL_CF, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pupil_first_name": "Luca",
        "pupil_last_name": "Rossi",
        "pupil_codice_fiscale": pupil_cf,
        "pupil_birth_date": PUPIL_BIRTH.isoformat(),
        "pupil_birth_place": "Bergamo",
        "pupil_school": "primaria",
        "pupil_class_section": "3ª A",
        "guardian_first_name": "Mario",
        "guardian_last_name": "Rossi",
        "guardian_codice_fiscale": GUARDIAN_CF,
        "guardian_email": "genitore@example.org",
        "guardian_phone": "035 123456",
        "guardian_address": "Via Roma 1",
        "guardian_cap": "24050",
        "guardian_city": "Palosco",
        "services": [s.pk for s in services],
        "privacy": "on",
        "azione": "riepilogo",
    }
    for s in services:
        if s.code == "PRE":
            data["extra_PRE_motivo"] = "Orario di lavoro dei genitori"
        if s.code == "TRASPORTO":
            data["extra_TRASPORTO_fermata"] = "Via Dante 3"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def guardian_data(**overrides: Any) -> dict[str, Any]:
    return {
        "first_name": "Mario",
        "last_name": "Rossi",
        "codice_fiscale": GUARDIAN_CF,
        "email": "genitore@example.org",
        "phone": "035 123456",
        "address": "Via Roma 1",
        "cap": "24050",
        "city": "Palosco",
    } | overrides


def pupil_data(**overrides: Any) -> dict[str, Any]:
    return {
        "first_name": "Luca",
        "last_name": "Rossi",
        "codice_fiscale": PUPIL_CF,
        "birth_date": PUPIL_BIRTH,
        "birth_place": "Bergamo",
        "school": "primaria",
        "class_section": "3ª A",
    } | overrides


@pytest.fixture
def palosco_parent(in_palosco: Comune) -> Account:
    return parent_create()


@pytest.fixture
def romano_parent(in_romano: Comune) -> Account:
    return parent_create(username="ROM-000900")


def logged_in(comune: Comune, account: Account) -> Client:
    host = PALOSCO_HOST if comune.slug == "palosco" else ROMANO_HOST
    client = Client(HTTP_HOST=host)
    with tenant_context(comune):
        client.force_login(account)
    return client


@pytest.fixture
def login() -> Callable[[Comune, Account], Client]:
    return logged_in


def service(code: str, year: str = "2025/2026") -> Service:
    return Service.objects.get(code=code, school_year=year)
