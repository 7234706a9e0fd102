"""Parents' portal pages of one comune: home, privacy and the enrollment pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from enrollment import documents, feedback
from enrollment.backoffice.roles import Action, role_allows
from enrollment.birth import birth_from_codice_fiscale
from enrollment.forms import FORM_STEPS, STEPS, EnrollmentForm, initial_from, renewal_initial_answers
from enrollment.models import Enrollment, Feedback, Guardian, Upload
from enrollment.renewals import renewal_save
from enrollment.rules import DRAFT_MISSING, DRAFT_NOTE, PRIVACY_TEXT, SIBLINGS_NOTE, is_cf_account
from enrollment.selectors import (
    DomandaState,
    catalogue_on_offer,
    comune_current,
    domanda_state,
    enrollment_for_account,
    enrollments_for_guardian,
    enrollments_with_answers,
    guardian_for_account,
    pupil_cf_locked,
    pupils_for_guardian,
    renewals_available,
    service_by_code,
    service_card,
    services_open_for_new,
)
from enrollment.services import (
    READ_ONLY,
    EnrollmentError,
    domanda_save,
    domanda_update,
    enrollment_withdraw,
    enrollments_submit,
)
from enrollment.uploads import upload_read
from identity.access import parent_required
from identity.http import AuthenticatedRequest
from identity.models import Account
from identity.services import safe_next_url, session_keep_after_save

TEMPORARY_PASSWORD_SENT = gettext_noop(
    "Ti abbiamo inviato una password temporanea a {email}: per rientrare nell'iscrizione inserisci "
    "il Codice Fiscale Alunno e questa password in 'Sono un nuovo iscritto'."
)


def portal_home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "enrollment/home.html",
        {"catalogue": catalogue_on_offer(comune=comune_current(), at=now), "now": now},
    )


def service_page(request: HttpRequest, code: str, year: str) -> HttpResponse:
    """The public page of one service (Designers Italia "scheda servizio"), before any login."""
    service = service_by_code(code=code, school_year=year.replace("-", "/"))
    if service is None:
        raise Http404("Servizio non trovato")
    return render(
        request,
        "enrollment/service_page.html",
        {"service": service, "card": service_card(service=service), "now": timezone.now()},
    )


def privacy_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "enrollment/privacy.html", {"cookies": technical_cookies()})


def technical_cookies() -> list[tuple[str, str]]:
    """Every cookie the portal sets, with its purpose: all technical, none for profiling or statistics."""
    minutes = settings.SESSION_COOKIE_AGE // 60
    return [
        (
            settings.SESSION_COOKIE_NAME,
            gettext(
                "mantiene l'accesso mentre usi il portale; scade dopo %(minutes)s minuti di inattività "
                "o quando esci"
            )
            % {"minutes": minutes},
        ),
        (settings.CSRF_COOKIE_NAME, gettext("protegge i moduli da invii fatti da altri siti")),
        (settings.LANGUAGE_COOKIE_NAME, gettext("ricorda la lingua che hai scelto, solo se la cambi")),
    ]


def legal_notes(request: HttpRequest) -> HttpResponse:
    return render(request, "enrollment/legal_notes.html")


def _guardian_initial(account: Any, guardian: Guardian | None) -> dict[str, Any]:
    if guardian is not None:
        return initial_from(guardian=guardian)
    initial = {"guardian_email": account.email}
    if not is_cf_account(account):
        initial.update(
            {
                "guardian_first_name": account.first_name,
                "guardian_last_name": account.last_name,
                "guardian_codice_fiscale": account.codice_fiscale,
            }
        )
    return initial


@parent_required
def parent_home(request: AuthenticatedRequest) -> HttpResponse:
    guardian = guardian_for_account(account=request.user)
    enrollments = list(enrollments_for_guardian(guardian=guardian)) if guardian else []
    domande: dict[uuid.UUID, list[Enrollment]] = {}
    for e in enrollments:
        domande.setdefault(e.domanda, []).append(e)
    return render(
        request,
        "enrollment/parent_home.html",
        {
            "guardian": guardian,
            "pupils": pupils_for_guardian(guardian=guardian) if guardian else [],
            "domande": list(domande.values()),
            "renewals": renewals_available(guardian=guardian) if guardian else [],
            "open_services": services_open_for_new().exists(),
        },
    )


def _requested_step(request: HttpRequest) -> int:
    try:
        step = int(request.POST.get("passo") or request.GET.get("passo") or 1)
    except ValueError:
        step = 1
    return min(max(step, 1), FORM_STEPS)


def _steps_context(current: int) -> dict[str, Any]:
    return {
        "step": current,
        "step_name": gettext(STEPS[current - 1]),
        "steps_total": len(STEPS),
        "steps": [{"number": i, "name": gettext(name)} for i, name in enumerate(STEPS, start=1)],
    }


def _step_move(request: HttpRequest, form: EnrollmentForm, **context: Any) -> HttpResponse | None:
    """Indietro / Avanti between the form's steps: no save, the other steps ride along as
    hidden inputs. Avanti validates the current step only. None: not a move, the caller saves."""
    action = request.POST.get("azione")
    step = _requested_step(request)
    if action in ("indietro", "avanti"):
        # Files cannot ride in hidden inputs: one chosen on this step is stored now, unattached.
        form.is_valid()
        form.files_carry()
    if action == "indietro":
        form.errors_clear()
        form.step = max(step - 1, 1)
        return _render_form(request, form, **context)
    if action == "avanti":
        form.step_errors_only(step)
        if form.errors:
            form.step = step
            return _render_form(request, form, **context)
        form.errors_clear()
        form.step = min(step + 1, FORM_STEPS)
        return _render_form(request, form, **context)
    return None


def _invalid_step(form: EnrollmentForm) -> None:
    """A failed save or submit: show the first step with errors, with that step's errors only;
    a file that came with it is kept for the steps to come."""
    form.files_carry()
    first = form.first_invalid_step() or FORM_STEPS
    form.step_errors_only(first)
    form.step = first


def _render_form(request: HttpRequest, form: EnrollmentForm, **context: Any) -> HttpResponse:
    if request.method == "GET":
        form.step = _requested_step(request)
    return render(
        request,
        "enrollment/form.html",
        {
            **_steps_context(form.step),
            "form": form,
            "privacy_text": PRIVACY_TEXT,
            "draft_note": DRAFT_NOTE,
            "siblings_note": SIBLINGS_NOTE,
        }
        | context,
        status=400 if form.is_bound and form.errors else 200,
    )


def _save_from_form(
    request: AuthenticatedRequest, form: EnrollmentForm, *, draft: bool, state: DomandaState | None = None
) -> list[Enrollment] | None:
    """Save a new form, or the changes to the form whose `state` the page was built on."""
    data: dict[str, Any] = {
        "account": request.user,
        "guardian_data": form.guardian_data(),
        "pupil_data": form.pupil_data(),
        "services": form.chosen_services(),
        "extra": form.extra_data(),
        "consent": form.cleaned_data["privacy"],
        "draft": draft,
        "request": request,
    }
    try:
        if state is None:
            rows = domanda_save(**data)
        else:
            rows = domanda_update(**data, domanda=state.domanda, version=state.version)
    except EnrollmentError as exc:
        form.add_error(None, exc.message)
        return None
    _after_save(request, draft=draft)
    return rows


def _after_save(request: HttpRequest, *, draft: bool) -> None:
    """The page's messages after a save; the session stays valid if it set a temporary password."""
    if draft:
        messages.success(request, gettext("Bozza salvata.") + " " + gettext(DRAFT_NOTE))
    sent_to = session_keep_after_save(request=request)
    if sent_to:
        messages.info(request, gettext(TEMPORARY_PASSWORD_SENT).format(email=sent_to))


