"""Parallel logins on real separate connections: the attempt is counted before the password (D4, D6)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from core import shared_state
from core.models import AuditEntry
from identity import ratelimit
from identity.models import Account
from tests.concurrency import together
from tests.conftest import PALOSCO_HOST
from tests.identity.conftest import PASSWORD, credentials_post

PARALLEL = 20


def _login(password: str) -> Callable[[], int]:
    def call() -> int:
        client = Client(HTTP_HOST=PALOSCO_HOST, REMOTE_ADDR="198.51.100.9")
        return credentials_post(client, "PAL-000991", password).status_code

    return call


def test_parallel_wrong_passwords_get_at_most_the_allowed_checks(committed_palosco) -> None:  # type: ignore[no-untyped-def]
    with schema_context("palosco"):
        Account.objects.create_user(
            username="PAL-000991", password=PASSWORD, kind=Account.Kind.PARENT, codice_utente="PAL-000991"
        )
    together([_login("Sbagliata-123") for _ in range(PARALLEL)])
    with schema_context("palosco"):
        reasons = [e.data["reason"] for e in AuditEntry.objects.filter(action="login.failure")]
    assert len(reasons) == PARALLEL
    assert reasons.count("credenziali") == ratelimit.MAX_PER_IDENTIFIER
    assert reasons.count("bloccato") == PARALLEL - ratelimit.MAX_PER_IDENTIFIER
    # The right password now is refused without being checked.
    client = Client(HTTP_HOST=PALOSCO_HOST, REMOTE_ADDR="198.51.100.10")
    assert "Troppi tentativi" in credentials_post(client, "PAL-000991", PASSWORD).content.decode()


def test_parallel_mix_with_the_right_password_checks_at_most_the_allowed(committed_palosco) -> None:  # type: ignore[no-untyped-def]
    with schema_context("palosco"):
        Account.objects.create_user(
            username="PAL-000991", password=PASSWORD, kind=Account.Kind.PARENT, codice_utente="PAL-000991"
        )
    codes = together([_login("Sbagliata-123") for _ in range(PARALLEL - 1)] + [_login(PASSWORD)])
    with schema_context("palosco"):
        reasons = [e.data["reason"] for e in AuditEntry.objects.filter(action="login.failure")]
        successes = AuditEntry.objects.filter(action="login.success").count()
    checked = reasons.count("credenziali") + successes
    # A success clears the identifier's count, so attempts reserved after it
    # start again: the bound is one full allowance on each side of it.
    assert checked <= 2 * ratelimit.MAX_PER_IDENTIFIER
    assert successes == codes.count(302) <= 1
    if not successes:
        assert checked == ratelimit.MAX_PER_IDENTIFIER


def test_single_use_mark_has_exactly_one_winner(committed_palosco) -> None:  # type: ignore[no-untyped-def]
    def mark() -> bool:
        with schema_context("palosco"):
            return shared_state.mark_add("test:assertion:abc", ttl=60)

    assert together([mark for _ in range(PARALLEL)]).count(True) == 1


def test_counter_is_exact_under_parallel_increments(committed_palosco) -> None:  # type: ignore[no-untyped-def]
    def incr() -> int:
        with schema_context("palosco"):
            return shared_state.counter_incr("test:counter", window=60)

    assert sorted(together([incr for _ in range(PARALLEL)])) == list(range(1, PARALLEL + 1))
    with schema_context("romanodilombardia"):
        assert shared_state.counter_get("test:counter") == 0


def test_module_uses_the_test_database(in_palosco) -> None:
    """Makes pytest-django create the test database for this module's committed tests."""
    assert connection.settings_dict["NAME"].startswith("test_")
