"""/metrics: who may read it, and that its figures follow what happens."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import schema_context
from prometheus_client.parser import text_string_to_metric_families

from core.models import OutgoingEmail
from core.services import email_enqueue
from tenants import waiting_room
from tests.conftest import PALOSCO_HOST, PUBLIC_HOST

TOKEN = "scraper-token-for-tests-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(settings) -> dict:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = TOKEN
    response = Client(HTTP_HOST=PUBLIC_HOST).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


def test_only_the_scraper_token_or_an_operator(db, settings, operator_client: Client) -> None:  # type: ignore[no-untyped-def]
    public = Client(HTTP_HOST=PUBLIC_HOST)
    assert public.get("/metrics").status_code == 401
    settings.METRICS_TOKEN = ""
    assert public.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    settings.METRICS_TOKEN = TOKEN
    refused = public.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert public.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert operator_client.get("/metrics").status_code == 200
    # Not on a comune's portal, token or not.
    assert (
        Client(HTTP_HOST=PALOSCO_HOST).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code
        == 404
    )


def test_requests_by_view_and_latency(palosco, settings) -> None:  # type: ignore[no-untyped-def]
    key = ("django_http_requests_total_by_view_transport_method_total",
           (("method", "GET"), ("transport", "http"), ("view", "portal_home")))  # fmt: skip
    before = scrape(settings).get(key, 0)
    client = Client(HTTP_HOST=PALOSCO_HOST)
    for _ in range(3):
        assert client.get("/").status_code == 200
    after = scrape(settings)
    assert after[key] == before + 3
    latency = [k for k in after if k[0] == "django_http_requests_latency_seconds_by_view_method_count"]
    assert any(("view", "portal_home") in labels for _name, labels in latency)


def test_queue_mail_failures_and_waiting_rooms(palosco, settings) -> None:  # type: ignore[no-untyped-def]
    with schema_context("palosco"):
        mail = email_enqueue(to=["genitore@example.org"], subject="Ricevuta", body="x")
        OutgoingEmail.objects.filter(pk=mail.pk).update(status=OutgoingEmail.Status.FAILED)
    waiting_room.request_enter(schema_name="palosco")
    found = scrape(settings)
    assert found[("iscrizioni_jobs", (("status", "todo"), ("task", "core.email_send")))] >= 1
    assert found[("iscrizioni_mail_failed", ())] == 1
    assert found[("iscrizioni_waiting_room_in_flight", (("comune", "palosco"),))] == 1
    assert not any(k[0] == "iscrizioni_waiting_room_length" for k in found)