def _draft_reopen(request: HttpRequest, domanda: uuid.UUID) -> HttpResponse:
    """After «Salva Bozza»: the saved draft, open on the step the parent was on (the message says saved)."""
    url = reverse("enrollment:edit", kwargs={"domanda": domanda})
    step = _requested_step(request)
    return redirect(f"{url}?passo={step}" if step > 1 else url)


@parent_required
def enrollment_new(request: AuthenticatedRequest) -> HttpResponse:
    account = request.user
    guardian = guardian_for_account(account=account)
    services = services_open_for_new()
    lock_cf = pupil_cf_locked(account=account, guardian=guardian)
    initial = _guardian_initial(account, guardian)
    if lock_cf:
        initial["pupil_codice_fiscale"] = account.codice_fiscale
        birth = birth_from_codice_fiscale(account.codice_fiscale or "")
        if birth is not None:
            # Prefilled from the codice fiscale; the parent may still change them.
            initial.update({"pupil_birth_date": birth.date, "pupil_birth_place": birth.place or ""})
    draft = request.POST.get("azione") == "bozza"
    form = EnrollmentForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        services=services,
        lock_pupil_cf=lock_cf,
        full=not draft,
        account=account,
    )
    context = {
        "kind": "nuova",
        "can_draft": True,
        "no_services": not services.exists(),
        # Before the first save the year is the one of the services on offer.
        "school_year": " e ".join(sorted({s.school_year for s in services})),
    }
    if request.method == "POST":
        moved = _step_move(request, form, **context)
        if moved is not None:
            return moved
        if not form.is_valid():
            _invalid_step(form)
            if draft:
                form.add_error(None, gettext(DRAFT_MISSING))
            return _render_form(request, form, **context)
        rows = _save_from_form(request, form, draft=draft)
        if rows is None:
            _invalid_step(form)
            return _render_form(request, form, **context)
        if draft:
            return _draft_reopen(request, rows[0].domanda)
        return redirect("enrollment:summary", domanda=rows[0].domanda)
    return _render_form(request, form, **context)


