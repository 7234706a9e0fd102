"""Audit of the operators' own logins on the base host (public schema)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name

from core.services import audit_record
from core.tenancy import current_schema
from identity.models import Account


def _on_public_host() -> bool:
    return current_schema() == get_public_schema_name()


def operator_logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if _on_public_host() and getattr(user, "kind", None) == Account.Kind.OPERATOR:
        audit_record(action="operatore.password_ok", actor=user, obj=user, request=request)


def operator_logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if _on_public_host() and getattr(user, "kind", None) == Account.Kind.OPERATOR:
        audit_record(action="operatore.uscita", actor=user, obj=user, request=request)


def operator_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if _on_public_host() and request is not None and request.path.startswith("/admin/"):
        audit_record(
            action="operatore.password_errata",
            actor_label=str(credentials.get("username", ""))[:150] or "anonimo",
            request=request,
        )
