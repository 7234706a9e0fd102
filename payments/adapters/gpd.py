"""The `gpd` adapter: pagoPA's Gestione Posizioni Debitorie REST API (debt-position-services v1).

Calls, as the public OpenAPI describes them:

- `POST /organizations/{ente}/debtpositions?toPublish=true` → 201; 409 when
  the IUPD or an IUV already exists (an earlier attempt got through);
- `POST /organizations/{ente}/debtpositions/{iupd}/invalidate` → 200; 409
  when the position is already invalid or paid; 404 unknown;
- `GET /organizations/{ente}/debtpositions/{iupd}` → 200 with the status of
  the position and of each payment option (`PO_PAID`, ...); 404 unknown.

The subscription key goes in `Ocp-Apim-Subscription-Key` and comes from the
environment variable the YAML names.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time
from typing import Any

import requests

from payments.adapters.base import (
    AdapterConflict,
    AdapterError,
    AdapterRejected,
    AdapterUnavailable,
    PaymentAdapter,
    PositionData,
    RemoteInstalment,
    RemotePosition,
)
from tenants.config import ROME, Payments

TIMEOUT = (5, 20)
PAID_OPTION_STATUSES = {"PO_PAID", "PO_PARTIALLY_REPORTED", "PO_REPORTED"}


class GpdAdapter(PaymentAdapter):
    """One `requests.Session` per adapter: a batch job's calls share one keep-alive connection."""

    name = "gpd"

    def __init__(self, config: Payments):
        super().__init__(config)
        self._session: requests.Session | None = None

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _key(self) -> str:
        key = os.environ.get(self.config.gpd_subscription_key_env, "")
        if not key:
            raise AdapterRejected(
                "manca la chiave GPD: variabile d'ambiente "
                f"{self.config.gpd_subscription_key_env} non impostata"
            )
        return key

    def _url(self, path: str) -> str:
        return f"{self.config.gpd_base_url.rstrip('/')}/organizations/{self.config.ente_codice_fiscale}{path}"

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if self._session is None:
            self._session = requests.Session()
        try:
            response = self._session.request(
                method,
                self._url(path),
                headers={"Ocp-Apim-Subscription-Key": self._key()},
                timeout=TIMEOUT,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise AdapterUnavailable(f"GPD non raggiungibile: {type(exc).__name__}") from exc
        if response.status_code in (429,) or response.status_code >= 500:
            raise AdapterUnavailable(f"GPD ha risposto {response.status_code}: {_detail(response)}")
        if response.status_code == 409:
            raise AdapterConflict(_detail(response))
        if response.status_code in (400, 401, 403, 422):
            raise AdapterRejected(
                f"GPD ha rifiutato la richiesta ({response.status_code}): {_detail(response)}"
            )
        return response

    def create(self, position: PositionData) -> None:
        body = {
            "iupd": position.iupd,
            "type": "F",
            "fiscalCode": position.payer_codice_fiscale,
            "fullName": position.payer_name,
            "email": position.payer_email or None,
            "companyName": self.config.ente_codice_fiscale,
            "switchToExpired": False,
            "paymentOption": [
                {
                    "iuv": i.iuv,
                    "amount": i.amount_cents,
                    "description": i.description,
                    "isPartialPayment": len(position.instalments) > 1,
                    # End of the due day, Italian time.
                    "dueDate": datetime.combine(i.due_date, time(23, 59, 59), tzinfo=ROME).isoformat(),
                    "fee": 0,
                    "transfer": [
                        {
                            "idTransfer": "1",
                            "amount": i.amount_cents,
                            "organizationFiscalCode": self.config.ente_codice_fiscale,
                            "remittanceInformation": i.description,
                            "category": self.config.tassonomia,
                            **({"iban": self.config.iban} if self.config.iban else {}),
                        }
                    ],
                }
                for i in position.instalments
            ],
        }
        body = {k: v for k, v in body.items() if v is not None}
        response = self._call("POST", "/debtpositions", params={"toPublish": "true"}, json=body)
        if response.status_code != 201:
            raise AdapterError(f"GPD: risposta inattesa {response.status_code} alla creazione")

    def invalidate(self, iupd: str) -> None:
        response = self._call("POST", f"/debtpositions/{iupd}/invalidate")
        if response.status_code == 404:
            # Never reached pagoPA: nothing to invalidate there.
            return
        if response.status_code != 200:
            raise AdapterError(f"GPD: risposta inattesa {response.status_code} all'annullamento")

    def read(self, iupd: str) -> RemotePosition | None:
        response = self._call("GET", f"/debtpositions/{iupd}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise AdapterError(f"GPD: risposta inattesa {response.status_code} alla lettura")
        data = response.json()
        return RemotePosition(
            iupd=data["iupd"],
            status=data.get("status", ""),
            instalments=tuple(
                RemoteInstalment(
                    iuv=o["iuv"],
                    paid=o.get("status") in PAID_OPTION_STATUSES,
                    paid_at=_when(o.get("paymentDate")),
                    amount_cents=int(o.get("amount") or 0),
                    receipt_id=o.get("idReceipt") or "",
                    psp=o.get("pspCompany") or "",
                )
                for o in data.get("paymentOption", [])
            ),
        )


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _detail(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    return str(data.get("detail") or data.get("title") or data)[:200]
