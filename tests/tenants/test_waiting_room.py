"""The waiting room: off by default, FIFO admission, passes, bypasses, forgery and isolation.

"Requests in flight" of other parents are held open with the same function
the middleware calls when it lets a request in (`request_enter`), so that a
test can fill a comune's capacity without threads.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from identity.models import Account
from tenants import waiting_room
from tenants.config import WaitingRoom
from tenants.models import Comune, InFlightRequest, WaitingTicket
from tenants.services import comune_config_save
from tests.conftest import PALOSCO_HOST, ROMANO_HOST

WAITING = "Sala d'attesa"


def room_on(comune: Comune, **fields: object) -> WaitingRoom:
    room = WaitingRoom.model_validate({"enabled": True, "capacity": 1, **fields})
    comune_config_save(config=comune.settings.model_copy(update={"waiting_room": room}))
    return room


def occupied(comune: Comune, n: int = 1) -> list[int]:
    return [waiting_room.request_enter(schema_name=comune.schema_name) for _ in range(n)]


def release(ids: list[int]) -> None:
    for inflight_id in ids:
        waiting_room.request_leave(inflight_id=inflight_id)


def interval_passes(comune: Comune) -> None:
    """One reload interval later: admissions stop counting as arrivals still to come."""
    WaitingTicket.objects.filter(schema_name=comune.schema_name).exclude(admitted_at=None).update(
        admitted_at=timezone.now() - timedelta(minutes=1)
    )


def is_waiting(response) -> bool:  # type: ignore[no-untyped-def]
    return WAITING in response.content.decode()


def position(response) -> int:  # type: ignore[no-untyped-def]
    html = response.content.decode()
    return int(html.split("Il tuo posto in coda: <strong>")[1].split("<")[0])


def test_off_by_default_and_costs_nothing(palosco: Comune, romano: Comune) -> None:
    assert not palosco.settings.waiting_room.enabled and not romano.settings.waiting_room.enabled
    for host in (PALOSCO_HOST, ROMANO_HOST):
        response = Client(HTTP_HOST=host).get("/")
        assert response.status_code == 200 and not is_waiting(response)
        assert waiting_room.PASS_COOKIE not in response.cookies
    assert not InFlightRequest.objects.exists() and not WaitingTicket.objects.exists()


def test_room_enabled_from_the_yaml_block(palosco: Comune) -> None:
    from tenants.config import ComuneConfig

    data = palosco.settings.model_dump(mode="json")
    data["waiting_room"] = {"enabled": True, "capacity": 200}
    cfg = ComuneConfig.model_validate(data)
    assert cfg.waiting_room == WaitingRoom(enabled=True, capacity=200, refresh_seconds=15, pass_minutes=30)
    data["waiting_room"] = {"enabled": True, "capacity": 0}
    with pytest.raises(ValueError, match="capacity"):
        ComuneConfig.model_validate(data)


def test_straight_in_with_room_then_a_pass(palosco: Comune) -> None:
    room_on(palosco)
    client = Client(HTTP_HOST=PALOSCO_HOST)
    response = client.get("/")
    assert response.status_code == 200 and not is_waiting(response)
    assert response.cookies[waiting_room.PASS_COOKIE]["httponly"]
    # The request was counted while served, and only then.
    assert not InFlightRequest.objects.exists()


def test_arrivals_wait_and_are_admitted_first_come_first_served(palosco: Comune) -> None:
    room_on(palosco)
    held = occupied(palosco)
    a, b, c = (Client(HTTP_HOST=PALOSCO_HOST) for _ in range(3))
    pages = [x.get("/iscrizioni/") for x in (a, b, c)]
    assert all(p.status_code == 200 and is_waiting(p) for p in pages)
    assert [position(p) for p in pages] == [1, 2, 3]
    page = pages[0].content.decode()
    assert '<meta http-equiv="refresh" content="15">' in page
    assert "Attesa stimata: circa 1 minuto" in page and "Ferma l'aggiornamento automatico" in page

    release(held)
    # The last one reloads first: the place goes to the head of the queue, not to it.
    assert position(c.get("/iscrizioni/")) == 2
    assert is_waiting(b.get("/iscrizioni/"))  # A's admission fills this interval's one place
    served = a.get("/iscrizioni/")
    assert not is_waiting(served) and served.status_code in (200, 302)
    assert (
        waiting_room.PASS_COOKIE in served.cookies and served.cookies[waiting_room.TICKET_COOKIE].value == ""
    )

    interval_passes(palosco)
    assert position(c.get("/iscrizioni/")) == 1  # B is let in by C's reload, C is next
    assert not is_waiting(b.get("/"))
    interval_passes(palosco)
    assert not is_waiting(c.get("/"))


def test_someone_who_left_does_not_hold_the_queue(palosco: Comune) -> None:
    room = room_on(palosco)
    held = occupied(palosco)
    gone, present = Client(HTTP_HOST=PALOSCO_HOST), Client(HTTP_HOST=PALOSCO_HOST)
    gone.get("/")
    assert position(present.get("/")) == 2
    stale = timezone.now() - timedelta(seconds=room.refresh_seconds * waiting_room.STALE_AFTER_REFRESHES + 1)
    WaitingTicket.objects.filter(schema_name="palosco").order_by("pk").filter(
        pk=WaitingTicket.objects.order_by("pk").first().pk  # type: ignore[union-attr]
    ).update(seen_at=stale)
    assert position(present.get("/")) == 1
    release(held)
    assert not is_waiting(present.get("/"))


def test_manual_refresh_has_no_meta_refresh(palosco: Comune) -> None:
    room_on(palosco)
    occupied(palosco)
    client = Client(HTTP_HOST=PALOSCO_HOST)
    client.get("/")
    page = client.get("/", {"aggiornamento": "manuale"}).content.decode()
    assert 'http-equiv="refresh"' not in page and "Aggiorna la posizione" in page
    assert "Riattiva l'aggiornamento automatico" in page


def test_a_parent_inside_is_never_sent_back_mid_form(palosco: Comune) -> None:
    room_on(palosco)
    inside = Client(HTTP_HOST=PALOSCO_HOST)
    assert not is_waiting(inside.get("/accesso/"))
    occupied(palosco, 5)
    waiting = Client(HTTP_HOST=PALOSCO_HOST)
    assert is_waiting(waiting.get("/accesso/"))
    for _ in range(3):  # pages and posts of the form go on, past the capacity
        response = inside.get("/accesso/")
        assert response.status_code == 200 and not is_waiting(response)
    posted = inside.post(
        "/accesso/credentials/", {"credentials-codice_utente": "PAL-1", "credentials-password": "x"}
    )
    assert not is_waiting(posted)

    # Signed in before the room was turned on (no pass cookie): inside as well.
    with tenant_context(palosco):
        parent = Account.objects.create_user(username="PAL-000901", kind=Account.Kind.PARENT, password="x")
        signed_in = Client(HTTP_HOST=PALOSCO_HOST)
        signed_in.force_login(parent)
    assert not is_waiting(signed_in.get("/informativa-privacy/"))


def test_staff_bypass_and_are_not_counted(palosco: Comune) -> None:
    room_on(palosco)
    held = occupied(palosco, 3)
    with tenant_context(palosco):
        staff = Account.objects.create_user(
            username="ufficio.sala", kind=Account.Kind.STAFF, is_staff=True, password="x"
        )
        office = Client(HTTP_HOST=PALOSCO_HOST)
        office.force_login(staff)
    assert not is_waiting(office.get("/"))
    assert not is_waiting(office.get("/admin/login/"))
    assert not is_waiting(Client(HTTP_HOST=PALOSCO_HOST).get("/admin/login/"))
    assert InFlightRequest.objects.filter(schema_name="palosco").count() == len(held)


def test_forged_or_lapsed_tokens_are_refused(palosco: Comune) -> None:
    room = room_on(palosco)
    occupied(palosco)
    forged = Client(HTTP_HOST=PALOSCO_HOST)
    real = waiting_room.pass_value(schema_name="palosco")
    forged.cookies[waiting_room.PASS_COOKIE] = real[:-2] + ("AA" if not real.endswith("AA") else "BB")
    assert is_waiting(forged.get("/"))

    lapsed = Client(HTTP_HOST=PALOSCO_HOST)
    signer = signing.TimestampSigner(salt="sala-attesa-pass:palosco")
    old = timezone.now() - timedelta(minutes=room.pass_minutes + 1)
    signer.timestamp = lambda: signing.b62_encode(int(old.timestamp()))  # type: ignore[method-assign]
    lapsed.cookies[waiting_room.PASS_COOKIE] = signer.sign("x")
    assert is_waiting(lapsed.get("/"))

    # A ticket number cannot be chosen: an altered one joins the back of the queue.
    first = Client(HTTP_HOST=PALOSCO_HOST)
    assert position(first.get("/")) == 3
    head = WaitingTicket.objects.filter(schema_name="palosco").order_by("pk").first()
    assert head is not None
    cheat = Client(HTTP_HOST=PALOSCO_HOST)
    cheat.cookies[waiting_room.TICKET_COOKIE] = signing.dumps(head.pk, salt="another-salt")
    assert position(cheat.get("/")) == 4


def test_comuni_are_isolated(palosco: Comune, romano: Comune) -> None:
    room_on(palosco)
    room_on(romano)
    occupied(palosco)
    assert is_waiting(Client(HTTP_HOST=PALOSCO_HOST).get("/"))
    # Romano's portal has room: Palosco's queue is not its own.
    assert not is_waiting(Client(HTTP_HOST=ROMANO_HOST).get("/"))

    occupied(romano)
    visitor = Client(HTTP_HOST=ROMANO_HOST)
    # Palosco's pass and Palosco's ticket are worth nothing on Romano.
    visitor.cookies[waiting_room.PASS_COOKIE] = waiting_room.pass_value(schema_name="palosco")
    head = WaitingTicket.objects.get(schema_name="palosco")
    visitor.cookies[waiting_room.TICKET_COOKIE] = waiting_room.ticket_value(
        schema_name="palosco", ticket_id=head.pk
    )
    response = visitor.get("/")
    assert is_waiting(response) and position(response) == 1
    assert WaitingTicket.objects.filter(schema_name="romanodilombardia").count() == 1
    # Nor may a Romano-signed token name Palosco's ticket.
    visitor.cookies[waiting_room.TICKET_COOKIE] = waiting_room.ticket_value(
        schema_name="romanodilombardia", ticket_id=head.pk
    )
    assert is_waiting(visitor.get("/"))
    assert waiting_room.queue_lengths() == {"palosco": 1, "romanodilombardia": 2}


def test_the_global_capacity_holds_every_comune(palosco: Comune, romano: Comune, settings) -> None:  # type: ignore[no-untyped-def]
    settings.WAITING_ROOM_GLOBAL_CAPACITY = 2
    room_on(palosco, capacity=10)
    room_on(romano, capacity=10)
    occupied(palosco, 2)
    visitor = Client(HTTP_HOST=ROMANO_HOST)
    assert is_waiting(visitor.get("/"))
    settings.WAITING_ROOM_GLOBAL_CAPACITY = 0
    assert not is_waiting(visitor.get("/"))


def test_the_idp_post_back_is_never_held(palosco: Comune) -> None:
    room_on(palosco)
    occupied(palosco)
    response = Client(HTTP_HOST=PALOSCO_HOST).post("/accesso/spid/acs/", {"SAMLResponse": "x"})
    assert not is_waiting(response)


def test_an_admitted_ticket_copied_into_another_browser_waits_like_a_new_arrival(palosco: Comune) -> None:
    """One admitted ticket used to let in any number of browsers it was copied into, past the
    capacity and ahead of the families waiting (found by a review)."""
    room = room_on(palosco)
    held = occupied(palosco)
    turn = waiting_room.arrival(schema_name="palosco", room=room)
    release(held)
    first = waiting_room.ticket_turn(schema_name="palosco", room=room, ticket_id=turn.ticket_id)
    assert first.admitted  # the browser that waited comes in (and carries a pass from now on)
    behind = waiting_room.arrival(schema_name="palosco", room=room)
    assert not behind.admitted  # the room is full with it inside
    # Presented again at once (its answer lost), it still lets in: within ENTRY_GRACE.
    assert waiting_room.ticket_turn(schema_name="palosco", room=room, ticket_id=turn.ticket_id).admitted
    WaitingTicket.objects.filter(pk=turn.ticket_id).update(
        entered_at=timezone.now() - waiting_room.ENTRY_GRACE - timedelta(seconds=1)
    )
    copy = waiting_room.ticket_turn(schema_name="palosco", room=room, ticket_id=turn.ticket_id)
    assert not copy.admitted and copy.ticket_id != turn.ticket_id
    assert copy.position == 2  # behind the family that was waiting


def test_the_waiting_page_links_stay_on_the_comunes_host(palosco: Comune) -> None:
    room_on(palosco)
    occupied(palosco)
    # As a browser sends it (the test client would read "//evil.example/" as a host).
    page = Client(HTTP_HOST=PALOSCO_HOST).get("/", PATH_INFO="//evil.example/").content.decode()
    assert 'href="/evil.example/?aggiornamento=manuale"' in page and 'href="//' not in page