def _domanda_or_404(request: AuthenticatedRequest, domanda: uuid.UUID) -> DomandaState:
    state = domanda_state(account=request.user, domanda=domanda)
    if state is None:
        raise Http404("Iscrizione non trovata")
    return state


@parent_required
def domanda_edit(request: AuthenticatedRequest, domanda: uuid.UUID) -> HttpResponse:
    state = _domanda_or_404(request, domanda)
    if not state.editable:
        messages.info(request, gettext(READ_ONLY))
        return redirect("enrollment:summary", domanda=domanda)
    first, live, can_draft = state.first, state.live, state.can_draft
    draft = request.POST.get("azione") == "bozza" and can_draft
    form = EnrollmentForm(
        request.POST or None,
        request.FILES or None,
        initial=initial_from(guardian=first.guardian, pupil=first.pupil, enrollments=live),
        services=state.services_offered(),
        fixed_services=[e.service for e in live],
        school_year=first.school_year,
        lock_pupil_cf=state.lock_pupil_cf,
        full=not draft,
        account=request.user,
    )
    context = {
        "kind": first.kind,
        "can_draft": can_draft,
        "enrollments": live,
        "domanda": domanda,
        "school_year": first.school_year,
    }
    if request.method == "POST":
        moved = _step_move(request, form, **context)
        if moved is not None:
            return moved
        if not form.is_valid():
            _invalid_step(form)
            if draft:
                form.add_error(None, gettext(DRAFT_MISSING))
            return _render_form(request, form, **context)
        rows = _save_from_form(request, form, draft=draft, state=state)
        if rows is None:
            _invalid_step(form)
            return _render_form(request, form, **context)
        if draft:
            return _draft_reopen(request, domanda)
        if not state.draft:
            messages.success(request, gettext("Modifiche salvate."))
        return redirect("enrollment:summary", domanda=domanda)
    return _render_form(request, form, **context)


