"""The waiting room ("sala d'attesa") of a comune's portal at a window opening.

When more parents' requests are in flight on a comune than its
`waiting_room.capacity` (tenant YAML), or on all comuni with the room on
than WAITING_ROOM_GLOBAL_CAPACITY, a new arrival gets a ticket and a page
that reloads itself (position, estimated wait) instead of the portal.
Tickets are admitted strictly in arrival order, at most as many per reload
interval as there is room. An admitted browser carries a signed pass
(sliding: it lapses only after `pass_minutes` idle), so nobody inside is
sent back mid-form; signed-in parents are inside by definition, staff are
never held nor counted.

All state is in PostgreSQL (tenants.models.WaitingTicket and
InFlightRequest, public schema, each row naming its comune's schema), so
every worker process and every instance sees the same queue. Each
admission decision for a comune holds a transaction-level advisory lock of
that comune, so two workers cannot both give away the last place.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from tenants.config import WaitingRoom
from tenants.models import InFlightRequest, WaitingTicket

PASS_COOKIE = "sala_attesa_pass"  # noqa: S105 (a cookie name)
TICKET_COOKIE = "sala_attesa"
# A ticket whose page has not reloaded for this many reload intervals is
# someone who closed the tab: skipped, so the queue never stalls behind them.
STALE_AFTER_REFRESHES = 4
# How far back admissions are counted to estimate the wait.
RATE_WINDOW = timedelta(minutes=5)
# An admitted ticket lets in once: its browser gets a pass and drops the ticket. Presented
# again within this (the answer lost on a phone's network, the page reloaded) it still does;
# after, it is a copy, and one admitted ticket would let in any number of browsers.
ENTRY_GRACE = timedelta(seconds=60)
# One decision in a hundred also deletes tickets older than a day.
_PURGE_ONE_IN = 100
_TICKET_MAX_AGE = timedelta(days=1)


@dataclass(frozen=True)
class Turn:
    """The outcome for one browser: in (with its in-flight row), or waiting at `position`."""

    admitted: bool
    inflight_id: int | None = None
    ticket_id: int | None = None
    position: int = 0
    wait_seconds: int = 0


def _lock(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"sala-attesa:{schema_name}"])


def _alive_since() -> datetime:
    return timezone.now() - timedelta(seconds=settings.WAITING_ROOM_REQUEST_SECONDS)


def _free_places(schema_name: str, room: WaitingRoom) -> int:
    """Room left now: capacity minus requests in flight minus arrivals admitted this interval.

    Counting the recent admissions stops one reload wave from letting in more
    parents than there is room for before their first requests arrive.
    """
    now = timezone.now()
    recent = now - timedelta(seconds=room.refresh_seconds)
    alive = InFlightRequest.objects.filter(started_at__gt=_alive_since())
    admitted = WaitingTicket.objects.filter(admitted_at__gt=recent)
    free = (
        room.capacity
        - alive.filter(schema_name=schema_name).count()
        - admitted.filter(schema_name=schema_name).count()
    )
    global_capacity = settings.WAITING_ROOM_GLOBAL_CAPACITY
    if global_capacity:
        free = min(free, global_capacity - alive.count() - admitted.count())
    return free


def _waiting(schema_name: str, room: WaitingRoom) -> QuerySet[WaitingTicket]:
    stale = timezone.now() - timedelta(seconds=room.refresh_seconds * STALE_AFTER_REFRESHES)
    return WaitingTicket.objects.filter(schema_name=schema_name, admitted_at=None, seen_at__gt=stale)


def _enter(schema_name: str) -> int:
    return InFlightRequest.objects.create(schema_name=schema_name).pk


def _wait_estimate(schema_name: str, room: WaitingRoom, position: int) -> int:
    """Seconds, from the admissions of the last minutes; one interval per `capacity` before any."""
    admitted = WaitingTicket.objects.filter(
        schema_name=schema_name, admitted_at__gt=timezone.now() - RATE_WINDOW
    ).count()
    if admitted:
        return math.ceil(position * RATE_WINDOW.total_seconds() / admitted)
    return math.ceil(position / room.capacity) * room.refresh_seconds


def _purge() -> None:
    if secrets.randbelow(_PURGE_ONE_IN) == 0:
        WaitingTicket.objects.filter(created_at__lt=timezone.now() - _TICKET_MAX_AGE).delete()
        InFlightRequest.objects.filter(started_at__lte=_alive_since()).delete()


def request_enter(*, schema_name: str) -> int:
    """A request of a parent already inside: counted, never held. Returns its in-flight row."""
    return _enter(schema_name)


def request_leave(*, inflight_id: int) -> None:
    InFlightRequest.objects.filter(pk=inflight_id).delete()


def arrival(*, schema_name: str, room: WaitingRoom) -> Turn:
    """A browser with neither pass nor ticket: straight in if nobody waits and there is room."""
    with transaction.atomic():
        _lock(schema_name)
        _purge()
        if not _waiting(schema_name, room).exists() and _free_places(schema_name, room) > 0:
            return Turn(admitted=True, inflight_id=_enter(schema_name))
        ticket = WaitingTicket.objects.create(schema_name=schema_name)
    return _position(ticket, room)


def ticket_turn(*, schema_name: str, room: WaitingRoom, ticket_id: int) -> Turn:
    """A waiting browser reloads: admit the head of the queue as far as there is room, then see."""
    with transaction.atomic():
        _lock(schema_name)
        ticket = WaitingTicket.objects.filter(schema_name=schema_name, pk=ticket_id).first()
        if ticket is None:  # purged, or from before a restart of the queue: a new arrival
            return arrival(schema_name=schema_name, room=room)
        now = timezone.now()
        ticket.seen_at = now
        ticket.save(update_fields=["seen_at"])
        if ticket.admitted_at is None:
            free = _free_places(schema_name, room)
            if free > 0:
                head = _waiting(schema_name, room).order_by("pk").values_list("pk", flat=True)[:free]
                WaitingTicket.objects.filter(pk__in=list(head)).update(admitted_at=now)
                ticket.refresh_from_db(fields=["admitted_at"])
        if ticket.admitted_at is not None:
            if ticket.entered_at is None:
                ticket.entered_at = now
                ticket.save(update_fields=["entered_at"])
            elif ticket.entered_at < now - ENTRY_GRACE:
                # Its browser came in with it and carries a pass since: this is a copy of it, in
                # another browser, and waits like every new arrival.
                return arrival(schema_name=schema_name, room=room)
            return Turn(admitted=True, inflight_id=_enter(schema_name), ticket_id=ticket.pk)
    return _position(ticket, room)


def _position(ticket: WaitingTicket, room: WaitingRoom) -> Turn:
    position = _waiting(ticket.schema_name, room).filter(pk__lt=ticket.pk).count() + 1
    return Turn(
        admitted=False,
        ticket_id=ticket.pk,
        position=position,
        wait_seconds=_wait_estimate(ticket.schema_name, room, position),
    )


def queue_lengths() -> dict[str, int]:
    """Tickets waiting (not admitted, not abandoned) per comune schema, for the console and metrics.

    Abandoned means not seen for STALE_AFTER_REFRESHES of the longest reload
    interval allowed, since each comune's own interval is in its config.
    """
    stale = timezone.now() - timedelta(seconds=120 * STALE_AFTER_REFRESHES)
    rows = (
        WaitingTicket.objects.filter(admitted_at=None, seen_at__gt=stale)
        .values_list("schema_name")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def inflight_counts() -> dict[str, int]:
    """Parents' requests being served per comune schema (comuni with the waiting room on)."""
    rows = (
        InFlightRequest.objects.filter(started_at__gt=_alive_since())
        .values_list("schema_name")
        .annotate(n=Count("id"))
    )
    return dict(rows)


# Signed cookies. The salt carries the schema name: a pass or ticket of one
# comune means nothing on another, even if copied across hosts.


def pass_value(*, schema_name: str) -> str:
    return signing.TimestampSigner(salt=f"sala-attesa-pass:{schema_name}").sign(secrets.token_urlsafe(8))


def pass_valid(value: str | None, *, schema_name: str, room: WaitingRoom) -> bool:
    if not value:
        return False
    signer = signing.TimestampSigner(salt=f"sala-attesa-pass:{schema_name}")
    try:
        signer.unsign(value, max_age=timedelta(minutes=room.pass_minutes))
    except signing.BadSignature:  # forged, of another comune, or lapsed (SignatureExpired)
        return False
    return True


def ticket_value(*, schema_name: str, ticket_id: int) -> str:
    return signing.dumps(ticket_id, salt=f"sala-attesa-ticket:{schema_name}")


def ticket_read(value: str | None, *, schema_name: str) -> int | None:
    if not value:
        return None
    try:
        ticket_id = signing.loads(value, salt=f"sala-attesa-ticket:{schema_name}", max_age=_TICKET_MAX_AGE)
    except signing.BadSignature:
        return None
    return ticket_id if isinstance(ticket_id, int) else None
