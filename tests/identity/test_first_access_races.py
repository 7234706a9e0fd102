"""A first access that meets another one for the same codice fiscale (found by a review).

Two first accesses at once (a double click, two tabs) both found no account, since a row lock on a
row that does not exist locks nothing, and the second insert failed on the unique name: a 500. The
holder below commits its account only once the other request waits for it, so the test does not
depend on the threads' timing."""

from __future__ import annotations

import threading

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from identity.models import Account
from identity.services import parent_account_for_codice_fiscale
from tests.concurrency import until_another_waits_on_a_lock
from tests.conftest import PALOSCO_HOST

NEW_CF = "RSSMRA15T10A562Z"


def test_db_is_the_test_database(db) -> None:  # type: ignore[no-untyped-def] # the committed fixture needs one
    assert connection.settings_dict["NAME"].startswith("test_")


def test_a_first_access_that_meets_a_parallel_one_enters_its_account(committed_palosco) -> None:  # type: ignore[no-untyped-def]
    inserted, done = threading.Event(), threading.Event()

    def parallel_first_access() -> None:  # its account inserted, not yet committed
        try:
            with schema_context("palosco"), transaction.atomic():
                Account.objects.create_user(
                    username=NEW_CF,
                    kind=Account.Kind.PARENT,
                    codice_fiscale=NEW_CF,
                    created_by_backend="codice_fiscale",
                )
                inserted.set()
                until_another_waits_on_a_lock()  # the request's insert waits on the same name
        finally:
            inserted.set()
            done.set()
            connection.close()

    holder = threading.Thread(target=parallel_first_access)
    holder.start()
    inserted.wait()
    client = Client(HTTP_HOST=PALOSCO_HOST, REMOTE_ADDR="198.51.100.20", raise_request_exception=False)
    response = client.post(
        "/accesso/codice_fiscale/", {"codice_fiscale-codice_fiscale": NEW_CF, "codice_fiscale-password": ""}
    )
    holder.join()
    assert done.is_set()
    assert response.status_code == 302
    with schema_context("palosco"):
        assert Account.objects.filter(username=NEW_CF).count() == 1


ADULT_CF = "RSSMRA80A01H501U"  # the demo SPID identity, Mario Rossi


def test_a_spid_login_does_not_enter_an_account_opened_with_the_codice_fiscale_alone(in_palosco) -> None:  # type: ignore[no-untyped-def]
    """Someone types the parent's own codice fiscale into "Sono un nuovo iscritto" (no secret needed)
    and verifies an address of theirs. The parent's later SPID/CIE login (a comune offering both)
    used to land in that account, whose first save mails the temporary password to that address."""
    client = Client(HTTP_HOST=PALOSCO_HOST)
    response = client.post(
        "/accesso/codice_fiscale/", {"codice_fiscale-codice_fiscale": ADULT_CF, "codice_fiscale-password": ""}
    )
    assert response.status_code == 302
    with tenant_context(in_palosco):
        planted = Account.objects.get(username=ADULT_CF)
        planted.email, planted.email_verified_at = "altri@example.org", timezone.now()
        planted.save()
        account, created = parent_account_for_codice_fiscale(
            codice_fiscale=ADULT_CF, first_name="Mario", last_name="Rossi", email="mario.rossi@example.it"
        )
        assert created and account.pk != planted.pk
        assert (account.username, account.codice_fiscale, account.email) == (
            f"IDP-{ADULT_CF}",
            ADULT_CF,
            "mario.rossi@example.it",
        )
        # The next login finds the same account.
        assert parent_account_for_codice_fiscale(codice_fiscale=ADULT_CF) == (account, False)