@parent_required
def domanda_summary(request: AuthenticatedRequest, domanda: uuid.UUID) -> HttpResponse:
    state = _domanda_or_404(request, domanda)
    live, first = state.live, state.first
    if request.method == "POST":
        action = request.POST.get("azione")
        try:
            if action == "invia":
                submitted = enrollments_submit(enrollments=live, by=request.user, request=request)
                _after_save(request, draft=False)
                waiting = [e for e in submitted if e.on_waiting_list]
                messages.success(
                    request, gettext("Iscrizione inviata. Riceverai una email di conferma con il riepilogo.")
                )
                for e in waiting:
                    messages.warning(
                        request,
                        gettext(
                            "%(service)s: i posti sono esauriti, l'iscrizione è in lista d'attesa "
                            "in posizione %(position)s."
                        )
                        % {"service": e.service.name, "position": e.waiting_position},
                    )
            elif action == "bozza" and first.kind == Enrollment.Kind.NUOVA:
                domanda_save(
                    account=request.user,
                    guardian_data=_strip(initial_from(guardian=first.guardian)),
                    pupil_data=_strip(initial_from(pupil=first.pupil)),
                    services=[e.service for e in live],
                    extra={e.service.code: e.extra for e in live},
                    consent=True,
                    domanda=domanda,
                    draft=True,
                    request=request,
                )
                _after_save(request, draft=True)
        except EnrollmentError as exc:
            messages.error(request, exc.message)
        return redirect("enrollment:summary", domanda=domanda)
    return render(
        request,
        "enrollment/summary.html",
        {
            **_steps_context(len(STEPS)),
            "enrollments": enrollments_with_answers(live),
            "first": first,
            "guardian": first.guardian_shown,
            "pupil": first.pupil,
            "domanda": domanda,
            "all_draft": state.draft,
            "can_draft": state.can_draft,
            "editable": state.editable,
            "privacy_text": PRIVACY_TEXT,
            "draft_note": DRAFT_NOTE,
            **_feedback_context(request, page=Feedback.Page.RIEPILOGO),
        },
    )


def _feedback_context(request: AuthenticatedRequest, *, page: str) -> dict[str, Any]:
    """What the rating component (enrollment/_feedback.html) needs on `page`."""
    return {
        "feedback_page": page,
        "feedback_given": feedback.feedback_given(account=request.user, page=page),
        "feedback_title": gettext(feedback.TITLE),
        "feedback_thanks": gettext(feedback.THANKS),
        "feedback_positive": (gettext(feedback.POSITIVE_QUESTION), _translated(feedback.POSITIVE_ASPECTS)),
        "feedback_negative": (gettext(feedback.NEGATIVE_QUESTION), _translated(feedback.NEGATIVE_ASPECTS)),
        "feedback_details_max": feedback.DETAILS_MAX,
    }


def _translated(labels: dict[str, str]) -> dict[str, str]:
    return {key: gettext(label) for key, label in labels.items()}


@parent_required
@require_POST
def feedback_send(request: AuthenticatedRequest) -> HttpResponse:
    """The rating component's POST: JSON for the page's script, a redirect back without it."""
    form = feedback.FeedbackForm(request.POST)
    wants_json = "application/json" in request.headers.get("Accept", "")
    error = ""
    if form.is_valid():
        try:
            feedback.feedback_record(
                account=request.user,
                page=form.cleaned_data["page"],
                rating=form.cleaned_data["rating"],
                aspect=form.aspect(),
                details=form.cleaned_data["details"],
                request=request,
            )
        except EnrollmentError as exc:
            error = exc.message
    else:
        error = " ".join(str(errors[0]) for errors in form.errors.values())
    if wants_json:
        return JsonResponse(
            {"error": error} if error else {"message": gettext(feedback.THANKS)}, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, gettext(feedback.THANKS))
    return redirect(safe_next_url(request, default=reverse("enrollment:parent_home")))


def _strip(initial: dict[str, Any]) -> dict[str, Any]:
    """Form initial values back to model field names (pupil_x / guardian_x → x)."""
    return {k.split("_", 1)[1]: v for k, v in initial.items() if k.startswith(("pupil_", "guardian_"))}


@parent_required
@require_POST
def enrollment_withdraw_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    enrollment = enrollment_for_account(account=request.user, pk=pk)
    if enrollment is None:
        raise Http404("Iscrizione non trovata")
    try:
        enrollment_withdraw(enrollment=enrollment, by=request.user, request=request)
    except EnrollmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            gettext("L'iscrizione n. %(reference)s è stata annullata.") % {"reference": enrollment.reference},
        )
    return redirect("enrollment:parent_home")


