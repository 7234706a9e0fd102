"""A local HTTP server implementing the GPD endpoints the `gpd` adapter calls.

It follows pagoPA's debt-position-services v1 OpenAPI: the subscription key
header (401 without it), the PaymentPositionModel's required fields (400),
409 for a duplicate IUPD or IUV and for invalidating a position not valid,
404 for an unknown IUPD, and ProblemJson bodies. Tests switch on an outage
(`down_for`: the next N requests get 503) and mark options paid as a PSP
would (`pay`). Runs in a thread on a free port; requests cross a real socket.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.payments.json_http import JsonHandler, serving

KEY = "test-gpd-subscription-key"
_PATH = re.compile(
    r"^/gpd/debt-positions-service/v1/organizations/(?P<org>\d{11})/debtpositions"
    r"(?:/(?P<iupd>[^/]+)(?P<action>/publish|/invalidate)?)?$"
)
REQUIRED = ("iupd", "type", "fiscalCode", "fullName", "companyName")
OPTION_REQUIRED = ("iuv", "amount", "dueDate", "isPartialPayment")
TRANSFER_REQUIRED = ("idTransfer", "amount", "remittanceInformation", "category")


@dataclass
class GpdState:
    positions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # The client's (host, port) of each request: one per TCP connection.
    clients: list[tuple[str, int]] = field(default_factory=list)
    down_for: int = 0
    # When set: answer this many more requests, then go down (an outage mid-batch).
    up_for: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pay(self, org: str, iuv: str, *, receipt: str = "") -> None:
        with self.lock:
            for (o, _), pos in self.positions.items():
                for option in pos["paymentOption"]:
                    if o == org and option["iuv"] == iuv:
                        option["status"] = "PO_PAID"
                        option["paymentDate"] = datetime.now(UTC).isoformat()
                        option["idReceipt"] = receipt or f"rcpt-{iuv}"
                        option["pspCompany"] = "Banca di Prova"
                        if all(o2["status"] == "PO_PAID" for o2 in pos["paymentOption"]):
                            pos["status"] = "PAID"
                        else:
                            pos["status"] = "PARTIALLY_PAID"
                        return
        raise KeyError(iuv)


def _problem(status: int, title: str, detail: str) -> tuple[int, dict[str, Any]]:
    return status, {"title": title, "status": status, "detail": detail}


def _check_model(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be a PaymentPositionModel object"
    for name in REQUIRED:
        if not body.get(name):
            return f"{name} is required"
    if body["type"] not in ("F", "G"):
        return "type must be F or G"
    for option in body.get("paymentOption", []):
        for name in OPTION_REQUIRED:
            if name not in option:
                return f"paymentOption.{name} is required"
        if not isinstance(option["amount"], int) or option["amount"] <= 0:
            return "paymentOption.amount must be a positive integer (cents)"
        datetime.fromisoformat(option["dueDate"])
        transfers = option.get("transfer", [])
        for transfer in transfers:
            for name in TRANSFER_REQUIRED:
                if name not in transfer:
                    return f"transfer.{name} is required"
        if transfers and sum(t["amount"] for t in transfers) != option["amount"]:
            return "the transfers' amounts must add up to the option's amount"
    return None


class _Handler(JsonHandler):
    state: GpdState

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        state = self.state
        with state.lock:
            state.requests.append((method, url.path))
            state.clients.append(self.client_address[:2])
            if state.up_for is not None:
                if state.up_for == 0:
                    state.up_for, state.down_for = None, 10**9
                else:
                    state.up_for -= 1
            if state.down_for > 0:
                state.down_for -= 1
                return self._send(*_problem(503, "Service Unavailable", "GPD is down"))
        if self.headers.get("Ocp-Apim-Subscription-Key") != KEY:
            return self._send(
                401, {"statusCode": 401, "message": "Access denied due to invalid subscription key."}
            )
        match = _PATH.match(url.path)
        if not match:
            return self._send(*_problem(404, "Not Found", url.path))
        org, iupd, action = match["org"], match["iupd"], match["action"]
        with state.lock:
            status, body = self._route(method, org, iupd, action, parse_qs(url.query), raw)
        self._send(status, body)

    def _route(
        self,
        method: str,
        org: str,
        iupd: str | None,
        action: str | None,
        query: dict[str, list[str]],
        raw: bytes,
    ) -> tuple[int, Any]:
        positions = self.state.positions
        if method == "POST" and iupd is None:
            try:
                body = json.loads(raw or b"null")
                problem = _check_model(body)
            except (ValueError, TypeError) as exc:
                problem = f"malformed: {exc}"
            if problem:
                return _problem(400, "Bad Request", problem)
            iuvs = {o["iuv"] for o in body.get("paymentOption", [])}
            for (o, existing_iupd), pos in positions.items():
                if o == org and (
                    existing_iupd == body["iupd"] or iuvs & {p["iuv"] for p in pos["paymentOption"]}
                ):
                    return _problem(409, "Conflict", "Debt Position with the same IUPD or IUV already exists")
            publish = query.get("toPublish", ["false"])[0] == "true"
            stored = {
                **body,
                "organizationFiscalCode": org,
                "status": "VALID" if publish else "DRAFT",
                "paymentOption": [
                    {**o, "status": "PO_UNPAID", "organizationFiscalCode": org}
                    for o in body.get("paymentOption", [])
                ],
            }
            positions[(org, body["iupd"])] = stored
            return 201, body
        pos = positions.get((org, iupd or ""))
        if pos is None:
            return _problem(404, "Not Found", f"No debt position found for {iupd}")
        if method == "GET" and action is None:
            return 200, pos
        if method == "POST" and action == "/publish":
            if pos["status"] != "DRAFT":
                return _problem(409, "Conflict", "The debt position is not in DRAFT")
            pos["status"] = "VALID"
            return 200, pos
        if method == "POST" and action == "/invalidate":
            if pos["status"] not in ("VALID", "PUBLISHED"):
                detail = f"The debt position is {pos['status']}: it cannot be invalidated"
                return _problem(409, "Conflict", detail)
            pos["status"] = "INVALID"
            return 200, pos
        return _problem(405, "Method Not Allowed", method)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


@dataclass
class GpdServer:
    url: str
    state: GpdState


@pytest.fixture
def gpd_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GpdServer]:
    state = GpdState()
    handler = type("Handler", (_Handler,), {"state": state})
    monkeypatch.setenv("GPD_SUBSCRIPTION_KEY_TEST", KEY)
    with serving(handler) as port:
        yield GpdServer(url=f"http://127.0.0.1:{port}/gpd/debt-positions-service/v1", state=state)
