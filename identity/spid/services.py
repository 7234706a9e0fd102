"""Writes of the SPID/CIE login: find-or-create the parent, log in, remember the SAML session."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest

from core import shared_state
from core.services import audit_record
from identity.services import login_complete, parent_account_for_codice_fiscale
from identity.spid.authn import PendingRequest, pending_consume
from identity.spid.validation import CLOCK_SKEW, Identity, ResponseRefused

SESSION_KEY = "saml"


def _replay_key(identity: Identity) -> str:
    digest = hashlib.sha256(f"{identity.idp_entity_id}|{identity.assertion_id}".encode()).hexdigest()
    return f"spid:assertion:{digest}"


def saml_login_complete(
    *, request: HttpRequest, identity: Identity, pending: PendingRequest, kind: str
) -> str:
    """Accept a validated assertion once and log its person in. Returns where to go next."""
    # Both the request and the assertion are single-use: a replayed response
    # finds neither its pending request nor a fresh assertion id.
    if not pending_consume(pending):
        raise ResponseRefused(f"request {pending.request_id} already answered")
    ttl = (identity.not_on_or_after - dt.datetime.now(dt.UTC) + CLOCK_SKEW).total_seconds()
    if not shared_state.mark_add(_replay_key(identity), ttl=max(int(ttl), 60)):
        raise ResponseRefused(f"assertion {identity.assertion_id} replayed")
    with transaction.atomic():
        account, created = parent_account_for_codice_fiscale(
            codice_fiscale=identity.codice_fiscale,
            first_name=identity.first_name,
            last_name=identity.last_name,
            email=identity.email,
        )
        if not account.is_active:
            raise ResponseRefused(
                f"account {account.pk} is disabled",
                user_message="Il tuo account è stato disattivato dal comune: contatta l'ufficio scuola.",
            )
        if created:
            audit_record(
                action="account.created", actor=account, obj=account, data={"backend": kind}, request=request
            )
        destination = login_complete(
            request=request, account=account, backend_key=kind, next_url=pending.next_url or None
        )
    # What SLO needs, in the new (rotated) session.
    request.session[SESSION_KEY] = {
        "kind": kind,
        "idp": identity.idp_entity_id,
        "name_id": identity.name_id,
        "name_id_format": identity.name_id_format,
        "name_qualifier": identity.name_qualifier,
        "session_index": identity.session_index,
        "level": identity.level,
    }
    return destination


def saml_logout(*, request: HttpRequest) -> None:
    if request.user.is_authenticated:
        audit_record(action="logout", actor=request.user, obj=request.user, data={}, request=request)
    logout(request)
