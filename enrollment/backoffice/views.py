"""Pages of the back office. Thin: parse a form, call one service, render.

Every view is mounted through `staff_site.admin_view` (login, CSRF, no
cache) and checks the role's permission for its action with `allowed`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from enrollment import documents, feedback
from enrollment.backoffice import exports
from enrollment.backoffice import selectors as sel
from enrollment.backoffice.forms import (
    AdjustmentForm,
    ConfirmForm,
    DefinitionForm,
    EnrollmentFilterForm,
    FamilyEraseForm,
    FamilySearchForm,
    PasswordSetForm,
    RejectForm,
    RoleForm,
    ServiceCreateForm,
    ServiceForm,
    SportelloKindForm,
    StaffCreateForm,
)
from enrollment.backoffice.graduatoria import graduatoria_adjust, graduatoria_compute, graduatoria_publish
from enrollment.backoffice.roles import MATRIX, Action, RoleDenied, role_allows, staff_role
from enrollment.backoffice.services import (
    OPERATIONAL_FIELDS,
    enrollment_reopen_notify,
    enrollment_view_record,
    enrollments_confirm_bulk,
    enrollments_export_record,
    service_create,
    service_definition_text,
    service_definition_update,
    service_staff_edits_clear,
    service_update,
    sportello_enrollment_create,
    staff_account_create,
    staff_account_deactivate,
    staff_password_set,
    staff_role_set,
    waiting_list_promote,
)
from enrollment.catalogue import service_staff_edited_fields
from enrollment.definitions import service_definition
from enrollment.fees import euro
from enrollment.forms import EnrollmentForm
from enrollment.gdpr import GdprError, family_erase, family_export
from enrollment.graduatorie import active_criteria
from enrollment.models import Enrollment, Graduatoria, Guardian, Service
from enrollment.selectors import (
    comune_current,
    enrollment_fee,
    guardian_by_code,
    guardian_personal_data,
    services_catalogue,
)
from enrollment.services import EnrollmentError, enrollment_confirm, enrollment_reject
from enrollment.views import pdf_download
from identity.http import AuthenticatedRequest
from identity.models import Account
from identity.token_links import TokenLink

PAGE_SIZE = 50


def _denied(request: HttpRequest) -> HttpResponse:
    return render(request, "backoffice/denied.html", _ctx(request), status=403)


def allowed(action: Action) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Let the view run only for a role whose matrix row has `action`."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not role_allows(request.user, action):
                return _denied(request)
            try:
                return view(request, *args, **kwargs)
            except RoleDenied:
                return _denied(request)

        return wrapper

    return decorator


def _ctx(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    role = staff_role(request.user)
    return {"role": role, "can": {a.value: a in MATRIX[role] for a in Action} if role else {}, **extra}


def _page(request: HttpRequest, template: str, **extra: Any) -> HttpResponse:
    return render(request, template, _ctx(request, **extra))


# Dashboard ------------------------------------------------------------------


@allowed(Action.VIEW)
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    years = sel.school_years()
    year = request.GET.get("anno") or (years[0] if years else "")
    if year not in years:
        year = years[0] if years else ""
    per_day = sel.submissions_per_day(school_year=year) if year else []
    return _page(
        request,
        "backoffice/dashboard.html",
        years=years,
        year=year,
        counts=sel.dashboard_counts(school_year=year) if year else [],
        per_day=per_day,
        per_day_max=max((n for _, n in per_day), default=0),
        statuses=[(v, label) for v, label in Enrollment.Status.choices if v != Enrollment.Status.BOZZA],
    )


@allowed(Action.VIEW)
def feedback_list(request: AuthenticatedRequest) -> HttpResponse:
    """The parents' ratings of the service: average, distribution and comments."""
    comments = Paginator(feedback.feedback_comments(), PAGE_SIZE).get_page(request.GET.get("pagina"))
    return _page(
        request,
        "backoffice/feedback.html",
        summary=feedback.feedback_summary(),
        comments=comments,
        aspect_labels=feedback.ASPECT_LABELS,
        title=feedback.TITLE,
    )


