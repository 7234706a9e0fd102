"""Access pages of a comune's portal: login, Cambio Password, Verifica Email, logout, reset."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from core.models import OutgoingEmail
from core.tasks import CODE_EMAIL_RETRY
from identity import email_verification, services
from identity.access import (
    EMAIL_VERIFY_URL,
    LOGIN_URL,
    PARENT_HOME_URL,
    codice_fiscale_backend_key,
    parent_access_problem,
)
from identity.backends import backend_enabled, backends_for
from identity.forms import (
    PASSWORD_HELP_ID,
    CodiceFiscaleLoginForm,
    CredentialsLoginForm,
    EmailCodeForm,
    EmailVerifyForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    PasswordResetSetForm,
    password_requirements,
)
from identity.models import Account
from identity.selectors import email_verification_latest
from identity.token_links import PASSWORD_RESET_LINK
from tenants.models import Comune

EMAIL_CODE_URL = EMAIL_VERIFY_URL + "codice/"
CODE_NEXT_STEP = "Inserire il codice e premere il tasto Conferma per procedere con l'iscrizione."
RESET_SENT_MESSAGE = (
    "Se il codice inserito corrisponde a un account con un indirizzo email, a quell'indirizzo è "
    "stato inviato un collegamento per scegliere una nuova password. Il collegamento vale un'ora."
)
# Where bound forms of a failed login wait for the login page to render them.
_BOUND_FORMS_ATTR = "_identity_bound_forms"


def _comune(request: HttpRequest) -> Comune:
    tenant = getattr(request, "tenant", None)
    if not isinstance(tenant, Comune) or tenant.schema_name == "public":
        raise Http404
    return tenant


def _next_value(request: HttpRequest) -> str:
    """The validated `next` to carry in forms, or ""."""
    return services.safe_next_url(request, default="")


def bound_form(request: HttpRequest, key: str, form_class: type[forms.Form]) -> forms.Form:
    """The form a backend shows on the login page: the submitted one after an error, else empty."""
    return getattr(request, _BOUND_FORMS_ATTR, {}).get(key) or form_class(prefix=key)


def _error_form(request: HttpRequest) -> forms.Form | None:
    bound = getattr(request, _BOUND_FORMS_ATTR, {})
    return next(iter(bound.values()), None)


@never_cache
def login_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    """ "Accesso": one block per login method the comune enabled, in its order."""
    comune = _comune(request)
    blocks = [
        mark_safe(  # noqa: S308 (our own templates, autoescaped)
            render_to_string(
                backend.entry_template,
                {**backend.entry_context(request, comune=comune), "backend": backend},
                request=request,
            )
        )
        for backend in backends_for(comune)
    ]
    return render(
        request,
        "identity/login.html",
        {
            "blocks": blocks,
            "error_form": _error_form(request),
            "next": _next_value(request),
            "credentials_enabled": backend_enabled(comune, "credentials"),
        },
        status=status,
    )


def _login_failed(request: HttpRequest, key: str, form: forms.Form) -> HttpResponse:
    setattr(request, _BOUND_FORMS_ATTR, {key: form})
    return login_page(request, status=400 if form.errors else 200)


def _access_error_add(form: forms.Form, error: services.AccessError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


@sensitive_post_parameters("credentials-password")
@require_POST
def credentials_login(request: HttpRequest) -> HttpResponse:
    if not backend_enabled(_comune(request), "credentials"):
        raise Http404
    form = CredentialsLoginForm(request.POST, prefix="credentials")
    if form.is_valid():
        try:
            account = services.credentials_authenticate(
                request=request,
                codice_utente=form.cleaned_data["codice_utente"],
                password=form.cleaned_data["password"],
            )
        except services.AccessError as error:
            _access_error_add(form, error)
        else:
            return redirect(
                services.login_complete(request=request, account=account, backend_key="credentials")
            )
    return _login_failed(request, "credentials", form)


@sensitive_post_parameters("codice_fiscale-password")
@require_POST
def codice_fiscale_login(request: HttpRequest) -> HttpResponse:
    if not backend_enabled(_comune(request), "codice_fiscale"):
        raise Http404
    form = CodiceFiscaleLoginForm(request.POST, prefix="codice_fiscale")
    if form.is_valid():
        try:
            account, destination = services.codice_fiscale_access(
                request=request,
                codice_fiscale=form.cleaned_data["codice_fiscale"],
                password=form.cleaned_data["password"],
            )
        except services.AccessError as error:
            _access_error_add(form, error)
        else:
            return redirect(
                services.login_complete(
                    request=request,
                    account=account,
                    backend_key=codice_fiscale_backend_key(password=form.cleaned_data["password"]),
                    next_url=destination,
                )
            )
    return _login_failed(request, "codice_fiscale", form)


def _after_access_step(request: HttpRequest) -> HttpResponse:
    """Next shared step after login, or the page the parent was going to."""
    step = parent_access_problem(request)
    next_value = _next_value(request)
    if step is not None and step != LOGIN_URL:
        return HttpResponseRedirect(f"{step}?{urlencode({'next': next_value})}" if next_value else step)
    destination = next_value or request.session.pop("after_access_url", None) or PARENT_HOME_URL
    return HttpResponseRedirect(destination)


def _login_redirect(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(f"{LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")


def _parent(request: HttpRequest) -> Account | None:
    user = request.user
    if isinstance(user, Account) and user.kind == Account.Kind.PARENT:
        return user
    return None


@never_cache
@sensitive_post_parameters()
def password_change(request: HttpRequest) -> HttpResponse:
    """ "Cambio Password": forced after an issued or temporary password, else on request."""
    _comune(request)
    account = _parent(request)
    if account is None:
        return _login_redirect(request)
    form = PasswordChangeForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        services.password_change(
            request=request, account=account, new_password=form.cleaned_data["new_password1"]
        )
        messages.success(request, gettext("Password modificata correttamente."))
        return _after_access_step(request)
    return render(
        request,
        "identity/password_change.html",
        _password_page_context(form, request),
        status=400 if form.errors else 200,
    )


def _password_page_context(form: forms.Form, request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "form": form,
        "requirements": password_requirements(),
        "help_id": PASSWORD_HELP_ID,
        "next": _next_value(request),
        **extra,
    }


def _verification_account(request: HttpRequest) -> tuple[Account | None, HttpResponse | None]:
    account = _parent(request)
    if account is None:
        return None, _login_redirect(request)
    if account.must_change_password:
        return None, _after_access_step(request)
    return account, None


@never_cache
def email_verify(request: HttpRequest) -> HttpResponse:
    """ "Verifica Email": the address to send the Codice sicurezza to."""
    comune = _comune(request)
    account, elsewhere = _verification_account(request)
    if elsewhere is not None:
        return elsewhere
    assert account is not None
    form = EmailVerifyForm(request.POST or None, initial={"email": account.email})
    if request.method == "POST" and form.is_valid():
        try:
            email_verification.email_verification_send(
                request=request,
                account=account,
                email=form.cleaned_data["email"],
                login_backend=request.session.get("login_backend", ""),
            )
        except services.AccessError as error:
            _access_error_add(form, error)
        else:
            next_value = _next_value(request)
            return HttpResponseRedirect(
                f"{EMAIL_CODE_URL}?{urlencode({'next': next_value})}" if next_value else EMAIL_CODE_URL
            )
    return render(
        request,
        "identity/email_verify.html",
        {"form": form, "comune_name": comune.display_name, "next": _next_value(request)},
        status=400 if form.errors else 200,
    )


def _code_delivery(account: Account) -> tuple[str, str] | None:
    """(alert level, message) on the e-mail of the account's latest Codice sicurezza.

    The mail job sends it after the page answered: the page tells what
    happened to it instead of promising it left.
    """
    verification = email_verification_latest(account=account)
    mail = verification.outgoing_email if verification is not None else None
    if verification is None or mail is None:
        return None
    to = verification.email
    if mail.status == OutgoingEmail.Status.SENT:
        return "success", f"Codice sicurezza inviato correttamente a {to}. {CODE_NEXT_STEP}"
    if mail.status == OutgoingEmail.Status.QUEUED:
        return (
            "info",
            f"Invio del codice sicurezza a {to} in corso: di solito arriva entro un minuto. {CODE_NEXT_STEP}",
        )
    retrying = (
        mail.attempts <= (CODE_EMAIL_RETRY.max_attempts or 0) and timezone.now() < verification.expires_at
    )
    if retrying:
        return "danger", (
            f"Non è stato possibile inviare il codice sicurezza a {to}. Il portale riprova da solo nei "
            "prossimi minuti: ricaricare questa pagina per sapere se è partito. Se il codice non arriva, "
            "controllare l'indirizzo, premere Indietro e riprovare con «Invia email»."
        )
    return "danger", (
        f"Non è stato possibile inviare il codice sicurezza a {to}. Controllare l'indirizzo, premere "
        "Indietro e riprovare con «Invia email»; se il problema continua, contattare il comune."
    )


@never_cache
def email_verify_code(request: HttpRequest) -> HttpResponse:
    """ "Inserimento Codice sicurezza"."""
    comune = _comune(request)
    account, elsewhere = _verification_account(request)
    if elsewhere is not None:
        return elsewhere
    assert account is not None
    form = EmailCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            email_verification.email_verification_confirm(
                request=request, account=account, code=form.cleaned_data["code"]
            )
        except services.AccessError as error:
            _access_error_add(form, error)
        else:
            messages.success(request, gettext("Email verificata correttamente."))
            return _after_access_step(request)
    next_value = _next_value(request)
    return render(
        request,
        "identity/email_verify_code.html",
        {
            "form": form,
            "comune_name": comune.display_name,
            "next": next_value,
            "delivery": _code_delivery(account),
            "back_url": f"{EMAIL_VERIFY_URL}?{urlencode({'next': next_value})}"
            if next_value
            else EMAIL_VERIFY_URL,
        },
        status=400 if form.errors else 200,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """ "Esci"."""
    services.logout_complete(request=request)
    messages.info(request, gettext("Sei uscito dal portale."))
    return HttpResponseRedirect("/")


@never_cache
def password_reset_request(request: HttpRequest) -> HttpResponse:
    """ "Password dimenticata": the same answer whether or not the account exists."""
    _comune(request)
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_request(request=request, identifier=form.cleaned_data["identifier"])
        except services.AccessError as error:
            _access_error_add(form, error)
        else:
            messages.info(request, RESET_SENT_MESSAGE)
            return HttpResponseRedirect(LOGIN_URL)
    return render(
        request, "identity/password_reset_request.html", {"form": form}, status=400 if form.errors else 200
    )


@never_cache
@sensitive_post_parameters()
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    _comune(request)
    visit = PASSWORD_RESET_LINK.open(request, uidb64=uidb64, token=token)
    if visit.redirect is not None:
        return visit.redirect
    account = visit.account
    if account is None:
        return render(request, "identity/password_reset_invalid.html", status=400)
    form = PasswordResetSetForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        services.password_reset_complete(
            request=request, account=account, new_password=form.cleaned_data["new_password1"]
        )
        PASSWORD_RESET_LINK.consume(request)
        messages.success(request, gettext("Password impostata correttamente: ora è possibile accedere."))
        return HttpResponseRedirect(LOGIN_URL)
    return render(
        request,
        "identity/password_reset_confirm.html",
        _password_page_context(form, request),
        status=400 if form.errors else 200,
    )
