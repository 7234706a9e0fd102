"""pagoPA adapters: one small interface, one implementation per way a comune is paid.

`gpd` talks to pagoPA's Gestione Posizioni Debitorie REST API; `local` keeps
positions here only, for comuni that reconcile by the treasurer's file and
for development. The comune's YAML (`payments.adapter`) chooses.
"""

from __future__ import annotations

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
from payments.adapters.gpd import GpdAdapter
from payments.adapters.local import LocalAdapter
from tenants.config import Payments

__all__ = [
    "AdapterConflict",
    "AdapterError",
    "AdapterRejected",
    "AdapterUnavailable",
    "PaymentAdapter",
    "PositionData",
    "RemoteInstalment",
    "RemotePosition",
    "adapter_for",
]

_REGISTRY: dict[str, type[PaymentAdapter]] = {"gpd": GpdAdapter, "local": LocalAdapter}


def adapter_for(config: Payments) -> PaymentAdapter:
    return _REGISTRY[config.adapter](config)
