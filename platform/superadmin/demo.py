"""Demo second factor for `make run` (development only).

The demo operator `operatore` gets a fixed, published TOTP secret so that a
person trying the console can log in: `manage.py demo_totp operatore` prints
the current code, or the secret can be added to any authenticator app.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from identity.models import Account
from superadmin.models import OperatorSecondFactor

DEMO_OPERATOR = "operatore"
# Published on purpose: it protects nothing but the local demo.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105


def load_public() -> None:
    if not settings.DEBUG:
        return
    account = Account.objects.filter(username=DEMO_OPERATOR, kind=Account.Kind.OPERATOR).first()
    if account is None:
        return
    OperatorSecondFactor.objects.update_or_create(
        account=account, defaults={"secret": DEMO_TOTP_SECRET, "confirmed_at": timezone.now()}
    )


def banner_lines(*, port: int) -> list[str]:
    return [
        "Console operatori: dopo la password serve il codice TOTP (secondo fattore):",
        f"  .venv/bin/python manage.py demo_totp {DEMO_OPERATOR}   stampa il codice di adesso",
        f"  oppure aggiungi la chiave {DEMO_TOTP_SECRET} a un'app di autenticazione",
        "",
    ]
