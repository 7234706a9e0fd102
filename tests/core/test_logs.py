"""Structured logs: JSON lines with request id, comune and user id, and no personal data."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from django_tenants.utils import tenant_context

from core.logs import logging_config, redact
from identity.models import Account
from tests.conftest import PALOSCO_HOST

CF = "RSSMRA80A01H501U"
OMOCODE_CF = "RSSMRA80A01H50MU"
EMAIL = "mario.rossi@example.it"


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The production logging configuration, its console handler writing here."""
    logging.config.dictConfig(logging_config(json=True, level="INFO"))
    buffer = io.StringIO()
    for handler in logging.getLogger().handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
    yield buffer
    logging.config.dictConfig(settings.LOGGING)


def _lines(buffer: io.StringIO) -> tuple[str, list[dict]]:
    raw = buffer.getvalue()
    return raw, [json.loads(line) for line in raw.splitlines()]


def test_request_lines_carry_ids_and_no_personal_data(palosco, json_logs) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        parent = Account.objects.create_user(username="PAL-000931", kind=Account.Kind.PARENT, password="x")
        client = Client(HTTP_HOST=PALOSCO_HOST)
        client.force_login(parent)
    client.get(f"/accesso/?codice_fiscale={CF}&email={EMAIL}")
    Client(HTTP_HOST=PALOSCO_HOST).post("/accesso/password-dimenticata/", {"email": EMAIL, "cf": CF})
    logging.getLogger("identity").warning("login refused for %s <%s> (%s)", CF, EMAIL, OMOCODE_CF)

    raw, lines = _lines(json_logs)
    assert CF not in raw and EMAIL not in raw and OMOCODE_CF not in raw and "example.it" not in raw
    finished = [line for line in lines if line["event"] == "request_finished"]
    assert len(finished) == 2
    # One line per request, at its end (LOG_REQUEST_STARTED adds the opening one).
    assert not [line for line in lines if line["event"] == "request_started"]
    signed_in = finished[0]
    assert signed_in["request"] == "GET /accesso/" and signed_in["comune"] == "palosco"
    assert signed_in["user_id"] == parent.pk and signed_in["request_id"] and "ip" not in signed_in
    assert finished[1]["request_id"] != signed_in["request_id"]
    warning = next(line for line in lines if line["logger"] == "identity")
    assert warning["level"] == "warning"
    assert warning["event"] == "login refused for [codice fiscale] <[e-mail]> ([codice fiscale])"


def test_redaction_can_tell_personal_data_from_codes() -> None:
    assert redact(f"cf {CF.lower()} mail {EMAIL}") == "cf [codice fiscale] mail [e-mail]"
    # References, codici utente and schema names stay readable.
    assert redact("2025-000123 PAL-000931 romanodilombardia") == "2025-000123 PAL-000931 romanodilombardia"
