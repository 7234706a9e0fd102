"""Writes of the operators' console that are not about a comune's config:
the operators' second factor and the acceptance of a comune administrator's
invitation (on the comune's host)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from core.services import audit_record
from superadmin import totp
from superadmin.models import OperatorSecondFactor

MAX_FAILED_CODES = 5
LOCK_MINUTES = 15


class SecondFactorError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def second_factor_enrol_start(*, account: Any) -> OperatorSecondFactor:
    """The operator's pending (unconfirmed) secret, created on first visit.

    A confirmed secret is never replaced here: that would let anyone holding
    the password alone swap the operator's authenticator.
    """
    with transaction.atomic():
        factor, _ = OperatorSecondFactor.objects.select_for_update().get_or_create(
            account=account, defaults={"secret": totp.secret_new()}
        )
    return factor


def second_factor_verify(
    *, account: Any, code: str, request: HttpRequest | None = None
) -> OperatorSecondFactor:
    """Check a code; the first good one also confirms a pending enrolment.

    Raises SecondFactorError for a wrong, reused or locked-out attempt.
    """
    now = timezone.now()
    # Failures are committed before raising, so the attempt counter and the
    # audit entry survive the refusal.
    problem = ""
    with transaction.atomic():
        factor = OperatorSecondFactor.objects.select_for_update().filter(account=account).first()
        if factor is None:
            raise SecondFactorError("Nessun secondo fattore attivato per questo operatore.")
        if factor.locked_until and factor.locked_until > now:
            raise SecondFactorError(
                f"Troppi codici errati: riprova dopo le {timezone.localtime(factor.locked_until):%H:%M}."
            )
        step = totp.matching_step(factor.secret, code, after_step=factor.last_used_step)
        if step is None:
            factor.failed_attempts += 1
            if factor.failed_attempts >= MAX_FAILED_CODES:
                factor.failed_attempts = 0
                factor.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            factor.save(update_fields=["failed_attempts", "locked_until"])
            audit_record(action="operatore.codice_errato", actor=account, obj=factor, request=request)
            problem = (
                "Codice non valido: inserisci le 6 cifre mostrate ora dall'app di autenticazione "
                "(ogni codice vale una sola volta)."
            )
        else:
            first = not factor.is_confirmed
            factor.last_used_step = step
            factor.failed_attempts = 0
            factor.locked_until = None
            if first:
                factor.confirmed_at = now
            factor.save()
            audit_record(
                action="operatore.secondo_fattore_attivato" if first else "operatore.accesso_completato",
                actor=account,
                obj=factor,
                request=request,
            )
    if problem:
        raise SecondFactorError(problem)
    return factor


def invitation_accept(*, account: Any, password: str, request: HttpRequest | None = None) -> None:
    """A comune administrator sets the first password from the invitation link.

    Setting the password changes the hash the token was made from, so the
    link stops working after this call.
    """
    with transaction.atomic():
        account.set_password(password)
        account.save(update_fields=["password"])
        audit_record(action="account.invito_accettato", actor=account, obj=account, request=request)
