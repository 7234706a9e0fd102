"""Security state shared by every worker process: attempt counters and single-use marks.

Lockouts and SAML replay marks must hold across gunicorn workers and hosts,
and their updates must be atomic (two requests at the same instant must not
both read "4 attempts" and both go on). With Redis as the default cache
(CACHE_URL=redis://...) the cache's atomic SET NX and INCR do it; otherwise
the `shared_counter` table in the public schema (tenants migration 0002)
with INSERT ... ON CONFLICT. Every key carries the schema name: nothing is
shared between comuni.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from core.tenancy import current_schema

# One upsert in a hundred also deletes expired rows, so identifiers that are
# never tried again do not pile up.
_PURGE_ONE_IN = 100


def _uses_redis() -> bool:
    return isinstance(caches["default"], RedisCache)


def _table() -> str:
    return f"{connection.ops.quote_name(settings.PUBLIC_SCHEMA_NAME)}.shared_counter"


def _key(name: str) -> str:
    return f"{current_schema()}:{name}"


def counter_incr(name: str, *, window: int) -> int:
    """Add one to the counter `name` and return the new value; it restarts after `window` seconds."""
    return counters_incr({name: window})[name]


def counters_incr(windows: dict[str, int]) -> dict[str, int]:
    """Add one to each counter named in `windows` (name: its window in seconds), in one round trip.

    An API request counts against its account and its address at once: one
    statement for both, not one each. The rows are written in the keys'
    order, so two requests that share counters cannot deadlock.
    """
    if _uses_redis():
        return {name: _redis_incr(name, window) for name, window in windows.items()}
    if not windows:
        return {}
    names = sorted(windows)
    keys = {_key(name): name for name in names}
    table = _table()
    # clock_timestamp(), not now(): now() stays at the start of the transaction,
    # so a counter read inside a long one would never expire.
    rows = ", ".join(["(%s, 1, clock_timestamp() + make_interval(secs => %s))"] * len(names))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS c (key, count, expires_at) VALUES {rows} "  # noqa: S608 (table name is ours)
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN c.expires_at <= clock_timestamp() THEN 1 ELSE c.count + 1 END, "
            "expires_at = CASE WHEN c.expires_at <= clock_timestamp() "
            "THEN EXCLUDED.expires_at ELSE c.expires_at END "
            "RETURNING key, count",
            [value for name in names for value in (_key(name), windows[name])],
        )
        counts = {keys[key]: int(count) for key, count in cursor.fetchall()}
        if secrets.randbelow(_PURGE_ONE_IN) == 0:
            cursor.execute(f"DELETE FROM {table} WHERE expires_at <= clock_timestamp()")  # noqa: S608
    return counts


def _redis_incr(name: str, window: int) -> int:
    for _ in range(3):
        cache.add(name, 0, window)
        try:
            return cache.incr(name)
        except ValueError:  # expired between add() and incr()
            continue
    raise RuntimeError(f"counter {name} expires faster than it can be increased")


def counter_decr(name: str) -> None:
    """Give one back (never below zero); a missing or expired counter stays so."""
    if _uses_redis():
        try:
            if cache.decr(name) < 0:
                cache.delete(name)
        except ValueError:
            pass
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table()} SET count = GREATEST(count - 1, 0) "  # noqa: S608
            "WHERE key = %s AND expires_at > clock_timestamp()",
            [_key(name)],
        )


def counter_get(name: str) -> int:
    if _uses_redis():
        return int(cache.get(name) or 0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count FROM {_table()} WHERE key = %s AND expires_at > clock_timestamp()",  # noqa: S608
            [_key(name)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def counter_seconds_left(name: str) -> float:
    """Seconds until the counter `name` restarts (0 if it is missing or expired)."""
    if _uses_redis():
        # Django's RedisCache has no ttl(); its client (redis-py) does.
        client = cache._cache.get_client(write=False)  # type: ignore[attr-defined]
        return max(float(client.ttl(cache.make_and_validate_key(name))), 0.0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT GREATEST(EXTRACT(EPOCH FROM expires_at - clock_timestamp()), 0) FROM {_table()} "  # noqa: S608
            "WHERE key = %s",
            [_key(name)],
        )
        row = cursor.fetchone()
    return float(row[0]) if row else 0.0


def counter_delete(name: str) -> None:
    if _uses_redis():
        cache.delete(name)
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_table()} WHERE key = %s", [_key(name)])  # noqa: S608


def mark_add(name: str, *, ttl: int) -> bool:
    """Set the mark `name` for `ttl` seconds; False if it was already set (exactly one caller wins)."""
    if _uses_redis():
        return bool(cache.add(name, 1, ttl))
    with connection.cursor() as cursor:
        # A row whose mark has expired is taken over; a live one is left alone
        # and RETURNING gives nothing, also for the loser of a concurrent insert.
        cursor.execute(
            f"INSERT INTO {_table()} AS c (key, count, expires_at) "  # noqa: S608
            "VALUES (%s, 1, clock_timestamp() + make_interval(secs => %s)) "
            "ON CONFLICT (key) DO UPDATE SET count = 1, expires_at = EXCLUDED.expires_at "
            "WHERE c.expires_at <= clock_timestamp() RETURNING 1",
            [_key(name), ttl],
        )
        return cursor.fetchone() is not None


def mark_exists(name: str) -> bool:
    return counter_get(name) > 0
