"""The default throttles against a window's opening: many families behind one
school or carrier address pass, one account hammering is refused."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api.auth import UserThrottle
from identity import ratelimit
from tests.api.conftest import parent_create, token_for
from tests.identity.conftest import credentials_post

SCHOOL_IP = "10.20.30.40"


def _per_minute(rate: str) -> int:
    count, seconds = UserThrottle.parse_rate(rate)
    return count * 60 // seconds


def test_a_school_behind_one_ip_is_not_refused_but_one_account_hammering_is(in_romano) -> None:
    user_rate = _per_minute(settings.API_THROTTLE_RATES["user"])
    # More families than the account's rate, each calling a few times, all from one address.
    families = user_rate + 40
    tokens = [token_for(in_romano, parent_create(username=f"ROM-{7000 + n:06d}")) for n in range(families)]
    clients = [
        Client(
            HTTP_HOST="romanodilombardia.localhost", REMOTE_ADDR=SCHOOL_IP, HTTP_AUTHORIZATION=f"Bearer {t}"
        )
        for t in tokens
    ]
    statuses = [c.get(path).status_code for c in clients for path in ("/api/v1/me/", "/api/v1/comune/")]
    assert statuses == [200] * (2 * families)
    hammer = clients[0]
    calls = [hammer.get("/api/v1/me/").status_code for _ in range(user_rate)]
    # Its two calls above plus these: the account's rate ends in refusals.
    assert calls[: user_rate - 2] == [200] * (user_rate - 2) and calls[-1] == 429
    # The other families of the school go on.
    assert clients[1].get("/api/v1/me/").status_code == 200


def test_a_call_counts_its_account_and_its_address_in_one_statement(in_romano, settings) -> None:
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"user": "3/min", "ip": "4/min"}
    first, second = (parent_create(username=f"ROM-00790{n}") for n in range(2))
    client = Client(
        HTTP_HOST="romanodilombardia.localhost",
        REMOTE_ADDR=SCHOOL_IP,
        HTTP_AUTHORIZATION=f"Bearer {token_for(in_romano, first)}",
    )
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/me/").status_code == 200
    assert len([q for q in queries if "shared_counter" in q["sql"]]) == 1
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]  # the account's
    other = Client(
        HTTP_HOST="romanodilombardia.localhost",
        REMOTE_ADDR=SCHOOL_IP,
        HTTP_AUTHORIZATION=f"Bearer {token_for(in_romano, second)}",
    )
    refused = other.get("/api/v1/me/")  # its first call, the address's fifth
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60


def test_mistyped_passwords_of_a_school_do_not_lock_its_ip(in_palosco) -> None:
    mistakes = 2 * ratelimit.MAX_PER_IDENTIFIER * 4  # well past the 20 per IP of before
    assert mistakes < settings.LOGIN_FAILURES_PER_IP
    for n in range(mistakes):
        client = Client(HTTP_HOST="palosco.localhost", REMOTE_ADDR=SCHOOL_IP)
        response = credentials_post(client, f"PAL-{8000 + n:06d}", "Sbagliata-123")
        assert "bloccato" not in response.content.decode(), n
    with_password = parent_create(username="PAL-008999")
    response = credentials_post(
        Client(HTTP_HOST="palosco.localhost", REMOTE_ADDR=SCHOOL_IP),
        with_password.username,
        "Password-Genitore-1",
    )
    assert response.status_code == 302
