"""Writes on accounts and sessions of the current comune."""

from __future__ import annotations

import secrets

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from core.services import audit_record, email_enqueue
from identity.access import PARENT_HOME_URL, parent_access_problem
from identity.models import Account


def safe_next_url(request: HttpRequest, default: str = PARENT_HOME_URL) -> str:
    """The `next` parameter when it points back to this same host, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def login_complete(
    *, request: HttpRequest, account: Account, backend_key: str, next_url: str | None = None
) -> str:
    """Log `account` in (new session id), audit it, and return where to go next.

    Every backend ends here, so the shared steps (forced "Cambio Password",
    "Verifica Email") cannot be skipped by any way in.
    """
    with transaction.atomic():
        login(request, account, backend="django.contrib.auth.backends.ModelBackend")
        request.session["login_backend"] = backend_key
        audit_record(
            action="login.success",
            actor=account,
            obj=account,
            data={"backend": backend_key},
            request=request,
        )
    destination = next_url or safe_next_url(request)
    step = parent_access_problem(request) if account.kind == Account.Kind.PARENT else None
    if step is not None:
        request.session["after_access_url"] = destination
        return step
    return destination


def parent_account_for_codice_fiscale(
    *, codice_fiscale: str, first_name: str = "", last_name: str = "", email: str = ""
) -> tuple[Account, bool]:
    """Find the parent account of a person identified by an IdP (SPID/CIE), or create it.

    Returns (account, created). The codice fiscale is the identity: names and
    e-mail from the IdP fill empty fields but never overwrite what the parent
    verified or corrected.
    """
    cf = codice_fiscale.strip().upper()
    with transaction.atomic():
        account = (
            Account.objects.select_for_update()
            .filter(kind=Account.Kind.PARENT, codice_fiscale=cf)
            .order_by("id")
            .first()
        )
        if account is None:
            account = Account.objects.create_user(
                username=cf,
                kind=Account.Kind.PARENT,
                codice_fiscale=cf,
                first_name=first_name,
                last_name=last_name,
                email=email,
            )
            return account, True
        changed = []
        for field, value in (("first_name", first_name), ("last_name", last_name), ("email", email)):
            if value and not getattr(account, field):
                setattr(account, field, value)
                changed.append(field)
        if changed:
            account.save(update_fields=changed)
        return account, False


def temporary_password_issue(*, account: Account) -> None:
    """Give `account` a random password it must change at next use, and mail it.

    Called when a "Sono un nuovo iscritto" parent first saves a draft, so
    they can come back to it later (seed 000).
    """
    password = secrets.token_urlsafe(9)
    with transaction.atomic():
        account.set_password(password)
        account.must_change_password = True
        account.save(update_fields=["password", "must_change_password"])
        audit_record(action="password.temporary_issued", actor=account, obj=account)
        email_enqueue(
            to=[account.email],
            subject="Password temporanea per il Portale Iscrizioni",
            body=(
                "Gentile genitore,\n\n"
                "la tua iscrizione è stata salvata in bozza. Per accedervi di nuovo usa il codice "
                f"fiscale dell'alunno {account.username} e la password temporanea:\n\n"
                f"    {password}\n\n"
                "Al primo accesso ti sarà chiesto di scegliere una password personale.\n"
            ),
            purpose="temporary_password",
        )
