"""Lockout after repeated failures, on the shared state (core.shared_state).

Counts are per comune (the keys carry the schema name) and shared by every
worker process. Each attempt is counted twice: against the identifier typed
(codice utente, codice fiscale, user name, account id for codes), normalised
by `identifier_normalize` so that spacing, width or case variants are one
identifier, and against the client's IP (core.services.client_ip).

A login reserves its attempt before the password is checked
(`attempt_reserve`): the increment is atomic, so of any number of parallel
tries only the first MAX_PER_IDENTIFIER get their password checked. Reaching
a limit locks that identifier or IP for `LOCK_SECONDS`, whether or not an
account with that identifier exists, so the answer reveals nothing about
accounts.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from core import shared_state
from core.services import audit_record, client_ip
from identity.validators import identifier_normalize

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
LOCK_SECONDS = 15 * 60
MAX_PER_IDENTIFIER = 5

LOCKED_MESSAGE = "Troppi tentativi non riusciti. Per sicurezza l'accesso è bloccato: riprovare tra 15 minuti."


@dataclass(frozen=True)
class Limit:
    scope: str
    identifier: str
    ip: str
    # None: settings.LOGIN_FAILURES_PER_IP, read at each use (families share school and carrier IPs).
    ip_max: int | None = None

    def _key(self, kind: str, who: str) -> str:
        digest = hashlib.sha256(who.encode()).hexdigest()[:32]
        return f"identity:rl:{self.scope}:{kind}:{digest}"

    def _pairs(self) -> list[tuple[str, str, int]]:
        pairs = []
        if self.identifier:
            pairs.append(("id", identifier_normalize(self.identifier), MAX_PER_IDENTIFIER))
        if self.ip:
            pairs.append(("ip", self.ip, self.ip_max or settings.LOGIN_FAILURES_PER_IP))
        return pairs


def limit_for(request: HttpRequest, *, scope: str, identifier: str) -> Limit:
    return Limit(scope=scope, identifier=identifier, ip=client_ip(request) or "")


def new_accounts_limit_for(request: HttpRequest) -> Limit:
    """ "Sono un nuovo iscritto" creates an account from a codice fiscale alone:
    at most settings.NEW_ACCOUNTS_PER_IP per IP in the window (families behind
    one carrier or school address share an IP, so the bound is generous)."""
    return Limit(
        scope="nuovi_account", identifier="", ip=client_ip(request) or "", ip_max=settings.NEW_ACCOUNTS_PER_IP
    )


def is_locked(limit: Limit) -> bool:
    return any(
        shared_state.mark_exists(limit._key(f"lock-{kind}", who)) for kind, who, _max in limit._pairs()
    )


def attempt_reserve(limit: Limit) -> bool:
    """Count one login attempt before its password is checked; False means refuse without checking.

    The attempt stays counted as a failure unless `attempt_succeeded` says otherwise.
    """
    if is_locked(limit):
        return False
    allowed = True
    for kind, who, maximum in limit._pairs():
        if shared_state.counter_incr(limit._key(f"n-{kind}", who), window=WINDOW_SECONDS) > maximum:
            allowed = False
    return allowed


def _lock_if_reached(limit: Limit, count_of: Callable[[str], int], *, request: HttpRequest | None) -> bool:
    """Lock every counter of `limit` whose count (read or increased by `count_of`) reached its maximum."""
    locked = False
    for kind, who, maximum in limit._pairs():
        count = count_of(limit._key(f"n-{kind}", who))
        if count >= maximum:
            _lock(limit, kind, who, count, request=request)
            locked = True
    return locked


def attempt_failed(limit: Limit, *, request: HttpRequest | None = None) -> bool:
    """After a reserved attempt failed: True when the failures so far locked the identifier or the IP."""
    return _lock_if_reached(limit, shared_state.counter_get, request=request)


def attempt_succeeded(limit: Limit) -> None:
    """The identifier starts again from zero; the IP gets back the slot this attempt reserved."""
    failures_clear(limit)
    for kind, who, _maximum in limit._pairs():
        if kind == "ip":
            shared_state.counter_decr(limit._key("n-ip", who))


def failure_record(limit: Limit, *, request: HttpRequest | None = None) -> bool:
    """Count one failure after the fact (codes, reset requests); True when it locked."""
    return _lock_if_reached(
        limit, lambda key: shared_state.counter_incr(key, window=WINDOW_SECONDS), request=request
    )


def failures_clear(limit: Limit) -> None:
    """After a success, the identifier starts again from zero (the IP does not)."""
    for kind, who, _maximum in limit._pairs():
        if kind == "id":
            shared_state.counter_delete(limit._key("n-id", who))


def _lock(limit: Limit, kind: str, who: str, count: int, *, request: HttpRequest | None) -> None:
    """Lock for LOCK_SECONDS; only the request that set the lock writes the audit entry."""
    if not shared_state.mark_add(limit._key(f"lock-{kind}", who), ttl=LOCK_SECONDS):
        return
    logger.warning("lockout scope=%s on %s (%s failures)", limit.scope, kind, count)
    audit_record(
        action="login.lockout",
        message=f"{limit.scope}: bloccato per {kind} dopo {count} tentativi",
        data={"scope": limit.scope, "on": kind, "identifier": limit.identifier[:40]},
        request=request,
        actor_label=limit.identifier[:40] or "anonimo",
    )