@parent_required
def renewals(request: AuthenticatedRequest) -> HttpResponse:
    guardian = guardian_for_account(account=request.user)
    return render(
        request,
        "enrollment/renewals.html",
        {
            "guardian": guardian,
            "renewals": renewals_available(guardian=guardian) if guardian else [],
            "siblings_note": SIBLINGS_NOTE,
            "open_services": services_open_for_new().exists(),
        },
    )


@parent_required
def renewal_form(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    guardian = guardian_for_account(account=request.user)
    available = dict(renewals_available(guardian=guardian)) if guardian else {}
    previous = next((e for e in available if e.pk == pk), None)
    if previous is None:
        raise Http404("Rinnovo non disponibile")
    target = available[previous]
    form = EnrollmentForm(
        request.POST or None,
        request.FILES or None,
        initial=initial_from(guardian=guardian, pupil=previous.pupil)
        | renewal_initial_answers(previous=previous, target=target),
        services=None,
        fixed_services=[target],
        school_year=target.school_year,
        account=request.user,
    )
    context = {"kind": "rinnovo", "can_draft": False, "previous": previous, "target": target,
               "siblings_note": SIBLINGS_NOTE, "school_year": target.school_year}  # fmt: skip
    if request.method == "POST":
        moved = _step_move(request, form, **context)
        if moved is not None:
            return moved
    if request.method == "POST" and not form.is_valid():
        _invalid_step(form)
    elif request.method == "POST":
        try:
            rows = renewal_save(
                account=request.user,
                previous=previous,
                guardian_data=form.guardian_data(),
                pupil_data=form.pupil_data(),
                extra=form.extra_data(),
                consent=form.cleaned_data["privacy"],
                request=request,
            )
        except EnrollmentError as exc:
            form.add_error(None, exc.message)
            _invalid_step(form)
        else:
            return redirect("enrollment:summary", domanda=rows[0].domanda)
    return _render_form(request, form, **context)


def pdf_download(request: HttpRequest, doc: documents.PdfDocument) -> HttpResponse:
    """The stored PDF, or a short wait while the job prepares it (never rendered here)."""
    content = documents.stored_or_prepare(doc)
    if content is None:
        response = render(
            request,
            "enrollment/document_preparing.html",
            {"title": doc.title, "retry_seconds": documents.PREPARE_RETRY_SECONDS},
            status=202,
        )
        response["Retry-After"] = str(documents.PREPARE_RETRY_SECONDS)
        return response
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{doc.filename()}"'
    return response


@parent_required
def riepilogo_pdf(request: AuthenticatedRequest, domanda: uuid.UUID) -> HttpResponse:
    _domanda_or_404(request, domanda)
    return pdf_download(
        request, documents.Riepilogo(comune=comune_current(), domanda=domanda, language=request.LANGUAGE_CODE)
    )


@parent_required
def manuale_pdf(request: AuthenticatedRequest) -> HttpResponse:
    return pdf_download(
        request, documents.ManualeInformativo(comune=comune_current(), language=request.LANGUAGE_CODE)
    )


@parent_required
def credenziali_pdf(request: AuthenticatedRequest) -> HttpResponse:
    return pdf_download(
        request,
        documents.LetteraCredenziali(
            comune=comune_current(), account=request.user, language=request.LANGUAGE_CODE
        ),
    )


def _may_download(request: HttpRequest, upload: Upload) -> bool:
    """The parent who uploaded the file, or a staff account of this comune that may see enrollments."""
    user = request.user
    if not user.is_authenticated:
        return False
    if upload.account_id is not None and upload.account_id == user.pk and user.kind == Account.Kind.PARENT:
        return True
    return role_allows(user, Action.VIEW)


def upload_download(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """An attached file, to whom may see it; 404 to anyone else, as if it did not exist."""
    upload = Upload.objects.filter(pk=pk).first()
    if upload is None or not _may_download(request, upload):
        raise Http404("Allegato non trovato")
    content = upload_read(upload)
    if content is None:
        raise Http404("Allegato non trovato")
    response = HttpResponse(content, content_type=upload.content_type)
    response["Content-Disposition"] = f'attachment; filename="{upload.name}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
