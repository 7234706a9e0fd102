"""E-mail verification ("Verifica Email" → "Codice sicurezza" → "Conferma"): a one-time
code with expiry, a bound on wrong attempts and a bound on sends."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from core.services import audit_record, email_enqueue
from identity import ratelimit
from identity.access import signed_in_with_secret
from identity.models import Account, EmailVerification
from identity.selectors import comune_current, email_verification_latest, email_verifications_sent_since
from identity.services import AccessError, email_mask

OTP_LIFETIME = timedelta(minutes=10)
OTP_MAX_WRONG = 5
OTP_SENDS_MAX = 3
OTP_SENDS_WINDOW = timedelta(minutes=15)


def email_verification_send(
    *, request: HttpRequest, account: Account, email: str, login_backend: str
) -> EmailVerification:
    """Send a new "Codice sicurezza" to `email`; the previous code of the account stops working.

    At most OTP_SENDS_MAX sends per OTP_SENDS_WINDOW for the account and for
    the address (in this comune). `login_backend` is how the caller signed in
    (session or app token): a verified address is replaced only by someone
    who signed in with a password or SPID/CIE, never by the codice fiscale
    alone.
    """
    email = email.strip()
    if (
        account.email_verified_at is not None
        and email.casefold() != account.email.casefold()
        and not signed_in_with_secret(login_backend)
    ):
        raise AccessError(
            "Per cambiare l'indirizzo email già verificato è necessario accedere con la password "
            "(o con SPID/CIE).",
            field="email",
        )
    since = timezone.now() - OTP_SENDS_WINDOW
    by_account, by_address = email_verifications_sent_since(account=account, email=email, since=since)
    if by_account >= OTP_SENDS_MAX or by_address >= OTP_SENDS_MAX:
        raise AccessError(
            f"Sono già stati inviati {OTP_SENDS_MAX} codici negli ultimi 15 minuti. "
            "Attendere qualche minuto prima di richiederne un altro.",
            field="email",
        )
    code = f"{secrets.randbelow(10**6):06d}"
    comune = comune_current()
    now = timezone.now()
    with transaction.atomic():
        verification = EmailVerification.objects.create(
            account=account,
            email=email,
            code_hash=make_password(code),
            created_at=now,
            expires_at=now + OTP_LIFETIME,
        )
        verification.outgoing_email = email_enqueue(
            to=[email],
            subject=f"Codice sicurezza - {comune.display_name}",
            body=(
                f"Gentile utente,\n\n"
                f"il codice sicurezza per verificare questo indirizzo email sul Portale Iscrizioni "
                f"Online {comune.display_name_with_article} è:\n\n"
                f"    {code}\n\n"
                f"Il codice vale 10 minuti e una sola volta. Se non ha richiesto il codice, "
                f"ignori questo messaggio.\n\n{comune.display_name}\n"
            ),
            purpose="email_verification",
            valid_for=OTP_LIFETIME,
        )
        verification.save(update_fields=["outgoing_email"])
        audit_record(
            action="email.otp_sent", actor=account, obj=account, data={"email": email}, request=request
        )
    return verification


def email_verification_confirm(*, request: HttpRequest, account: Account, code: str) -> None:
    """Check the latest code of the account; on success its address becomes the verified one."""
    limit = ratelimit.limit_for(request, scope="otp", identifier=str(account.pk))
    if ratelimit.is_locked(limit):
        raise AccessError(ratelimit.LOCKED_MESSAGE, field="code")
    with transaction.atomic():
        verification = email_verification_latest(account=account, for_update=True)
        if verification is None:
            raise AccessError(
                "Nessun codice sicurezza richiesto: premere Indietro e inviare l'email.", field="code"
            )
        if verification.used_at is not None:
            raise AccessError(
                "Questo codice sicurezza è già stato utilizzato. Per verificare un altro indirizzo "
                "premere Indietro e richiedere un nuovo codice.",
                field="code",
            )
        if verification.failed_attempts >= OTP_MAX_WRONG:
            raise AccessError(
                "Troppi tentativi errati per questo codice sicurezza. Premere Indietro e "
                "richiederne uno nuovo.",
                field="code",
            )
        if timezone.now() >= verification.expires_at:
            raise AccessError(
                "Il codice sicurezza è scaduto (vale 10 minuti). Premere Indietro e richiederne uno nuovo.",
                field="code",
            )
        if not check_password(code.strip(), verification.code_hash):
            verification.failed_attempts += 1
            verification.save(update_fields=["failed_attempts"])
            wrong = verification.failed_attempts
        else:
            wrong = 0
            now = timezone.now()
            verification.used_at = now
            verification.save(update_fields=["used_at"])
            previous = account.email if account.email_verified_at is not None else ""
            account.email = verification.email
            account.email_verified_at = now
            account.save(update_fields=["email", "email_verified_at"])
            audit_record(
                action="email.verified",
                actor=account,
                obj=account,
                data={"email": verification.email, "previous": previous},
                request=request,
            )
            if previous and previous.casefold() != verification.email.casefold():
                _email_change_notify(account=account, previous=previous)
    if wrong:
        # Outside the atomic block: the counted failure must stay committed.
        ratelimit.failure_record(limit, request=request)
        audit_record(action="email.otp_wrong", actor=account, obj=account, request=request)
        left = OTP_MAX_WRONG - wrong
        if left <= 0:
            raise AccessError(
                "Codice sicurezza errato. Troppi tentativi errati per questo codice: premere Indietro "
                "e richiederne uno nuovo.",
                field="code",
            )
        raise AccessError(f"Codice sicurezza errato. Tentativi rimasti: {left}.", field="code")
    ratelimit.failures_clear(limit)


def _email_change_notify(*, account: Account, previous: str) -> None:
    """Tell the old address that the account's address changed: a takeover does not go unseen."""
    comune = comune_current()
    email_enqueue(
        to=[previous],
        subject=f"Indirizzo email modificato - {comune.display_name}",
        body=(
            f"Gentile utente,\n\n"
            f"l'indirizzo email dell'accesso {account.codice_utente or account.username} al Portale "
            f"Iscrizioni Online {comune.display_name_with_article} è stato cambiato in "
            f"{email_mask(account.email)}.\n"
            f"Da ora le comunicazioni e il recupero della password vanno al nuovo indirizzo.\n\n"
            f"Se non ha fatto lei la modifica, contatti subito l'ufficio.\n\n{comune.display_name}\n"
        ),
        purpose="email_changed",
    )
