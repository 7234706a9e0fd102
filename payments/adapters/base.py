"""The adapter interface and the plain data it exchanges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Self

from tenants.config import Payments


class AdapterError(Exception):
    """pagoPA answered something we cannot use."""


class AdapterUnavailable(AdapterError):
    """pagoPA is down or timed out: retry later, nothing is lost."""


class AdapterConflict(AdapterError):
    """pagoPA already holds this position (409): an earlier attempt got through."""


class AdapterRejected(AdapterError):
    """pagoPA refused the data (400, 401, 403): retrying will not help; staff must look."""


@dataclass(frozen=True)
class InstalmentData:
    iuv: str
    amount_cents: int
    due_date: date
    description: str


@dataclass(frozen=True)
class PositionData:
    iupd: str
    payer_codice_fiscale: str
    payer_name: str
    payer_email: str
    description: str
    instalments: tuple[InstalmentData, ...]


@dataclass(frozen=True)
class RemoteInstalment:
    iuv: str
    paid: bool
    paid_at: datetime | None
    amount_cents: int
    receipt_id: str
    psp: str


@dataclass(frozen=True)
class RemotePosition:
    iupd: str
    status: str
    instalments: tuple[RemoteInstalment, ...]


class PaymentAdapter:
    """Create (and publish), invalidate and read a debt position. Idempotent by IUPD."""

    name = ""

    def __init__(self, config: Payments):
        self.config = config

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release what the adapter holds open (the HTTP connection of `gpd`)."""
        return None

    def create(self, position: PositionData) -> None:
        raise NotImplementedError

    def invalidate(self, iupd: str) -> None:
        raise NotImplementedError

    def read(self, iupd: str) -> RemotePosition | None:
        """The position as pagoPA sees it, or None if it keeps no copy (local)."""
        raise NotImplementedError
