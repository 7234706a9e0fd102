"""Demo staff of each comune for `make run`: one account per role.

`ufficio.<slug>` (created by identity.demo) becomes the comune's
administrator; `operatore.<slug>` and `lettura.<slug>` are added here with
the same demo password.
"""

from __future__ import annotations

from django.contrib.auth.models import Group

from enrollment.backoffice.roles import AMMINISTRATORE, OPERATORE, SOLA_LETTURA, staff_roles_ensure
from enrollment.backoffice.services import staff_account_create
from identity.demo import DEMO_STAFF_PASSWORD
from identity.models import Account
from tenants.models import Comune


def load_comune(comune: Comune) -> None:
    staff_roles_ensure()
    admin = Account.objects.filter(username=f"ufficio.{comune.slug}").first()
    if admin is not None:
        admin.groups.add(Group.objects.get(name=AMMINISTRATORE))
    for prefix, first, role in (
        ("operatore", "Operatore", OPERATORE),
        ("lettura", "Consultazione", SOLA_LETTURA),
    ):
        username = f"{prefix}.{comune.slug}"
        if not Account.objects.filter(username=username).exists():
            staff_account_create(
                by=None, username=username, first_name=first, last_name="Ufficio Scuola",
                email=f"{username}@example.org", role=role, password=DEMO_STAFF_PASSWORD,
            )  # fmt: skip


def banner_lines(*, port: int) -> list[str]:
    return [
        "Ufficio del comune (gestione iscrizioni), password " + DEMO_STAFF_PASSWORD + ":",
        "  ufficio.<slug> (Amministratore comune), operatore.<slug> (Operatore), "
        "lettura.<slug> (Sola lettura)",
        f"  http://palosco.localhost:{port}/admin/  http://romanodilombardia.localhost:{port}/admin/",
        "",
    ]
