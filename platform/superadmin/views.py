"""The platform's public home, the operators' console pages and the
comune administrator's invitation page.

Console pages are mounted by superadmin/urls.py (wrapped in the site's
`admin_view`, so they need a logged-in operator who passed the TOTP step);
every change goes through superadmin.operations or tenants.services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from core.models import AuditEntry
from superadmin import operations, totp
from superadmin.access import SECOND_FACTOR_SESSION_KEY, operator_authenticated, second_factor_passed
from superadmin.forms import (
    ConfigEditForm,
    HostForm,
    InvitationPasswordForm,
    OffboardForm,
    OnboardForm,
    SecondFactorForm,
    SuspendForm,
)
from superadmin.links import ADMIN_INVITATION_LINK
from superadmin.selectors import comuni_overview, health_report
from superadmin.services import (
    SecondFactorError,
    invitation_accept,
    second_factor_enrol_start,
    second_factor_verify,
)
from superadmin.site import operator_site
from tenants import services as comune_services
from tenants.config import ConfigError, config_dump
from tenants.models import Comune
from tenants.selectors import comuni_list

COMUNI_PER_PAGE = 50
TOTP_ISSUER = "Iscrizioni Scolastiche"


def platform_home(request: HttpRequest) -> HttpResponse:
    return render(request, "superadmin/home.html")


def _site_context(request: HttpRequest, title: str) -> dict[str, Any]:
    return {**operator_site.each_context(request), "title": title}


def _render(
    request: HttpRequest, template: str, title: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return TemplateResponse(request, template, {**_site_context(request, title), **context}, status=status)


def _comune(slug: str) -> Comune:
    return get_object_or_404(comuni_list(), slug=slug)


def _to_detail(comune: Comune) -> HttpResponse:
    return redirect("operator_admin:comune_detail", slug=comune.slug)


# --- second factor ---------------------------------------------------------


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("operator_admin:index")


@never_cache
@sensitive_post_parameters("code")
def second_factor(request: HttpRequest) -> HttpResponse:
    """The TOTP step after the password; the first time it also enrols the app."""
    if not operator_authenticated(request):
        return redirect("operator_admin:login")
    if second_factor_passed(request):
        return HttpResponseRedirect(_safe_next(request))
    factor = second_factor_enrol_start(account=request.user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor_verify(account=request.user, code=form.cleaned_data["code"], request=request)
        except SecondFactorError as exc:
            form.add_error("code", exc.message)
        else:
            request.session.cycle_key()
            request.session[SECOND_FACTOR_SESSION_KEY] = request.user.pk
            return HttpResponseRedirect(_safe_next(request))
    enrolling = not factor.is_confirmed
    context = {
        "form": form,
        "enrolling": enrolling,
        "next": _safe_next(request),
        "secret": factor.secret if enrolling else "",
        "uri": totp.provisioning_uri(factor.secret, account_name=request.user.username, issuer=TOTP_ISSUER)
        if enrolling
        else "",
    }
    title = "Attiva il secondo fattore" if enrolling else "Verifica in due passaggi"
    return _render(request, "superadmin/second_factor.html", title, context)


@require_POST
def second_factor_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("operator_admin:login")


# --- comuni ----------------------------------------------------------------


def comuni(request: HttpRequest) -> HttpResponse:
    page = Paginator(comuni_list(), COMUNI_PER_PAGE).get_page(request.GET.get("pagina"))
    rows = comuni_overview(list(page.object_list))
    return _render(request, "superadmin/comuni.html", "Comuni", {"rows": rows, "page": page})


def comune_onboard(request: HttpRequest) -> HttpResponse:
    form = OnboardForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = operations.comune_onboard(
                config=form.parsed_config,
                admin_email=form.cleaned_data["admin_email"],
                admin_first_name=form.cleaned_data["admin_first_name"],
                admin_last_name=form.cleaned_data["admin_last_name"],
                by=request.user,
            )
        except ConfigError as exc:
            form.add_config_error(exc, form.config_field)
        else:
            messages.success(
                request,
                f"{result.comune.display_name} creato in {result.seconds:.2f} s. "
                f"Invito inviato a {result.admin.email} (codice utente {result.admin.username}).",
            )
            return _to_detail(result.comune)
    status = 400 if form.errors else 200
    return _render(request, "superadmin/onboard.html", "Nuovo comune", {"form": form}, status=status)


def _detail(request: HttpRequest, comune: Comune, status: int = 200, **forms: Any) -> HttpResponse:
    history = AuditEntry.objects.filter(object_type=Comune._meta.label_lower, object_id=str(comune.pk))[:20]
    context = {
        "comune": comune,
        "row": comuni_overview([comune])[0],
        "suspend_form": forms.get("suspend_form") or SuspendForm(),
        "host_form": forms.get("host_form") or HostForm(),
        "host_error": forms.get("host_error", ""),
        "history": history,
    }
    return _render(request, "superadmin/comune_detail.html", comune.display_name, context, status=status)


def comune_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail(request, _comune(slug))


def comune_config(request: HttpRequest, slug: str) -> HttpResponse:
    comune = _comune(slug)
    form = ConfigEditForm(
        request.POST or None, slug=comune.slug, initial={"yaml_text": config_dump(comune.settings)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = operations.comune_config_update(
                comune=comune, config=form.parsed_config, by=request.user
            )
        except ConfigError as exc:
            form.add_config_error(exc, "yaml_text")
        else:
            if result.changes:
                messages.success(request, "Configurazione salvata: " + "; ".join(result.changes) + ".")
            else:
                messages.info(request, "Nessuna modifica da salvare.")
            return _to_detail(comune)
    status = 400 if form.errors else 200
    context = {"comune": comune, "form": form}
    return _render(
        request, "superadmin/comune_config.html", f"Impostazioni: {comune.display_name}", context, status
    )


def comune_config_export(request: HttpRequest, slug: str) -> HttpResponse:
    comune = _comune(slug)
    text = comune_services.comune_config_export(comune=comune, by=request.user)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{comune.slug}.yaml"'
    return response


@require_POST
def comune_suspend(request: HttpRequest, slug: str) -> HttpResponse:
    comune = _comune(slug)
    form = SuspendForm(request.POST)
    if not form.is_valid():
        return _detail(request, comune, status=400, suspend_form=form)
    comune_services.comune_suspend(comune=comune, reason=form.cleaned_data["reason"], by=request.user)
    messages.success(request, f"{comune.display_name} sospeso: il portale risponde 503 con l'avviso.")
    return _to_detail(comune)


@require_POST
def comune_resume(request: HttpRequest, slug: str) -> HttpResponse:
    comune = _comune(slug)
    comune_services.comune_resume(comune=comune, by=request.user)
    messages.success(request, f"{comune.display_name} riattivato.")
    return _to_detail(comune)


@require_POST
def comune_host_add(request: HttpRequest, slug: str) -> HttpResponse:
    comune = _comune(slug)
    form = HostForm(request.POST)
    if form.is_valid():
        try:
            comune_services.comune_domain_add(comune=comune, host=form.cleaned_data["host"], by=request.user)
        except comune_services.ComuneError as exc:
            form.add_error("host", exc.message)
        else:
            messages.success(request, f"Host {form.cleaned_data['host']} aggiunto.")
            return _to_detail(comune)
    return _detail(request, comune, status=400, host_form=form)


@require_POST
def comune_host_remove(request: HttpRequest, slug: str) -> HttpResponse:
    comune = _comune(slug)
    host = request.POST.get("host", "")
    try:
        comune_services.comune_domain_remove(comune=comune, host=host, by=request.user)
    except comune_services.ComuneError as exc:
        return _detail(request, comune, status=400, host_error=exc.message)
    messages.success(request, f"Host {host} rimosso.")
    return _to_detail(comune)


@require_POST
def comune_export(request: HttpRequest, slug: str) -> HttpResponse:
    comune = _comune(slug)
    try:
        folder = operations.comune_data_export(comune=comune, by=request.user)
    except comune_services.ComuneError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Dati esportati in {folder}.")
    return _to_detail(comune)


def comune_offboard(request: HttpRequest, slug: str) -> HttpResponse:
    comune = _comune(slug)
    form = OffboardForm(request.POST or None, slug=comune.slug)
    if request.method == "POST" and form.is_valid():
        try:
            folder = operations.comune_offboard(
                comune=comune, confirmation=form.cleaned_data["confirmation"], by=request.user
            )
        except comune_services.ComuneError as exc:
            form.add_error("confirmation", exc.message)
        else:
            messages.success(request, f"{comune.display_name} dismesso. Esportazione in {folder}.")
            return redirect("operator_admin:comuni")
    status = 400 if form.errors else 200
    context = {"comune": comune, "form": form}
    return _render(
        request, "superadmin/comune_offboard.html", f"Dismissione: {comune.display_name}", context, status
    )


def health(request: HttpRequest) -> HttpResponse:
    return _render(request, "superadmin/health.html", "Stato della piattaforma", {"health": health_report()})


# --- invitation (on the comune's host) -------------------------------------

# The first administrator's invitation, mailed by tenants.services.comune_onboard.


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
def invitation(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Set the first password from an invitation link (one time only)."""
    visit = ADMIN_INVITATION_LINK.open(request, uidb64=uidb64, token=token)
    if visit.redirect is not None:
        return visit.redirect
    account = visit.account
    if account is None:
        return render(request, "superadmin/invitation_invalid.html", status=400)
    form = InvitationPasswordForm(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation_accept(account=account, password=form.cleaned_data["new_password1"], request=request)
        ADMIN_INVITATION_LINK.consume(request)
        return render(request, "superadmin/invitation_done.html", {"account": account})
    status = 400 if form.errors else 200
    return render(request, "superadmin/invitation.html", {"form": form, "account": account}, status=status)
