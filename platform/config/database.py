"""Where the database is: `DATABASE_URL`, or the embedded PostgreSQL.

When `DATABASE_URL` is unset (development and `make test` on a laptop), a
private PostgreSQL from the `pgserver` wheel is started under `.data/pg` and
left running between commands, so the second `make run` starts in seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

EMBEDDED_DIR_DEFAULT = Path(__file__).resolve().parents[2] / ".data" / "pg"


def embedded_database_url(data_dir: Path = EMBEDDED_DIR_DEFAULT) -> str:
    import pgserver  # imported lazily: production never loads it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir), cleanup_mode=None)
    return server.get_uri()


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or embedded_database_url()
