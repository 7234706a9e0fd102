"""How the API knows who is calling: app tokens, web sessions, and the parent checks.

`Authorization: Bearer <token>` is looked up in the schema of the host's
comune, so a token of another comune is simply unknown here (401). A web page
of the same host may call the API with its session instead; then Django's
CSRF check applies as on every form.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.crypto import constant_time_compare
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from api import services
from api.models import ApiToken
from api.selectors import token_for_key
from core import shared_state
from core.services import client_ip
from identity.models import Account
from identity.services import temporary_password_issued_here

BEARER = "Bearer"


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Account, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != BEARER.lower():
            return None
        key = key.strip()
        if not key or " " in key:
            raise exceptions.AuthenticationFailed(
                "Intestazione Authorization non valida: usare 'Bearer <token>'.", code="invalid_token"
            )
        token = token_for_key(key=key)
        if (
            token is None
            or not token.is_valid()
            or not token.account.is_active
            or not constant_time_compare(token.account_hash, token.account.get_session_auth_hash())
        ):
            raise exceptions.AuthenticationFailed(
                "Token non valido, scaduto o revocato: accedere di nuovo.", code="invalid_token"
            )
        services.token_touch(token=token)
        return token.account, token

    def authenticate_header(self, request: Request) -> str:
        # A 401 (not 403) for a missing or bad token, with the scheme to use.
        return f'{BEARER} realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The web portal's session, with the CSRF check and an Italian refusal."""

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as exc:
            raise CsrfFailed() from exc


class CsrfFailed(exceptions.PermissionDenied):
    default_detail = "Verifica CSRF non riuscita: ricaricare la pagina e riprovare."
    default_code = "csrf_failed"


class PasswordChangeRequired(exceptions.PermissionDenied):
    default_detail = "Prima di continuare è necessario cambiare la password (POST /api/v1/me/password/)."
    default_code = "password_change_required"


class EmailVerificationRequired(exceptions.PermissionDenied):
    default_detail = (
        "Prima di continuare è necessario verificare l'indirizzo email "
        "(POST /api/v1/me/email/send/ e poi /api/v1/me/email/confirm/)."
    )
    default_code = "email_verification_required"


class NotParent(exceptions.PermissionDenied):
    default_detail = "Questa funzione è riservata ai genitori/tutori."
    default_code = "parent_required"


def current_token(request: Request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


def caller(request: Request) -> Account:
    """The account of a request that passed IsParent (DRF types ``request.user`` for any request)."""
    user = request.user
    if not isinstance(user, Account):
        raise exceptions.NotAuthenticated()
    return user


def keep_this_device(request: Request) -> None:
    """After a save by this caller that set its temporary password (the first save of a
    codice-fiscale account), its token stays valid; the others end. Only this request's
    own issue counts: a token whose request ran beside the one that set it (another
    device on the same empty account) ends with the others."""
    token = current_token(request)
    if token is not None and temporary_password_issued_here(caller(request)):
        services.token_rebind(token=token)


class IsParent(permissions.BasePermission):
    """A signed-in parent account of this comune (by token or session)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False  # DRF answers 401 with the authenticate header
        if getattr(user, "kind", None) != Account.Kind.PARENT:
            raise NotParent()
        return True


class ParentReady(IsParent):
    """A parent who has done the forced steps, in the web's order (identity.access)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        account = caller(request)
        if account.must_change_password:
            raise PasswordChangeRequired()
        if account.email_verified_at is None:
            raise EmailVerificationRequired()
        return True


def next_step(account: Account) -> str | None:
    """The forced step the parent must do next, as the API names it."""
    if account.must_change_password:
        return "password_change"
    if account.email_verified_at is None:
        return "email_verification"
    return None


class _ConfiguredRateThrottle(throttling.BaseThrottle):
    """`scope`'s rate from settings.API_THROTTLE_RATES, read at each request (tests may change them).

    One atomic counter per caller on the shared state (core.shared_state: one
    INSERT ... ON CONFLICT on PostgreSQL, INCR on Redis), its window starting
    at the caller's first request. DRF's own throttles keep a list of
    timestamps in the cache with a read and a write: not atomic (parallel
    requests all read the same history and all pass) and, on the database
    cache, six queries per throttle per request. The window is fixed, not
    sliding: a caller may fit up to twice its rate around a window's end.
    Keys carry the schema name: counts are per comune.
    """

    scope: str  # each throttle names its rate

    def get_ident_key(self, request: Request) -> str | None:
        raise NotImplementedError

    def counter(self, request: Request) -> tuple[str, int, int] | None:
        """This request's counter: its key, window in seconds and allowed count (None: not counted)."""
        rate = settings.API_THROTTLE_RATES.get(self.scope)
        ident = self.get_ident_key(request)
        if rate is None or ident is None:
            return None
        allowed, seconds = self.parse_rate(rate)
        return f"api:throttle:{self.scope}:{ident}", seconds, allowed

    def allow_request(self, request: Request, view: Any) -> bool:
        counter = self.counter(request)
        if counter is None:
            return True
        self.key, window, allowed = counter
        return shared_state.counter_incr(self.key, window=window) <= allowed

    def wait(self) -> float | None:
        return shared_state.counter_seconds_left(self.key) or None

    @staticmethod
    def parse_rate(rate: str) -> tuple[int, int]:
        """Read "120/min" as (120, 60), as DRF does."""
        allowed, seconds = throttling.SimpleRateThrottle.parse_rate(None, rate)  # type: ignore[arg-type]
        assert allowed is not None and seconds is not None
        return allowed, seconds


class UserThrottle(_ConfiguredRateThrottle):
    scope = "user"

    def get_ident_key(self, request: Request) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return str(request.user.pk)


class IpThrottle(_ConfiguredRateThrottle):
    scope = "ip"

    def get_ident_key(self, request: Request) -> str | None:
        return self.get_ident(request)

    def get_ident(self, request: Request) -> str:
        # DRF's own reading trusts any X-Forwarded-For; ours only the proxies'.
        return client_ip(request) or ""


class AccountAndIpThrottle(throttling.BaseThrottle):
    """UserThrottle and IpThrottle together, the API's default: both counters in one statement.

    Every API request counts against its account and its address, so at a
    window's opening the two upserts were two of a submission's sixteen
    round trips. The counts and refusals are the two throttles' own.
    """

    parts = (UserThrottle, IpThrottle)

    def allow_request(self, request: Request, view: Any) -> bool:
        counters = [c for c in (part().counter(request) for part in self.parts) if c is not None]
        counts = shared_state.counters_incr({key: window for key, window, _ in counters})
        self.exceeded = [key for key, _, allowed in counters if counts[key] > allowed]
        return not self.exceeded

    def wait(self) -> float | None:
        return max(shared_state.counter_seconds_left(key) for key in self.exceeded) or None


class LoginThrottle(IpThrottle):
    """The endpoints that take secrets (token, exchange, codes): tighter, per IP."""

    scope = "login"
