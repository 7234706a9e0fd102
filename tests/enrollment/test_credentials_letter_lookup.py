"""A first submission asks whether the account's credentials letter was already sent.

That question used to read every credentials letter of the comune (16.7 ms of
PostgreSQL for 20,000 of them, on every first submission of a window's
opening). It is answered through the attachments' GIN index: the plan must
name it, and the answer must stay right for an account with a letter, one
without, and one whose id is a prefix of another's.
"""

from __future__ import annotations

from django.db import connection

from core.models import OutgoingEmail
from enrollment.notifications import _credentials_letter_sent, credentials_letters

LETTERS = 3000
LETTER = "enrollment.lettera_credenziali"


def _letter(account_id: int) -> OutgoingEmail:
    return OutgoingEmail(
        to=[f"famiglia.{account_id}@example.org"],
        subject="Credenziali di accesso al portale - Palosco",
        body="Gentile famiglia, " * 40,
        attachments=[{"document": LETTER, "params": {"account_id": account_id, "language": "it"}}],
        purpose="credentials_letter",
        status=OutgoingEmail.Status.SENT,
    )


def test_the_credentials_letter_check_uses_the_attachments_index(in_palosco) -> None:
    OutgoingEmail.objects.bulk_create(_letter(n) for n in range(10, 10 + LETTERS))
    OutgoingEmail.objects.bulk_create(
        OutgoingEmail(to=["x@example.org"], subject="Ricevuta", body="...", purpose="enrollment_submitted")
        for _ in range(LETTERS)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_outgoingemail")

    plan = credentials_letters(1234).explain()
    assert "outgoingemail_attachments" in plan, plan
    assert "Rows Removed by Filter" not in credentials_letters(1234).explain(analyze=True)

    assert _credentials_letter_sent(10) and _credentials_letter_sent(10 + LETTERS - 1)
    assert not _credentials_letter_sent(1)  # the prefix of 10..19 and 100..: no letter of its own
    assert not _credentials_letter_sent(10 + LETTERS)
    assert credentials_letters(1234).count() == 1
