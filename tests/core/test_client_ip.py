"""The client's address: X-Forwarded-For only from a trusted proxy (D5)."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from api.auth import IpThrottle
from core.services import client_ip
from tests.conftest import PALOSCO_HOST
from tests.identity.conftest import PASSWORD, credentials_post, parent_create

PROXY = "10.0.0.2"
LOCKED = "Troppi tentativi"


def _request(remote: str, xff: str | None = None):  # type: ignore[no-untyped-def]
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_forwarded_for_from_an_untrusted_peer_is_ignored(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(_request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8::1"]
    assert client_ip(_request(PROXY, "198.51.100.1")) == "198.51.100.1"
    # What the client wrote in front of its own address is not believed.
    assert client_ip(_request(PROXY, "1.2.3.4, 198.51.100.1")) == "198.51.100.1"
    assert client_ip(_request(PROXY, "1.2.3.4, 198.51.100.1, 10.0.0.9")) == "198.51.100.1"
    assert client_ip(_request("2001:db8::1", "2001:db8::77")) == "2001:db8::77"
    assert client_ip(_request(PROXY, "not-an-address, 10.0.0.9")) == PROXY
    assert client_ip(_request(PROXY)) == PROXY


@pytest.mark.parametrize("trusted", [[], [PROXY]])
def test_spoofed_forwarded_for_does_not_escape_the_ip_lockout(settings, palosco, trusted) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = trusted
    settings.LOGIN_FAILURES_PER_IP = 20
    parent_create(palosco, "PAL-000780")
    for n in range(20):
        client = Client(HTTP_HOST=PALOSCO_HOST, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
        credentials_post(client, f"PAL-1000{n:02d}", "Sbagliata-123")
    client = Client(HTTP_HOST=PALOSCO_HOST, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.99")
    assert LOCKED in credentials_post(client, "PAL-000780", PASSWORD).content.decode()


def test_clients_behind_a_trusted_proxy_are_counted_one_by_one(settings, palosco) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = [PROXY]
    parent_create(palosco, "PAL-000780")
    for n in range(110):
        client = Client(HTTP_HOST=PALOSCO_HOST, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        credentials_post(client, f"PAL-1{n:05d}", "Sbagliata-123")
    client = Client(HTTP_HOST=PALOSCO_HOST, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert credentials_post(client, "PAL-000780", PASSWORD).status_code == 302


def test_api_rate_limit_reads_the_same_address(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = []
    assert IpThrottle().get_ident(_request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"
    settings.TRUSTED_PROXIES = [PROXY]
    assert IpThrottle().get_ident(_request(PROXY, "198.51.100.1")) == "198.51.100.1"
