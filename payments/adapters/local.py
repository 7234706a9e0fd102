"""The `local` adapter: positions live only in our database.

Payments are learnt from the treasurer's CSV (payments.imports) or the
counter; there is nothing remote to create, invalidate or read.
"""

from __future__ import annotations

from payments.adapters.base import PaymentAdapter, PositionData, RemotePosition


class LocalAdapter(PaymentAdapter):
    name = "local"

    def create(self, position: PositionData) -> None:
        return None

    def invalidate(self, iupd: str) -> None:
        return None

    def read(self, iupd: str) -> RemotePosition | None:
        return None
