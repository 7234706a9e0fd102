"""Demo accounts and the lockout counter's window."""

from __future__ import annotations

import time

import pytest
from django.test import Client, RequestFactory
from django_tenants.utils import tenant_context

from identity import demo, ratelimit
from identity.models import Account

from .conftest import credentials_post


def test_demo_parents_per_comune_are_idempotent(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    for comune in (palosco, romano, palosco, romano):
        with tenant_context(comune):
            demo.load_comune(comune)
    with tenant_context(palosco):
        mario = Account.objects.get(codice_utente="PAL-000001")
        assert (mario.first_name, mario.last_name, mario.email) == (
            "Mario",
            "Rossi",
            "mario.rossi@example.org",
        )
        assert mario.check_password("Genitore-Demo-2026")
        assert not mario.must_change_password
        assert mario.email_verified_at is None
        assert not Account.objects.filter(codice_utente__startswith="ROM-").exists()
    with tenant_context(romano):
        codes = set(Account.objects.filter(kind=Account.Kind.PARENT).values_list("codice_utente", flat=True))
        assert codes == {"ROM-000001", "ROM-000002"}
    lines = "\n".join(demo.banner_lines(port=8000))
    for text in ("PAL-000001", "ROM-000001", "ROM-000002", "Genitore-Demo-2026"):
        assert text in lines


def test_demo_login_shows_verifica_email(palosco, palosco_client: Client) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        demo.load_comune(palosco)
    response = credentials_post(palosco_client, "PAL-000001", "Genitore-Demo-2026")
    assert response["Location"] == "/accesso/verifica-email/"


@pytest.mark.django_db
def test_lock_ends_when_its_time_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "LOCK_SECONDS", 1)
    monkeypatch.setattr(ratelimit, "WINDOW_SECONDS", 1)
    request = RequestFactory().post("/", REMOTE_ADDR="10.1.1.1")
    limit = ratelimit.limit_for(request, scope="test", identifier="abc")
    for _ in range(ratelimit.MAX_PER_IDENTIFIER - 1):
        assert not ratelimit.failure_record(limit)
    assert ratelimit.failure_record(limit)
    assert ratelimit.is_locked(limit)
    time.sleep(1.1)
    assert not ratelimit.is_locked(limit)
    # The failure window expired too: counting starts again from one.
    assert not ratelimit.failure_record(limit)