# List, exports, bulk ---------------------------------------------------------


@allowed(Action.VIEW)
def enrollment_list(request: AuthenticatedRequest) -> HttpResponse:
    form = EnrollmentFilterForm(request.GET or None)
    qs = sel.enrollments_for_staff(filters=form.filters() if form.is_bound else sel.EnrollmentFilters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("pagina"))
    query = request.GET.copy()
    query.pop("pagina", None)
    return _page(
        request,
        "backoffice/list.html",
        form=form,
        page=page,
        query=query.urlencode(),
        filters_valid=not form.is_bound or form.is_valid(),
    )


def _filtered(request: HttpRequest) -> sel.EnrollmentFilters | None:
    """The list's filters, or None when they are invalid (an export must never
    fall back to the whole list)."""
    form = EnrollmentFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return None
    return form.filters() if form.is_bound else sel.EnrollmentFilters()


def _back_to_list(request: HttpRequest) -> HttpResponse:
    messages.error(request, "Correggi i filtri prima di esportare l'elenco.")
    return redirect(f"{reverse('staff_admin:bo_list')}?{request.GET.urlencode()}")


def _export_record(request: AuthenticatedRequest, fmt: str) -> None:
    filters = {k: v for k, v in request.GET.dict().items() if v}
    enrollments_export_record(by=request.user, fmt=fmt, filters=filters, request=request)


@allowed(Action.EXPORT)
def export_csv(request: AuthenticatedRequest) -> HttpResponseBase:
    filters = _filtered(request)
    if filters is None:
        return _back_to_list(request)
    _export_record(request, "csv")
    lines = exports.csv_lines(sel.enrollments_for_staff(filters=filters), service=filters.service)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.export_filename("csv")}"'
    return response


