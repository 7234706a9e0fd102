"""This process's copy of host → comune, kept current by PostgreSQL's notifications.

The portal home makes no query of its own once its caches are warm, so the
host lookup in the shared cache was its only round trip: a fifth of its
cost. Here each process keeps the comuni it served, for at most
`LOCAL_SECONDS`, and forgets one the moment PostgreSQL says it changed.

- Triggers on `tenants_comune` and `tenants_domain` (tenants migration 0005)
  send `pg_notify(CHANNEL, <comune id>)` for every row written, by any code,
  the console or psql alike, and `*` for a TRUNCATE. PostgreSQL delivers a
  notification only after its transaction commits, and drops it on rollback.
- One daemon thread per process LISTENs on its own connection and forgets
  the entries of each comune named. It pings that connection every
  `PING_SECONDS`; when the connection fails it forgets everything and the
  process uses the shared cache (tenants.middleware) until it is listening
  again. Entries are only ever kept while it listens.
- A lookup remembers the `generation` it started under; its answer is kept
  only if no notification (or reconnection) arrived meanwhile, so a row read
  just before a change cannot outlive the change's notification.
- The process that makes a change also forgets it at once
  (tenants.services._forget_hosts), without waiting for its own notification:
  that is also what a test inside a rolled-back transaction sees.

Nothing security relies on lives only here: a comune's status, hosts and
config are read from PostgreSQL; this holds a copy for at most a minute, the
shared cache's own lifetime, and for milliseconds after a committed change
while the listener runs. Off in the test profile (`HOSTS_LOCAL_CACHE`): a
test's rolled-back writes send no notification, so only the tests that turn
it on commit theirs (tests/tenants/test_host_cache.py).
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from prometheus_client import Counter, Gauge

from tenants.models import Comune

logger = logging.getLogger(__name__)

CHANNEL = "iscrizioni_comuni"
ALL = "*"
LOCAL_SECONDS = 60.0
MAX_HOSTS = 5_000
PING_SECONDS = 15.0
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)
_WAIT_STEP = 1.0

# /metrics (superadmin.metrics): how many web processes listen now, against
# how many there are; a lost listener costs speed (the shared cache answers), not correctness.
LISTENING = Gauge(
    "iscrizioni_host_cache_listening",
    "Processes whose host copy is listening for changes to comuni and hosts",
    multiprocess_mode="livesum",
)
CONNECTIONS_LOST = Counter(
    "iscrizioni_host_cache_connections_lost",
    "Times a process's host-copy listener lost its connection",
)


@dataclass
class _Entry:
    comune_id: int
    pickled: bytes
    expires: float


@dataclass
class _State:
    lock: threading.Condition = field(default_factory=threading.Condition)
    entries: OrderedDict[str, _Entry] = field(default_factory=OrderedDict)
    generation: int = 0
    listening: bool = False
    connects: int = 0
    backend_pid: int | None = None
    thread: threading.Thread | None = None
    stop: threading.Event = field(default_factory=threading.Event)


_state: _State | None = None
_state_lock = threading.Lock()


def _forget_after_fork() -> None:
    # A forked child (a gunicorn worker) has neither the parent's listener
    # thread nor a right to its connection: it starts its own on first use.
    global _state, _state_lock
    _state = None
    _state_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def enabled() -> bool:
    return bool(getattr(settings, "HOSTS_LOCAL_CACHE", False))


def _current() -> _State:
    """This process's state, the listener started on first use (after a fork, afresh)."""
    global _state
    state = _state
    if state is not None:
        return state
    with _state_lock:
        if _state is None:
            _state = _State()
            _state.thread = threading.Thread(
                target=_listen, args=(_state,), name="host-cache-listener", daemon=True
            )
            _state.thread.start()
        return _state


