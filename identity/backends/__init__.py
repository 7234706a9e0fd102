"""Login backends: a small base class and a registry.

Each comune enables a subset in its YAML (`identity.backends`), in its own
order; the login page shows exactly those, in that order. A backend owns its
URLs under `/accesso/<key>/` and, once it has identified a person, hands the
account to `identity.services.login_complete`, which applies the steps every
backend shares (session rotation, audit, forced password change, e-mail
verification).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.http import HttpRequest
from django.urls import URLPattern

if TYPE_CHECKING:
    from tenants.models import Comune


class LoginBackend:
    """One way into a comune's portal (credentials, codice fiscale, SPID, CIE)."""

    key: ClassVar[str]
    label: ClassVar[str]
    # Template of the block this backend shows on the login page (a button
    # or a small form); rendered with `entry_context()`.
    entry_template: ClassVar[str]

    def entry_context(self, request: HttpRequest, *, comune: Comune) -> dict[str, Any]:
        return {}

    def urlpatterns(self) -> list[URLPattern]:
        """URLs of this backend, mounted under /accesso/<key>/ with namespace <key>."""
        return []


_registry: dict[str, type[LoginBackend]] = {}


def register(cls: type[LoginBackend]) -> type[LoginBackend]:
    if cls.key in _registry and _registry[cls.key] is not cls:
        raise ValueError(f"login backend {cls.key!r} registered twice")
    _registry[cls.key] = cls
    return cls


def registered() -> dict[str, type[LoginBackend]]:
    return dict(_registry)


def backends_for(comune: Comune) -> list[LoginBackend]:
    """The comune's enabled backends, in the order of its config."""
    return [_registry[key]() for key in comune.settings.identity.backends if key in _registry]


def backend_enabled(comune: Comune, key: str) -> bool:
    return key in comune.settings.identity.backends
