"""Reads on the app's tokens of the current comune."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from api.models import ApiToken
from api.services import secret_hash
from identity.models import Account


def token_for_key(*, key: str) -> ApiToken | None:
    return ApiToken.objects.select_related("account").filter(key_hash=secret_hash(key)).first()


def tokens_active(*, account: Account) -> QuerySet[ApiToken]:
    """The devices signed in as `account` ("dispositivi"): not revoked, not expired, not
    ended by a password change."""
    return ApiToken.objects.filter(
        account=account,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
        account_hash=account.get_session_auth_hash(),
    ).order_by("-created_at", "-id")
