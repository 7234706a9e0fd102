"""Who may use the operators' console: an operator account that has passed
both the password and the TOTP step in this session."""

from __future__ import annotations

from django.http import HttpRequest

from identity.models import Account

SECOND_FACTOR_SESSION_KEY = "operatore_secondo_fattore"


def operator_authenticated(request: HttpRequest) -> bool:
    """Password step done by an active operator account (public schema)."""
    user = request.user
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and getattr(user, "kind", None) == Account.Kind.OPERATOR
    )


def second_factor_passed(request: HttpRequest) -> bool:
    # The session stores whose code was checked, so a session that changes
    # user (login() keeps data for the same user only) never inherits it.
    return (
        operator_authenticated(request) and request.session.get(SECOND_FACTOR_SESSION_KEY) == request.user.pk
    )
