"""Receipts pushed to the comune: the callback's authentication and its body.

Whoever forwards pagoPA receipts to us (the comune's intermediary or its GPD
subscription) signs the raw JSON body with the comune's shared secret:
`X-Signature: sha256=<hex HMAC-SHA256 of the body>`. The secret lives in the
environment variable the YAML names (`payments.callback_secret_env`); each
comune has its own, and the body names the ente creditore, which must be the
comune whose host received it. A refused callback is logged and audited;
a receipt seen twice changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from payments.models import RECEIPT_ID_MAX
from tenants.config import Payments

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Signature"


class CallbackRefused(Exception):
    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Receipt:
    iuv: str
    receipt_id: str
    amount_cents: int
    paid_at: datetime
    psp: str


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def receipt_verify(*, body: bytes, header: str, config: Payments) -> Receipt:
    """The receipt in `body` if its signature and ente are right; else CallbackRefused."""
    secret = os.environ.get(config.callback_secret_env, "")
    if not secret:
        raise CallbackRefused(f"segreto non configurato ({config.callback_secret_env})", status=503)
    # As bytes: compare_digest refuses a str with characters beyond ASCII (a forged header).
    if not hmac.compare_digest(signature(body, secret).encode(), (header or "").encode("utf-8", "replace")):
        raise CallbackRefused("firma non valida")
    try:
        data: dict[str, Any] = json.loads(body)
        ente = data["organizationFiscalCode"]
        receipt = Receipt(
            iuv=str(data["iuv"]),
            receipt_id=str(data["idReceipt"]),
            amount_cents=_cents(data["amount"]),
            paid_at=datetime.fromisoformat(data["paymentDate"]),
            psp=str(data.get("pspCompany", ""))[:20],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise CallbackRefused(f"ricevuta malformata: {exc}", status=400) from exc
    if len(receipt.receipt_id) > RECEIPT_ID_MAX:
        raise CallbackRefused(f"idReceipt più lungo di {RECEIPT_ID_MAX} caratteri", status=400)
    if ente != config.ente_codice_fiscale:
        raise CallbackRefused(f"ricevuta per un altro ente ({ente})")
    if receipt.paid_at.tzinfo is None:
        raise CallbackRefused("paymentDate senza fuso orario", status=400)
    return receipt


def _cents(value: Any) -> int:
    # Amounts travel in cents as integers, as in GPD; a float is refused.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError("amount must be a positive integer number of cents")
    return value
