"""What the "lettera credenziali" shows: the one place that asks identity for it.

The letter is built from `LetterCredentials`, never from the account
directly. A family gets its codice utente at its first submission (identity's
`codice_utente_assign`) and keeps its password; a password appears in a
letter only when it was issued in that same step (identity's
`credentials_issue`, e.g. at the counter), since it is never stored in clear.
Otherwise the letter says where the password came from, truthfully: mailed
as a temporary one, handed over by the office, chosen, or none (SPID/CIE).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from identity.models import Account
from identity.services import IssuedCredentials, codice_utente_assign, email_mask


class PasswordState(StrEnum):
    """What the letter may truthfully say about the password."""

    ISSUED = "issued"  # shown in this letter, issued in this very step
    TEMPORARY = "temporary"  # mailed as a temporary password at the first save
    INITIAL = "initial"  # an initial password handed over earlier, still to be changed
    CHOSEN = "chosen"  # chosen by the parent
    NONE = "none"  # no password (SPID/CIE only)


@dataclass(frozen=True)
class LetterCredentials:
    codice_utente: str
    password_state: PasswordState
    # Only when it was issued in this very step; never read back from storage.
    password: str | None = None
    # Where a temporary password went, masked.
    email_masked: str = ""


def _password_state(account: Account) -> PasswordState:
    if not account.has_usable_password():
        return PasswordState.NONE
    if not account.must_change_password:
        return PasswordState.CHOSEN
    if account.created_by_backend == "codice_fiscale":
        return PasswordState.TEMPORARY
    return PasswordState.INITIAL


def letter_credentials(*, account: Account) -> LetterCredentials:
    """The letter of an existing account: its codice utente, assigned now if missing."""
    state = _password_state(account)
    masked = email_mask(account.email) if state == PasswordState.TEMPORARY else ""
    if account.kind == Account.Kind.PARENT:
        # A codice utente once given is never taken back: no locked read when it is there.
        code = account.codice_utente or codice_utente_assign(account=account)
    else:
        code = account.codice_utente or account.username
    return LetterCredentials(codice_utente=code, password_state=state, email_masked=masked)


def letter_credentials_issued(*, issued: IssuedCredentials) -> LetterCredentials:
    """The letter of credentials issued in this very step (password shown once)."""
    return LetterCredentials(
        codice_utente=issued.codice_utente, password_state=PasswordState.ISSUED, password=issued.password
    )
