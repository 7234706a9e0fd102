"""Request types for views that run after authentication on a comune's host."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from identity.models import Account
    from tenants.models import Comune


class TenantRequest(HttpRequest):
    """Any request on a comune's host: django-tenants has set ``tenant``."""

    tenant: Comune


class AuthenticatedRequest(TenantRequest):
    """A request behind ``login_required`` (or an API permission): ``user`` is an Account."""

    user: Account
