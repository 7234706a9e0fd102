"""Reads on accounts and e-mail verifications of the current comune, and the comune itself."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from identity.models import Account, EmailVerification
from tenants.selectors import comune_current as comune_current


def account_for_codice_utente(*, codice_utente: str) -> Account | None:
    """The parent account that logs in with this codice utente (case-insensitive)."""
    return Account.objects.filter(
        kind=Account.Kind.PARENT, codice_utente=codice_utente.strip().upper()
    ).first()


def account_for_codice_fiscale_login(*, codice_fiscale: str, for_update: bool = False) -> Account | None:
    """The account whose login name is this pupil's codice fiscale ("Sono un nuovo iscritto")."""
    accounts = Account.objects.filter(username=codice_fiscale.strip().upper())
    if for_update:
        accounts = accounts.select_for_update()
    return accounts.first()


def account_for_password_reset(*, identifier: str) -> Account | None:
    """A parent account named by codice utente or codice fiscale with a verified address to write to.

    Only a verified address: an address merely typed into a session is not
    proof that its owner may take the account over.
    """
    identifier = identifier.strip().upper()
    if not identifier:
        return None
    return (
        Account.objects.filter(kind=Account.Kind.PARENT, is_active=True)
        .filter(Q(codice_utente=identifier) | Q(username=identifier))
        .exclude(email="")
        .filter(email_verified_at__isnull=False)
        .order_by("id")
        .first()
    )


def email_verification_latest(*, account: Account, for_update: bool = False) -> EmailVerification | None:
    verifications = EmailVerification.objects.filter(account=account).order_by("-created_at", "-id")
    if for_update:
        verifications = verifications.select_for_update()
    return verifications.first()


def email_verifications_sent_since(*, account: Account, email: str, since: datetime) -> tuple[int, int]:
    """How many codes went to this account and to this address (any account) since `since`."""
    recent = EmailVerification.objects.filter(created_at__gte=since)
    return recent.filter(account=account).count(), recent.filter(email__iexact=email.strip()).count()
