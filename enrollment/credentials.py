"""What the "lettera credenziali" shows: the one place that asks identity for it.

The letter is built from `LetterCredentials`, never from the account
directly. A family gets its codice utente at its first submission (identity's
`codice_utente_assign`) and keeps the password it chose; a password appears
in a letter only when it was issued in that same step (identity's
`credentials_issue`, e.g. at the counter), since it is never stored in clear.
"""

from __future__ import annotations

from dataclasses import dataclass

from identity.models import Account
from identity.services import IssuedCredentials, codice_utente_assign


@dataclass(frozen=True)
class LetterCredentials:
    codice_utente: str
    # Only when it was issued in this very step; never read back from storage.
    password: str | None = None


def letter_credentials(*, account: Account) -> LetterCredentials:
    """The letter of an existing account: its codice utente, assigned now if missing."""
    if account.kind == Account.Kind.PARENT:
        return LetterCredentials(codice_utente=codice_utente_assign(account=account))
    return LetterCredentials(codice_utente=account.codice_utente or account.username)


def letter_credentials_issued(*, issued: IssuedCredentials) -> LetterCredentials:
    """The letter of credentials issued in this very step (password shown once)."""
    return LetterCredentials(codice_utente=issued.codice_utente, password=issued.password)
