"""What `make run` prints about the parents' API (no demo data of its own)."""

from __future__ import annotations


def banner_lines(*, port: int) -> list[str]:
    return [
        "API per l'app (REST, README: 'API per l'app'):",
        f"  documentazione: http://romanodilombardia.localhost:{port}/api/v1/docs/"
        f"  (e http://palosco.localhost:{port}/api/v1/docs/)",
        "  token: POST /api/v1/auth/token/ con ROM-000001 / Genitore-Demo-2026",
        "",
    ]