@allowed(Action.EXPORT)
def export_xlsx(request: AuthenticatedRequest) -> HttpResponseBase:
    filters = _filtered(request)
    if filters is None:
        return _back_to_list(request)
    _export_record(request, "xlsx")
    return FileResponse(
        exports.xlsx_file(sel.enrollments_for_staff(filters=filters), service=filters.service),
        as_attachment=True,
        filename=exports.export_filename("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@allowed(Action.DECIDE)
@require_POST
def bulk_confirm(request: AuthenticatedRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("ids") if i.isascii() and i.isdecimal()]
    rows = list(Enrollment.objects.filter(pk__in=ids).exclude(status=Enrollment.Status.BOZZA))
    if not rows:
        messages.error(request, "Seleziona almeno un'iscrizione da confermare.")
    else:
        try:
            result = enrollments_confirm_bulk(enrollments=rows, by=request.user, request=request)
        except EnrollmentError as exc:
            messages.error(request, f"Nessuna iscrizione confermata: {exc.message}")
        else:
            if result.done:
                messages.success(request, f"Iscrizioni confermate: {len(result.done)}.")
            for e, reason in result.skipped:
                messages.warning(request, f"n. {e.reference} non confermata: {reason}")
    return redirect(f"{reverse('staff_admin:bo_list')}?{request.POST.get('query', '')}")


# Detail and decisions --------------------------------------------------------


def _enrollment(pk: int) -> Enrollment:
    e = sel.enrollment_for_staff(pk=pk)
    if e is None:
        raise Http404("Iscrizione non trovata.")
    return e


@allowed(Action.VIEW)
def enrollment_detail(
    request: AuthenticatedRequest,
    pk: int,
    confirm_form: Any = None,
    reject_form: Any = None,
    status: int = 200,
) -> HttpResponse:
    e = _enrollment(pk)
    if request.method == "GET":  # a decision re-showing the page with errors is audited by itself
        enrollment_view_record(by=request.user, enrollment=e, request=request)
    return render(
        request,
        "backoffice/detail.html",
        _ctx(
            request,
            e=e,
            history=sel.enrollment_history(enrollment=e),
            siblings=sel.domanda_siblings(enrollment=e),
            answers=sel.answers_for_staff(enrollment=e),
            fee=_fee_text(e),
            confirm_form=confirm_form or ConfirmForm(),
            reject_form=reject_form or RejectForm(),
            form=reject_form,
        ),
        status=status,
    )


def _fee_text(e: Enrollment) -> str:
    fee = enrollment_fee(enrollment=e)
    return euro(fee) if fee is not None else ""


def _decide(request: HttpRequest, pk: int, run: Callable[[Enrollment], Any], done: str) -> HttpResponse:
    e = _enrollment(pk)
    try:
        run(e)
    except EnrollmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done.format(ref=e.reference))
    return redirect("staff_admin:bo_detail", pk=e.pk)


@allowed(Action.DECIDE)
@require_POST
def enrollment_confirm_view(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        return enrollment_detail(request, pk, confirm_form=form, status=400)
    return _decide(
        request,
        pk,
        lambda e: enrollment_confirm(
            enrollment=e, by=request.user, note=form.cleaned_data["note"], request=request
        ),
        "Iscrizione n. {ref} confermata: il genitore riceverà un'e-mail.",
    )


@allowed(Action.DECIDE)
@require_POST
def enrollment_reject_view(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    form = RejectForm(request.POST)
    if not form.is_valid():
        return enrollment_detail(request, pk, reject_form=form, status=400)
    return _decide(
        request,
        pk,
        lambda e: enrollment_reject(
            enrollment=e, by=request.user, reason=form.cleaned_data["motivo"], request=request
        ),
        "Iscrizione n. {ref} respinta: il genitore riceverà un'e-mail con il motivo.",
    )


@allowed(Action.DECIDE)
@require_POST
def enrollment_reopen_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        lambda e: enrollment_reopen_notify(enrollment=e, by=request.user, request=request),
        "Iscrizione n. {ref} riaperta: è di nuovo in stato Inviata.",
    )


@allowed(Action.VIEW)
def riepilogo_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    e = _enrollment(pk)
    enrollment_view_record(by=request.user, enrollment=e, document="Riepilogo PDF", request=request)
    return pdf_download(request, documents.Riepilogo(comune=comune_current(), domanda=e.domanda))


# Waiting list ------------------------------------------------------------------


@allowed(Action.VIEW)
def waiting_lists(request: AuthenticatedRequest) -> HttpResponse:
    services = []
    for s in services_catalogue():
        rows = list(sel.waiting_list_for_staff(service=s))
        if rows:
            taken = sel.places_taken(service=s)
            free = s.capacity is None or taken < s.capacity
            services.append((s, rows, taken, free))
    return _page(request, "backoffice/waiting.html", services=services)


@allowed(Action.WAITING_LIST)
@require_POST
def waiting_promote(request: AuthenticatedRequest, service_id: int) -> HttpResponse:
    service = get_object_or_404(Service, pk=service_id)
    try:
        e = waiting_list_promote(service=service, by=request.user, request=request)
    except EnrollmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Posto assegnato all'iscrizione n. {e.reference} ({e.pupil.full_name}): "
            "ora può essere confermata.",
        )
    return redirect("staff_admin:bo_waiting")


# Catalogue -----------------------------------------------------------------------


@allowed(Action.VIEW)
def catalogue(request: AuthenticatedRequest) -> HttpResponse:
    rows = [(s, _field_labels(service_staff_edited_fields(service=s))) for s in sel.services_for_staff()]
    return _page(request, "backoffice/catalogue.html", rows=rows)


def _field_labels(names: set[str]) -> list[str]:
    """The Italian labels staff know the fields by ("posti disponibili", not "capacity")."""
    labels = {f.name: str(f.verbose_name) for f in Service._meta.concrete_fields}
    return sorted(labels.get(n, n) for n in names)


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@allowed(Action.CATALOGUE)
def service_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(Service, pk=pk)
    initial = {f: getattr(service, f) for f in OPERATIONAL_FIELDS}
    form = ServiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = {f: form.cleaned_data[f] for f in form.changed_data}
            service_update(service=service, values=changed, by=request.user, request=request)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"{service.name} {service.school_year} aggiornato.")
            return redirect("staff_admin:bo_catalogue")
    return _page(request, "backoffice/service_form.html", form=form, service=service,
                 edited=service_staff_edited_fields(service=service))  # fmt: skip


