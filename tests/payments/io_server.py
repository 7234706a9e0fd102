"""A local HTTP server implementing the two App IO services endpoints the app calls.

`POST /api/v1/profiles` (200 with `sender_allowed`, 404 for an unknown
fiscal code) and `POST /api/v1/messages` (201 with the message id; 400 when
subject or markdown are out of the API's lengths or payment_data is
incomplete), with the subscription key header (401 without). `down_for`
answers the next N requests with 503.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.payments.json_http import JsonHandler, serving

KEY = "test-io-api-key"


@dataclass
class IoState:
    profiles: dict[str, bool] = field(default_factory=dict)  # fiscal code -> sender_allowed
    messages: list[dict[str, Any]] = field(default_factory=list)
    down_for: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _message_problem(body: dict[str, Any]) -> str | None:
    content = body.get("content") or {}
    if not 10 <= len(content.get("subject", "")) <= 120:
        return "subject must be 10-120 characters"
    if not 80 <= len(content.get("markdown", "")) <= 10000:
        return "markdown must be 80-10000 characters"
    payment = content.get("payment_data")
    if payment is not None and (
        not isinstance(payment.get("amount"), int) or len(str(payment.get("notice_number", ""))) != 18
    ):
        return "payment_data needs amount (cents) and an 18-digit notice_number"
    return None


class _Handler(JsonHandler):
    state: IoState

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        state = self.state
        with state.lock:
            if state.down_for > 0:
                state.down_for -= 1
                return self._send(503, {"title": "Service Unavailable", "status": 503})
            if self.headers.get("Ocp-Apim-Subscription-Key") != KEY:
                return self._send(401, {"title": "Unauthorized", "status": 401})
            if self.path == "/api/v1/profiles":
                cf = body.get("fiscal_code", "")
                if cf not in state.profiles:
                    return self._send(
                        404, {"title": "Not Found", "status": 404, "detail": "profile not found"}
                    )
                return self._send(
                    200, {"sender_allowed": state.profiles[cf], "preferred_languages": ["it_IT"]}
                )
            if self.path == "/api/v1/messages":
                problem = _message_problem(body)
                if problem:
                    return self._send(400, {"title": "Bad Request", "status": 400, "detail": problem})
                message_id = uuid.uuid4().hex
                state.messages.append({"id": message_id, **body})
                return self._send(201, {"id": message_id})
        self._send(404, {"title": "Not Found", "status": 404})


@dataclass
class IoServer:
    url: str
    state: IoState


@pytest.fixture
def io_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[IoServer]:
    state = IoState()
    handler = type("Handler", (_Handler,), {"state": state})
    monkeypatch.setenv("IO_API_KEY_TEST", KEY)
    with serving(handler) as port:
        yield IoServer(url=f"http://127.0.0.1:{port}/api/v1", state=state)
