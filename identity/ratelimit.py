"""Lockout after repeated failures, on Django's cache.

Cache keys carry the schema name (django_tenants.cache.make_key), so every
count is per comune. Each failure is counted twice: against the identifier
typed (codice utente, codice fiscale, account id for codes) and against the
client's IP. Reaching a limit inside the window locks that identifier or IP
for `LOCK_SECONDS`, whether or not an account with that identifier exists,
so the answer reveals nothing about accounts.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

from core.services import audit_record, client_ip

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
LOCK_SECONDS = 15 * 60
MAX_PER_IDENTIFIER = 5
MAX_PER_IP = 20

LOCKED_MESSAGE = "Troppi tentativi non riusciti. Per sicurezza l'accesso è bloccato: riprovare tra 15 minuti."


@dataclass(frozen=True)
class Limit:
    scope: str
    identifier: str
    ip: str
    ip_max: int = MAX_PER_IP

    def _key(self, kind: str, who: str) -> str:
        digest = hashlib.sha256(who.encode()).hexdigest()[:32]
        return f"identity:rl:{self.scope}:{kind}:{digest}"

    def _pairs(self) -> list[tuple[str, str, int]]:
        pairs = []
        if self.identifier:
            pairs.append(("id", self.identifier.strip().upper(), MAX_PER_IDENTIFIER))
        if self.ip:
            pairs.append(("ip", self.ip, self.ip_max))
        return pairs


def limit_for(request: HttpRequest, *, scope: str, identifier: str) -> Limit:
    return Limit(scope=scope, identifier=identifier, ip=client_ip(request) or "")


# "Sono un nuovo iscritto" creates an account from a codice fiscale alone:
# at most this many per IP in the window (families behind one carrier or
# school address share an IP, so the bound is generous).
MAX_NEW_ACCOUNTS_PER_IP = 30


def new_accounts_limit_for(request: HttpRequest) -> Limit:
    return Limit(
        scope="nuovi_account", identifier="", ip=client_ip(request) or "", ip_max=MAX_NEW_ACCOUNTS_PER_IP
    )


def is_locked(limit: Limit) -> bool:
    return any(cache.get(limit._key(f"lock-{kind}", who)) for kind, who, _max in limit._pairs())


def failure_record(limit: Limit, *, request: HttpRequest | None = None) -> bool:
    """Count one failure; return True when it locked the identifier or the IP."""
    locked = False
    for kind, who, maximum in limit._pairs():
        key = limit._key(f"n-{kind}", who)
        # add() starts the window only on the first failure; incr() keeps it.
        if not cache.add(key, 1, WINDOW_SECONDS):
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.set(key, 1, WINDOW_SECONDS)
                count = 1
        else:
            count = 1
        if count >= maximum and cache.add(limit._key(f"lock-{kind}", who), True, LOCK_SECONDS):
            locked = True
            logger.warning("lockout scope=%s on %s (%s failures)", limit.scope, kind, count)
            audit_record(
                action="login.lockout",
                message=f"{limit.scope}: bloccato per {kind} dopo {count} tentativi",
                data={"scope": limit.scope, "on": kind, "identifier": limit.identifier[:40]},
                request=request,
                actor_label=limit.identifier[:40] or "anonimo",
            )
    return locked


def failures_clear(limit: Limit) -> None:
    """After a success, the identifier starts again from zero (the IP does not)."""
    cache.delete(limit._key("n-id", limit.identifier.strip().upper()))
