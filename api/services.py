"""Writes on the app's tokens and one-time login codes of the current comune.

The people and the rules behind a token are identity's: these functions are
called only after `identity.services` has authenticated the account (same
lockout, same audit) and they never decide who may log in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from api.models import ApiToken, AppLoginCode
from core.services import audit_record
from identity import services as identity_services
from identity.models import Account

# Fixed lifetime, counted from issue: a stolen token stops working on a known
# date whatever its use, and the app signs in again once a month.
TOKEN_LIFETIME = timedelta(days=30)
APP_CODE_LIFETIME = timedelta(seconds=60)
# last_used_at is written at most this often: no write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # the clear value: returned once, never stored


class ExchangeError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def secret_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def token_issue(
    *, account: Account, device_name: str, backend: str, request: HttpRequest | None = None
) -> IssuedToken:
    """A new 32-byte random token for `account` on one device; audited like a login."""
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            account=account,
            key_hash=secret_hash(key),
            account_hash=account.get_session_auth_hash(),
            device_name=device_name.strip()[:100] or "App",
            backend=backend,
            created_at=now,
            expires_at=now + TOKEN_LIFETIME,
        )
        audit_record(
            action="login.success",
            actor=account,
            obj=account,
            data={"backend": backend, "channel": "api", "token": token.pk, "device": token.device_name},
            request=request,
        )
    return IssuedToken(token=token, key=key)


def token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def token_rebind(*, token: ApiToken) -> None:
    """Keep this device signed in after its own account changed password (like
    `update_session_auth_hash` for a web session)."""
    account = Account.objects.get(pk=token.account_id)
    current = account.get_session_auth_hash()
    if token.account_hash != current:  # most calls changed no password: no write
        ApiToken.objects.filter(pk=token.pk).update(account_hash=current)


def token_revoke(*, token: ApiToken, by: Account, request: HttpRequest | None = None) -> ApiToken:
    """Revoke one device's token ("Esci" on the app, or from the list of devices)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                action="api.token_revoked",
                actor=by,
                obj=token,
                data={"device": token.device_name},
                request=request,
            )
    return token


def tokens_revoke_others(
    *, account: Account, keep: ApiToken | None, request: HttpRequest | None = None
) -> int:
    """After a password change the other devices must sign in again, as web sessions do."""
    with transaction.atomic():
        others = ApiToken.objects.filter(account=account, revoked_at__isnull=True)
        if keep is not None:
            others = others.exclude(pk=keep.pk)
        count = others.update(revoked_at=timezone.now())
        if count:
            audit_record(
                action="api.tokens_revoked",
                actor=account,
                obj=account,
                data={"count": count, "reason": "password_change"},
                request=request,
            )
    return count


def password_change_on_device(
    *, request: HttpRequest, account: Account, new_password: str, token: ApiToken | None
) -> None:
    """ "Cambio Password" from the app: the calling device (`token`) stays signed in, the others end."""
    with transaction.atomic():
        identity_services.password_change(request=request, account=account, new_password=new_password)
        if token is not None:
            token_rebind(token=token)
        tokens_revoke_others(account=account, keep=token, request=request)


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def app_login_code_issue(
    *, account: Account, backend: str, code_challenge: str, request: HttpRequest | None = None
) -> str:
    """A one-time code (60 s) for the app's redirect after a web login; returned in clear once."""
    code = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        AppLoginCode.objects.create(
            account=account,
            code_hash=secret_hash(code),
            code_challenge=code_challenge,
            backend=backend,
            created_at=now,
            expires_at=now + APP_CODE_LIFETIME,
        )
        audit_record(
            action="api.app_code_issued",
            actor=account,
            obj=account,
            data={"backend": backend},
            request=request,
        )
    return code


EXCHANGE_FAILED_MESSAGE = (
    "Codice di accesso non valido, scaduto o già utilizzato: accedere di nuovo dal sito."
)


def app_login_code_exchange(
    *, code: str, code_verifier: str, device_name: str, request: HttpRequest | None = None
) -> IssuedToken:
    """Trade a one-time code and its PKCE verifier for a token.

    A code works once, within its 60 seconds, and a wrong verifier uses it up.
    """
    now = timezone.now()
    with transaction.atomic():
        row = (
            AppLoginCode.objects.select_for_update()
            .select_related("account")
            .filter(code_hash=secret_hash(code.strip()))
            .first()
        )
        if row is not None and row.used_at is None:
            usable = now < row.expires_at and row.account.is_active
            verified = usable and hmac.compare_digest(pkce_challenge(code_verifier), row.code_challenge)
            row.used_at = now
            row.save(update_fields=["used_at"])
            if verified:
                return token_issue(
                    account=row.account, device_name=device_name, backend=row.backend, request=request
                )
        audit_record(
            action="login.failure",
            data={"backend": "app_code", "reason": "codice non valido"},
            request=request,
            actor_label="anonimo",
        )
    # Outside the atomic block: the used-up code stays used up.
    raise ExchangeError(EXCHANGE_FAILED_MESSAGE)
