"""What the "lettera credenziali" shows: the one place that asks identity for it.

The letter is built from `LetterCredentials`, never from the account
directly, so that issuing credentials (identity's `credentials_issue`, which
returns the password in clear exactly once) is wired in `letter_credentials`
alone. Until an account has a codice utente, the letter shows the login
identifier it uses today.
"""

from __future__ import annotations

from dataclasses import dataclass

from identity.models import Account


@dataclass(frozen=True)
class LetterCredentials:
    codice_utente: str
    # Only when it was issued in this very step; never read back from storage.
    password: str | None = None


def letter_credentials(*, account: Account) -> LetterCredentials:
    return LetterCredentials(codice_utente=getattr(account, "codice_utente", "") or account.username)
