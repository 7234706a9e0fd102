"""An account's letter is claimed once, on its row (identity.services.credentials_letter_claim)."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.models import OutgoingEmail
from identity.models import Account
from identity.services import credentials_letter_claim
from tests.factories import ParentFactory

BACKFILL = importlib.import_module("identity.migrations.0004_account_credentials_letter_at").BACKFILL
LETTER = "enrollment.lettera_credenziali"


def test_the_first_claim_wins_and_a_stale_copy_of_the_account_does_not_claim_again(in_palosco) -> None:
    account = ParentFactory.create()
    stale = Account.objects.get(pk=account.pk)
    assert credentials_letter_claim(account=account)
    assert not credentials_letter_claim(account=account)
    assert stale.credentials_letter_at is None
    assert not credentials_letter_claim(account=stale)  # the UPDATE finds the claim the copy does not show
    stale.refresh_from_db()
    assert stale.credentials_letter_at is not None
    assert not credentials_letter_claim(account=stale)


def test_a_claim_rolled_back_leaves_the_letter_to_the_next_submission(in_palosco) -> None:
    account = ParentFactory.create()

    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        assert credentials_letter_claim(account=account)
        raise Refused  # e.g. the window closed while the submission waited for the service lock
    account.refresh_from_db()
    assert account.credentials_letter_at is None
    assert credentials_letter_claim(account=account)


def _letter(account_id: object, *, at: object, purpose: str = "credentials_letter") -> OutgoingEmail:
    mail = OutgoingEmail.objects.create(
        to=["famiglia@example.org"],
        subject="Credenziali di accesso al portale - Palosco",
        body="...",
        attachments=[{"document": LETTER, "params": {"account_id": account_id, "language": "it"}}],
        purpose=purpose,
        status=OutgoingEmail.Status.SENT,
    )
    OutgoingEmail.objects.filter(pk=mail.pk).update(created_at=at)
    return mail


def test_the_release_marks_the_accounts_that_already_had_their_letter(in_palosco) -> None:
    earlier, later = (
        timezone.now() - timezone.timedelta(days=400),
        timezone.now() - timezone.timedelta(days=3),
    )
    with_letter, with_two, without, prefix = (ParentFactory.create() for _ in range(4))
    _letter(with_letter.pk, at=later)
    _letter(with_two.pk, at=later)
    _letter(with_two.pk, at=earlier)
    _letter(without.pk, at=later, purpose="enrollment_submitted")  # not a letter: a mail naming the account
    _letter(f"{prefix.pk}0", at=later)  # another account's id, written out with this one's as its prefix
    _letter("not-a-number", at=later)  # malformed specs stop nothing
    _letter("9" * 40, at=later)
    OutgoingEmail.objects.create(to=["x@example.org"], subject="-", body="-", purpose="credentials_letter",
                                 attachments={"document": LETTER})  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(BACKFILL)
    for account in (with_letter, with_two, without, prefix):
        account.refresh_from_db()
    assert with_letter.credentials_letter_at == later
    assert with_two.credentials_letter_at == earlier  # the first letter's time
    assert without.credentials_letter_at is None
    assert prefix.credentials_letter_at is None
    assert not credentials_letter_claim(account=with_letter)
    assert credentials_letter_claim(account=without)