def get(hostname: str) -> Comune | None:
    """A fresh copy of the comune this process keeps for `hostname`, or None."""
    state = _current()
    now = time.monotonic()
    with state.lock:
        entry = state.entries.get(hostname)
        if entry is None or not state.listening:
            return None
        if entry.expires <= now:
            del state.entries[hostname]
            return None
        pickled = entry.pickled
    comune: Comune = pickle.loads(pickled)  # noqa: S301 (bytes this process made)
    return comune


def generation() -> int | None:
    """The generation a lookup starts under, or None when nothing may be kept now."""
    state = _current()
    with state.lock:
        return state.generation if state.listening else None


def put(hostname: str, comune: Comune, *, since: int) -> bool:
    """Keep `comune` for `hostname` unless anything changed since generation `since`."""
    pickled = pickle.dumps(comune)
    state = _current()
    with state.lock:
        if not state.listening or state.generation != since:
            return False
        state.entries[hostname] = _Entry(comune.pk, pickled, time.monotonic() + LOCAL_SECONDS)
        state.entries.move_to_end(hostname)
        while len(state.entries) > MAX_HOSTS:
            state.entries.popitem(last=False)
        return True


def forget_hosts(hosts: list[str]) -> None:
    """Forget `hosts` in this process now (the change's own notification follows)."""
    state = _state
    if state is None:
        return
    with state.lock:
        for host in hosts:
            state.entries.pop(host, None)
        _changed(state)


def _forget(state: _State, payload: str) -> None:
    with state.lock:
        if payload == ALL:
            state.entries.clear()
        else:
            try:
                comune_id = int(payload)
            except ValueError:
                logger.warning("host_cache_bad_payload", extra={"payload": payload[:40]})
                state.entries.clear()
            else:
                for host in [h for h, e in state.entries.items() if e.comune_id == comune_id]:
                    del state.entries[host]
        _changed(state)


def _changed(state: _State) -> None:
    state.generation += 1
    state.lock.notify_all()


def _connect_kwargs() -> dict[str, Any]:
    params = dict(connections["default"].get_connection_params())
    # Django's own cursor and adapter choices are for its connections, not this one.
    for key in ("cursor_factory", "context", "prepare_threshold", "server_side_binding"):
        params.pop(key, None)
    params["autocommit"] = True
    params["application_name"] = "iscrizioni host cache"
    return params


def _listen(state: _State) -> None:
    failures = 0
    while not state.stop.is_set():
        try:
            with psycopg.connect(**_connect_kwargs()) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                with state.lock:
                    # Whatever changed while nobody listened is unknown: start empty.
                    state.entries.clear()
                    state.listening = True
                    state.connects += 1
                    state.backend_pid = conn.info.backend_pid
                    LISTENING.set(1)
                    _changed(state)
                failures = 0
                pinged = time.monotonic()
                while not state.stop.is_set():
                    for notify in conn.notifies(timeout=_WAIT_STEP):
                        _forget(state, notify.payload)
                    if time.monotonic() - pinged >= PING_SECONDS:
                        conn.execute("SELECT 1")
                        pinged = time.monotonic()
        except Exception:
            logger.warning("host_cache_listener_lost", exc_info=True)
            CONNECTIONS_LOST.inc()
            failures += 1
        finally:
            with state.lock:
                LISTENING.set(0)
                state.listening = False
                state.entries.clear()
                state.backend_pid = None
                _changed(state)
        if not state.stop.is_set():
            # Only an error ends the inner loop before a stop: failures >= 1.
            state.stop.wait(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])


def wait_until(predicate: Callable[[_State], bool], timeout: float) -> bool:
    """Wait for `predicate(state)` to hold after a notification, a reconnection or a forget (tests)."""
    state = _current()
    deadline = time.monotonic() + timeout
    with state.lock:
        while not predicate(state):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            state.lock.wait(min(left, _WAIT_STEP))
        return True


def stop() -> None:
    """Stop this process's listener and forget everything (tests: before the database is dropped)."""
    global _state
    with _state_lock:
        state, _state = _state, None
    if state is None:
        return
    state.stop.set()
    if state.thread is not None:
        state.thread.join()
