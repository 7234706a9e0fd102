"""Demo accounts for `make run` (development only)."""

from __future__ import annotations

from identity.models import Account
from tenants.models import Comune

DEMO_OPERATOR = ("operatore", "Operatore-Demo-2026")
DEMO_STAFF_PASSWORD = "Ufficio-Demo-2026"  # noqa: S105 (development demo only)


def _ensure(username: str, password: str, **fields: object) -> Account:
    account, created = Account.objects.get_or_create(username=username, defaults=fields)
    if created:
        account.set_password(password)
        account.save(update_fields=["password"])
    return account


def load_public() -> None:
    _ensure(
        DEMO_OPERATOR[0],
        DEMO_OPERATOR[1],
        kind=Account.Kind.OPERATOR,
        is_staff=True,
        is_superuser=True,
        first_name="Operatore",
        last_name="Demo",
    )


def load_comune(comune: Comune) -> None:
    _ensure(
        f"ufficio.{comune.slug}",
        DEMO_STAFF_PASSWORD,
        kind=Account.Kind.STAFF,
        is_staff=True,
        is_superuser=True,
        first_name="Ufficio",
        last_name="Scuola",
    )


def banner_lines(*, port: int) -> list[str]:
    return [
        "Accessi demo:",
        f"  operatore piattaforma: {DEMO_OPERATOR[0]} / {DEMO_OPERATOR[1]}  (http://localhost:{port}/admin/)",
        f"  ufficio del comune:    ufficio.<slug> / {DEMO_STAFF_PASSWORD}  (/admin/ sull'host del comune)",
        "",
    ]
