"""Staff roles of a comune and what each may do.

A role is a Django group of the comune's schema with one of three fixed
names; the matrix below is the only place that says which role may do what,
and every view and staff service asks it through `role_allows`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.contrib.auth.models import Group

from identity.models import Account

AMMINISTRATORE = "Amministratore comune"
OPERATORE = "Operatore"
SOLA_LETTURA = "Sola lettura"
ROLES = (AMMINISTRATORE, OPERATORE, SOLA_LETTURA)


class Action(StrEnum):
    VIEW = "view"  # dashboard, list, detail, waiting list, catalogue, audit
    EXPORT = "export"  # CSV/XLSX of a filtered list
    DECIDE = "decide"  # Conferma, Respingi, Riapri, bulk confirm
    WAITING_LIST = "waiting_list"  # promote the first in line when a place frees up
    SPORTELLO = "sportello"  # enrollment on behalf of a parent at the counter
    GRADUATORIA = "graduatoria"  # compute, adjust and publish a service's graduatoria
    CATALOGUE = "catalogue"  # services, windows, capacity, fee notes
    STAFF = "staff"  # staff accounts and their roles
    PERSONAL_DATA = "personal_data"  # a family's data: GDPR export and erasure


MATRIX: dict[str, frozenset[Action]] = {
    AMMINISTRATORE: frozenset(Action),
    OPERATORE: frozenset(
        {Action.VIEW, Action.EXPORT, Action.DECIDE, Action.WAITING_LIST, Action.SPORTELLO, Action.GRADUATORIA}
    ),
    SOLA_LETTURA: frozenset({Action.VIEW, Action.EXPORT}),
}


class RoleDenied(Exception):
    """The staff account's role does not allow the action."""

    message = "Il tuo ruolo non consente questa operazione."


def staff_roles_ensure() -> list[Group]:
    """Create the three role groups in the current schema if missing (idempotent)."""
    return [Group.objects.get_or_create(name=name)[0] for name in ROLES]


def staff_role(account: Any) -> str | None:
    """The role of a staff account of this comune, or None (no back office for it)."""
    if not (
        account is not None
        and getattr(account, "is_authenticated", False)
        and account.is_active
        and account.is_staff
        and account.kind == Account.Kind.STAFF
    ):
        return None
    cached = getattr(account, "_backoffice_role", "")
    if cached != "":
        return cached
    names = set(account.groups.filter(name__in=ROLES).values_list("name", flat=True))
    # With several groups the widest role wins, in the order of ROLES.
    role = next((r for r in ROLES if r in names), None)
    account._backoffice_role = role
    return role


def role_allows(account: Any, action: Action) -> bool:
    role = staff_role(account)
    return role is not None and action in MATRIX[role]


def role_require(account: Any, action: Action) -> None:
    if not role_allows(account, action):
        raise RoleDenied()