@allowed(Action.CATALOGUE)
def service_definition_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(Service, pk=pk)
    form = DefinitionForm(
        request.POST or None, initial={"definizione": service_definition_text(service=service)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            service_definition_update(
                service=service, text=form.cleaned_data["definizione"], by=request.user, request=request
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Definizione di {service.name} {service.school_year} salvata.")
            return redirect("staff_admin:bo_service_definition", pk=service.pk)
    response = _page(request, "backoffice/service_definition.html", form=form, service=service)
    if form.errors:
        response.status_code = 400
    return response


@allowed(Action.CATALOGUE)
def service_new(request: AuthenticatedRequest) -> HttpResponse:
    form = ServiceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service = service_create(values=form.cleaned_data, by=request.user, request=request)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"{service.name} {service.school_year} creato.")
            return redirect("staff_admin:bo_catalogue")
    return _page(request, "backoffice/service_form.html", form=form, service=None, edited=set())


@allowed(Action.CATALOGUE)
@require_POST
def service_edits_clear(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(Service, pk=pk)
    service_staff_edits_clear(service=service, by=request.user, request=request)
    messages.success(
        request, f"{service.name} {service.school_year}: al prossimo allineamento valgono i valori del file."
    )
    return redirect("staff_admin:bo_catalogue")


# Sportello -----------------------------------------------------------------------


@allowed(Action.SPORTELLO)
def sportello(request: AuthenticatedRequest) -> HttpResponse:
    now = timezone.now()
    offered = Service.objects.filter(opens_at__lte=now, closes_at__gt=now).order_by("name", "school_year")
    form = EnrollmentForm(request.POST or None, request.FILES or None, services=offered)
    kind_form = SportelloKindForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and kind_form.is_valid():
        try:
            rows = sportello_enrollment_create(
                by=request.user,
                guardian_data=form.guardian_data(),
                pupil_data=form.pupil_data(),
                services=form.chosen_services(),
                extra=form.extra_data(),
                kind=kind_form.cleaned_data["kind"],
                request=request,
            )
        except EnrollmentError as exc:
            form.add_error(None, exc.message)
        else:
            refs = ", ".join(r.reference for r in rows)
            messages.success(request, f"Iscrizione inserita allo sportello e inviata: n. {refs}.")
            return redirect("staff_admin:bo_detail", pk=rows[0].pk)
    return _page(request, "backoffice/sportello.html", form=form, kind_form=kind_form)


# Staff accounts -------------------------------------------------------------------


@allowed(Action.STAFF)
def staff_list(request: AuthenticatedRequest) -> HttpResponse:
    accounts = [
        (a, staff_role(a) if a.is_active else None, [g.name for g in a.groups.all()])
        for a in sel.staff_accounts()
    ]
    return _page(request, "backoffice/staff_list.html", accounts=accounts, role_form=RoleForm())


@allowed(Action.STAFF)
def staff_new(request: AuthenticatedRequest) -> HttpResponse:
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            account = staff_account_create(
                invite_url=lambda a: _invite_url(request, a),
                by=request.user, username=d["username"], first_name=d["first_name"], last_name=d["last_name"],
                email=d["email"], role=d["role"], password=d["password1"], request=request,
            )  # fmt: skip
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "password" in exc.error_dict:
                form.add_error("password1", exc.error_dict.pop("password"))
            _apply_errors(form, exc)
        else:
            sent = "" if d["password1"] else f": invito inviato a {account.email}"
            messages.success(request, f"Account {account.username} creato{sent}.")
            return redirect("staff_admin:bo_staff")
    return _page(request, "backoffice/staff_form.html", form=form)


# A staff member's invitation, mailed by the back office (staff_new).
STAFF_INVITATION_LINK = TokenLink(url_name="staff_admin:bo_set_password", kind=Account.Kind.STAFF)


def _invite_url(request: HttpRequest, account: Account) -> str:
    return request.build_absolute_uri(STAFF_INVITATION_LINK.path(account))


@never_cache
def staff_set_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The invitation link: public (the invited person has no password yet), valid once."""
    visit = STAFF_INVITATION_LINK.open(request, uidb64=uidb64, token=token)
    if visit.redirect is not None:
        return visit.redirect
    account = visit.account
    if account is None:
        return render(request, "backoffice/set_password.html", _ctx(request, invalid=True), status=400)
    form = PasswordSetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            staff_password_set(account=account, password=form.cleaned_data["password1"], request=request)
        except ValidationError as exc:
            form.add_error("password1", exc.message_dict["password"])
        else:
            STAFF_INVITATION_LINK.consume(request)
            messages.success(request, "Password impostata: ora puoi accedere.")
            return redirect("staff_admin:login")
    return render(request, "backoffice/set_password.html", _ctx(request, form=form, account=account))


def _staff_account(pk: int) -> Account:
    return get_object_or_404(Account, pk=pk, kind=Account.Kind.STAFF)


@allowed(Action.STAFF)
@require_POST
def staff_role_change(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    account = _staff_account(pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Scegli il ruolo dell'account.")
        return redirect("staff_admin:bo_staff")
    try:
        staff_role_set(account=account, role=form.cleaned_data["role"], by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Ruolo di {account.username}: {form.cleaned_data['role']}.")
    return redirect("staff_admin:bo_staff")


@allowed(Action.STAFF)
@require_POST
def staff_deactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    account = _staff_account(pk)
    try:
        staff_account_deactivate(account=account, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Account {account.username} disattivato.")
    return redirect("staff_admin:bo_staff")


# Audit --------------------------------------------------------------------------------


@allowed(Action.VIEW)
def audit_log(request: AuthenticatedRequest) -> HttpResponse:
    return _page(request, "backoffice/audit.html", entries=sel.audit_for_staff())


# Personal data (GDPR) -----------------------------------------------------------------


@allowed(Action.PERSONAL_DATA)
def personal_data(request: AuthenticatedRequest) -> HttpResponse:
    form = FamilySearchForm(request.GET or None)
    guardian = None
    if form.is_valid():
        guardian = guardian_by_code(code=form.cleaned_data["codice"])
        if guardian is None:
            form.add_error("codice", "Nessun genitore ha questo codice fiscale o codice utente.")
    return _page(
        request,
        "backoffice/personal_data.html",
        form=form,
        guardian=guardian,
        data=guardian_personal_data(guardian=guardian) if guardian else None,
        erase_form=FamilyEraseForm(),
    )


@allowed(Action.PERSONAL_DATA)
def personal_data_export(request: AuthenticatedRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("json", "pdf", "zip"):
        raise Http404
    guardian = get_object_or_404(Guardian, pk=pk)
    export = family_export(guardian=guardian, by=request.user)
    content, kind = {
        "json": (export.json, "application/json"),
        "pdf": (export.pdf, "application/pdf"),
        "zip": (export.archive(), "application/zip"),
    }[fmt]
    response = HttpResponse(content, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="dati-personali-{guardian.pk}.{fmt}"'
    return response


@allowed(Action.PERSONAL_DATA)
@require_POST
def personal_data_erase(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    guardian = get_object_or_404(Guardian, pk=pk)
    form = FamilyEraseForm(request.POST)
    if form.is_valid():
        try:
            family_erase(guardian=guardian, confirmation=form.cleaned_data["conferma"], by=request.user)
        except GdprError as exc:
            form.add_error("conferma", exc.message)
        else:
            messages.success(
                request, "Dati personali cancellati: le domande inviate restano pseudonimizzate."
            )
            return redirect("staff_admin:bo_personal_data")
    response = _page(
        request,
        "backoffice/personal_data.html",
        form=FamilySearchForm(),
        guardian=guardian,
        data=guardian_personal_data(guardian=guardian),
        erase_form=form,
    )
    response.status_code = 400
    return response


# Graduatoria ---------------------------------------------------------------------------


@allowed(Action.VIEW)
def graduatorie(request: AuthenticatedRequest) -> HttpResponse:
    return _page(request, "backoffice/graduatorie.html", services=sel.ranked_services())


def _ranked_service(service_id: int) -> Service:
    service = get_object_or_404(Service, pk=service_id)
    if service_definition(service).ranking is None:
        raise Http404("Il servizio non prevede una graduatoria.")
    return service


@allowed(Action.VIEW)
def graduatoria(
    request: AuthenticatedRequest, service_id: int, adjust_form: Any = None, status: int = 200
) -> HttpResponse:
    service = _ranked_service(service_id)
    grad = Graduatoria.objects.filter(service=service).first()
    criteria = active_criteria(service)
    entries = [
        (e, [Decimal(e.points.get(c.id, "0")) for c in criteria])
        for e in sel.graduatoria_entries(service=service)
    ]
    response = _page(
        request,
        "backoffice/graduatoria.html",
        service=service,
        grad=grad,
        criteria=criteria,
        entries=entries,
        adjust_form=adjust_form or AdjustmentForm(),
        form=adjust_form,
    )
    response.status_code = status
    return response


def _graduatoria_action(
    request: HttpRequest, service_id: int, run: Callable[[Service], Any], done: str
) -> HttpResponse:
    service = _ranked_service(service_id)
    try:
        run(service)
    except EnrollmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("staff_admin:bo_graduatoria", service_id=service.pk)


@allowed(Action.GRADUATORIA)
@require_POST
def graduatoria_compute_view(request: AuthenticatedRequest, service_id: int) -> HttpResponse:
    return _graduatoria_action(
        request, service_id,
        lambda s: graduatoria_compute(service=s, by=request.user, request=request),
        "Graduatoria calcolata: è una bozza finché non viene pubblicata.",
    )  # fmt: skip


@allowed(Action.GRADUATORIA)
@require_POST
def graduatoria_adjust_view(request: AuthenticatedRequest, service_id: int) -> HttpResponseBase:
    form = AdjustmentForm(request.POST)
    if not form.is_valid():
        return graduatoria(request, service_id, adjust_form=form, status=400)
    d = form.cleaned_data
    return _graduatoria_action(
        request, service_id,
        lambda s: graduatoria_adjust(service=s, enrollment_id=d["enrollment"], adjustment=d["rettifica"],
                                     reason=d["motivo"], by=request.user, request=request),
        "Rettifica registrata e graduatoria ricalcolata.",
    )  # fmt: skip


@allowed(Action.GRADUATORIA)
@require_POST
def graduatoria_publish_view(request: AuthenticatedRequest, service_id: int) -> HttpResponse:
    return _graduatoria_action(
        request, service_id,
        lambda s: graduatoria_publish(service=s, by=request.user, request=request),
        "Graduatoria pubblicata: posti assegnati in ordine di graduatoria, gli altri in lista d'attesa.",
    )  # fmt: skip


@allowed(Action.VIEW)
def graduatoria_albo(request: AuthenticatedRequest, service_id: int) -> HttpResponse:
    service = _ranked_service(service_id)
    try:
        doc = documents.GraduatoriaAlbo(comune=comune_current(), service_id=service.pk)
    except Graduatoria.DoesNotExist:
        raise Http404("La graduatoria non è ancora pubblicata.") from None
    return pdf_download(request, doc)
