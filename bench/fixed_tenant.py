"""bench/scale.py's control: the comune middleware without the Host lookup.

`FixedComuneMiddleware` serves every request as the comune named by
BENCH_FIXED_SCHEMA, unpickled from bytes read once per process instead of
from the shared host cache: the same page and the same per-request work,
minus tenant resolution. Settings: `fixed_tenant_settings` (bench only).
"""

from __future__ import annotations

import os
import pickle

from tenants.middleware import ComuneMiddleware
from tenants.models import Comune, Domain


class FixedComuneMiddleware(ComuneMiddleware):
    _pickled: bytes | None = None

    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Comune:
        cls = type(self)
        if cls._pickled is None:
            cls._pickled = pickle.dumps(Comune.objects.get(schema_name=os.environ["BENCH_FIXED_SCHEMA"]))
        return pickle.loads(cls._pickled)  # noqa: S301 (bytes this process made)
