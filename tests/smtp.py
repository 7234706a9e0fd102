"""A real SMTP server on localhost for tests (aiosmtpd), collecting messages."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message

import pytest
from aiosmtpd.controller import Controller


class _Collector:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    def __init__(self, collector: _Collector, port: int) -> None:
        self._collector = collector
        self.port = port

    @property
    def messages(self) -> list[Message]:
        return self._collector.messages

    def bodies(self) -> list[str]:
        """Plain-text bodies of the received messages, decoded."""
        out = []
        for msg in self.messages:
            part = next((p for p in msg.walk() if p.get_content_type() == "text/plain"), msg)
            payload = part.get_payload(decode=True)
            out.append(payload.decode(part.get_content_charset() or "utf-8") if payload else "")
        return out


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:  # type: ignore[no-untyped-def]
    """Start aiosmtpd and point Django's SMTP backend at it."""
    collector = _Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    try:
        yield SmtpServer(collector, port)
    finally:
        controller.stop()
