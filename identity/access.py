"""Access rules for the parents' pages: who may see an enrollment page.

A parent page needs, in this order: a logged-in parent account of this
comune, a password that is not a temporary one waiting to be changed, and a
verified e-mail address ("Verifica Email", both seeds).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from identity.models import Account

LOGIN_URL = "/accesso/"
PASSWORD_CHANGE_URL = "/accesso/cambio-password/"  # noqa: S105 (a URL)
EMAIL_VERIFY_URL = "/accesso/verifica-email/"
# Where a parent lands after login (enrollment app's pages).
PARENT_HOME_URL = "/iscrizioni/"
NEW_ENROLLMENT_URL = "/iscrizioni/nuova/"


# Set on the session in which a temporary password was issued (first "Salva
# Bozza" of a "Sono un nuovo iscritto" family): that parent is already in and
# keeps working; "Cambio Password" is asked at the next access with it.
PASSWORD_CHANGE_DEFERRED = "password_change_deferred"  # noqa: S105 (a session key)


# The login backend recorded for "Sono un nuovo iscritto" without a password:
# an empty account opened by a codice fiscale alone, which proves nothing.
CF_ONLY_BACKEND = "codice_fiscale_nuovo"


def codice_fiscale_backend_key(*, password: str) -> str:
    return "codice_fiscale" if password else CF_ONLY_BACKEND


def signed_in_with_secret(login_backend: str) -> bool:
    """Whether a sign-in used a secret (password, SPID/CIE), not only a codice fiscale."""
    return bool(login_backend) and login_backend != CF_ONLY_BACKEND


def password_change_defer(request: HttpRequest) -> None:
    if request.user.is_authenticated and request.user.must_change_password:
        request.session[PASSWORD_CHANGE_DEFERRED] = True


def _redirect(url: str, request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(f"{url}?{urlencode({'next': request.get_full_path()})}")


def parent_access_problem(request: HttpRequest) -> str | None:
    """The URL the parent must visit first, or None when the page may be shown."""
    user = request.user
    if not user.is_authenticated or getattr(user, "kind", None) != Account.Kind.PARENT:
        return LOGIN_URL
    if user.must_change_password and not request.session.get(PASSWORD_CHANGE_DEFERRED):
        return PASSWORD_CHANGE_URL
    if user.email_verified_at is None:
        return EMAIL_VERIFY_URL
    return None


def parent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        url = parent_access_problem(request)
        if url is not None:
            return _redirect(url, request)
        return view(request, *args, **kwargs)

    return wrapper
