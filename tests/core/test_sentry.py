"""Sentry on the production profile: on only with SENTRY_DSN, and never sent personal data.

The production settings are loaded in a child process (Sentry hooks into
Django process-wide), whose DSN points at a local HTTP server standing in
for Sentry's ingestion endpoint: what the SDK would send is read back.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CF = "RSSMRA80A01H501U"
EMAIL = "mario.rossi@example.it"
CHILD = f"""
import sys
sys.path.insert(0, "platform")
import django
django.setup()
import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

client = sentry_sdk.get_client()
django_on = client.get_integration(DjangoIntegration) is not None
print("pii", client.options["send_default_pii"], "django", django_on)
try:
    raise ValueError("domanda refused for {CF} <{EMAIL}>")
except ValueError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(10)
"""


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":  # brotli is installed (WeasyPrint's fonttools brings it)
            import brotli

            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ingest() -> Iterator[tuple[int, list[bytes]]]:
    _Ingest.received = []
    server = HTTPServer(("127.0.0.1", 0), _Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Ingest.received
    server.shutdown()
    server.server_close()


def _run(**extra: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY", "DJANGO_SETTINGS"))}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/unused",
        **extra,
    )
    done = subprocess.run(  # noqa: S603 (this interpreter, fixed code)
        [sys.executable, "-c", CHILD], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_errors_go_to_sentry_without_personal_data(ingest: tuple[int, list[bytes]]) -> None:
    port, received = ingest
    out = _run(SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/42")
    assert "pii False django True" in out
    assert len(received) == 1
    envelope = received[0].decode()
    event = json.loads(envelope.splitlines()[2])
    assert event["exception"]["values"][0]["type"] == "ValueError"
    assert "domanda refused for [codice fiscale] <[e-mail]>" in envelope
    assert CF not in envelope and EMAIL not in envelope


def test_no_dsn_no_sentry(ingest: tuple[int, list[bytes]]) -> None:
    _port, received = ingest
    out = _run()
    assert "django False" in out
    assert received == []
