"""Demo accounts for `make run` (development only)."""

from __future__ import annotations

from identity.models import Account
from tenants.models import Comune

DEMO_OPERATOR = ("operatore", "Operatore-Demo-2026")
DEMO_STAFF_PASSWORD = "Ufficio-Demo-2026"  # noqa: S105 (development demo only)
DEMO_PARENT_PASSWORD = "Genitore-Demo-2026"  # noqa: S105 (development demo only)
# Parents with a codice utente (`credentials` backend), per comune slug. The
# e-mail is not verified, so the first login shows "Verifica Email".
DEMO_PARENTS: dict[str, list[tuple[str, str, str, str]]] = {
    "palosco": [("PAL-000001", "Mario", "Rossi", "mario.rossi@example.org")],
    "romanodilombardia": [
        ("ROM-000001", "Giulia", "Bianchi", "giulia.bianchi@example.org"),
        ("ROM-000002", "Luca", "Verdi", "luca.verdi@example.org"),
    ],
}


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
        first_name="Ufficio",
        last_name="Scuola",
    )
    for codice_utente, first_name, last_name, email in DEMO_PARENTS.get(comune.slug, []):
        _ensure(
            codice_utente,
            DEMO_PARENT_PASSWORD,
            kind=Account.Kind.PARENT,
            codice_utente=codice_utente,
            first_name=first_name,
            last_name=last_name,
            email=email,
            created_by_backend="credentials",
        )


def banner_lines(*, port: int) -> list[str]:
    return [
        "Accessi demo:",
        f"  operatore piattaforma: {DEMO_OPERATOR[0]} / {DEMO_OPERATOR[1]}  (http://localhost:{port}/admin/)",
        f"  ufficio del comune:    ufficio.<slug> / {DEMO_STAFF_PASSWORD}  (/admin/ sull'host del comune)",
        *(
            f"  genitore {codice} ({first} {last}): {codice} / {DEMO_PARENT_PASSWORD}  "
            f"(http://{slug}.localhost:{port}/accesso/)"
            for slug, parents in DEMO_PARENTS.items()
            for codice, first, last, _email in parents
        ),
        "  nuovo iscritto (solo Palosco): un codice fiscale valido, es. RSSMRA15T10A562Z, "
        f"e 'Sono un nuovo iscritto'  (http://palosco.localhost:{port}/accesso/)",
        "",
    ]
