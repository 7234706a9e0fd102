"""Back-office pages on payments: totals per service, rate per family, exports, CSV imports, exceptions.

The data are the payments app's (payments.selectors, payments.imports);
these views only add the staff's roles and forms.
"""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from core.services import audit_record
from enrollment.backoffice.roles import Action, role_allows
from enrollment.backoffice.views import _page, allowed
from identity.http import AuthenticatedRequest
from payments.errors import PaymentError
from payments.imports import ImportReport, previous_debts_import, treasurer_payments_import
from payments.money import to_euro
from payments.reminders import reminders_due, reminders_send
from payments.selectors import instalment_label, instalments_for_staff, staff_state, totals_by_service
from payments.services import gate_exception_grant

EXPORT_HEADER = [
    "debitore",
    "codice_fiscale",
    "causale",
    "rata",
    "codice_avviso",
    "importo",
    "scadenza",
    "stato",
    "pagato_il",
    "canale",
    "pagopa",
]
MAX_UPLOAD = 5 * 1024 * 1024


@allowed(Action.VIEW)
def payments_overview(request: AuthenticatedRequest) -> HttpResponse:
    cf = request.GET.get("cf", "").strip()
    rows = [
        {"i": i, "label": instalment_label(i), "state": staff_state(i)}
        for i in instalments_for_staff(codice_fiscale=cf)[:500]
    ]
    return _page(
        request, "backoffice/payments.html", totals=totals_by_service(), rows=rows, cf=cf,
        report=request.session.pop("payments_report", None),
    )  # fmt: skip


def _export_rows(cf: str) -> list[list[str]]:
    out = []
    for i in instalments_for_staff(codice_fiscale=cf):
        p = i.position
        out.append(
            [
                p.payer_name,
                p.payer_codice_fiscale,
                p.description,
                str(i.number),
                i.codice_avviso,
                str(to_euro(i.amount_cents)),
                i.due_date.isoformat(),
                instalment_label(i),
                timezone.localtime(i.paid_at).strftime("%Y-%m-%d %H:%M") if i.paid_at else "",
                i.channel,
                staff_state(i),
            ]
        )
    return out


@allowed(Action.EXPORT)
def payments_export(request: AuthenticatedRequest, fmt: str) -> HttpResponseBase:
    cf = request.GET.get("cf", "").strip()
    rows = _export_rows(cf)
    audit_record(
        action="payments.exported", actor=request.user, message=f"Export pagamenti {fmt}", request=request
    )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(EXPORT_HEADER)
        writer.writerows(rows)
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.title = "Pagamenti"
        sheet.append(EXPORT_HEADER)
        for row in rows:
            sheet.append(row)
        content = io.BytesIO()
        book.save(content)
        response = HttpResponse(
            content.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        return HttpResponse("Formato non disponibile: scegli csv o xlsx.", status=404)
    response["Content-Disposition"] = f'attachment; filename="pagamenti.{fmt}"'
    return response


def _report_keep(request: AuthenticatedRequest, title: str, report: ImportReport) -> None:
    request.session["payments_report"] = {
        "title": title,
        "ok": report.ok,
        "written": report.written,
        "errors": [f"riga {n}: {reason}" for n, reason in report.errors],
        "skipped": [f"riga {n}: {reason}" for n, reason in report.skipped],
    }


@allowed(Action.DECIDE)
@require_POST
def payments_import(request: AuthenticatedRequest, kind: str) -> HttpResponseBase:
    upload = request.FILES.get("file")
    if upload is None or upload.size is None or upload.size > MAX_UPLOAD:
        messages.error(request, "Scegli un file CSV di al più 5 MB.")
        return redirect("staff_admin:bo_payments")
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        messages.error(request, "Il file non è in UTF-8: salvalo come CSV UTF-8 e riprova.")
        return redirect("staff_admin:bo_payments")
    if kind == "tesoreria":
        report = treasurer_payments_import(text=text, by=request.user)
        _report_keep(request, "Pagamenti della tesoreria", report)
    else:
        report = previous_debts_import(text=text, by=request.user, today=timezone.localdate())
        _report_keep(request, "Debiti pregressi", report)
    return redirect("staff_admin:bo_payments")


@allowed(Action.DECIDE)
@require_POST
def payments_exception(request: AuthenticatedRequest) -> HttpResponseBase:
    code, _, year = request.POST.get("service", "").partition(" ")
    try:
        gate_exception_grant(
            codice_fiscale=request.POST.get("codice_fiscale", ""),
            service_code=code,
            school_year=year,
            reason=request.POST.get("reason", ""),
            by=request.user,
            request=request,
        )
    except PaymentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Eccezione registrata: la famiglia può inviare l'iscrizione.")
    return redirect("staff_admin:bo_payments")


@allowed(Action.VIEW)
def payments_reminders(request: AuthenticatedRequest) -> HttpResponse:
    """Preview of the reminder e-mails for overdue rate; staff who decide may send them."""
    if request.method == "POST":
        if not role_allows(request.user, Action.DECIDE):
            return _page(request, "backoffice/denied.html")
        sent = reminders_send(today=timezone.localdate(), by=request.user)
        messages.success(request, f"Promemoria accodati: {sent}.")
        return redirect("staff_admin:bo_payments_reminders")
    return _page(
        request, "backoffice/payments_reminders.html", reminders=reminders_due(today=timezone.localdate())
    )
