"""Parents' "Pagamenti" page and avvisi under /pagamenti/, and the receipts' callback."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.services import audit_record
from identity.access import parent_required
from identity.http import AuthenticatedRequest
from payments.avviso import avviso_filename, avviso_stored_pdf
from payments.errors import PaymentError
from payments.receipts import SIGNATURE_HEADER, CallbackRefused, receipt_verify
from payments.selectors import checkout_url, instalment_label, instalment_payable, instalments_for_account
from payments.services import receipt_record
from tenants.selectors import comune_current

logger = logging.getLogger(__name__)


@parent_required
def payments_home(request: AuthenticatedRequest) -> HttpResponse:
    config = comune_current().settings.payments
    if config is None:
        raise Http404("Il comune non ha attivato i pagamenti online.")
    rows = [
        {
            "instalment": i,
            "label": instalment_label(i),
            "payable": instalment_payable(i),
            "checkout": checkout_url(instalment=i, config=config),
        }
        for i in instalments_for_account(account=request.user)
    ]
    return render(request, "payments/home.html", {"rows": rows})


@parent_required
def avviso_download(request: AuthenticatedRequest, codice_avviso: str) -> HttpResponse:
    instalment = instalments_for_account(account=request.user).filter(codice_avviso=codice_avviso).first()
    if instalment is None:
        raise Http404("Avviso non trovato.")
    position = instalment.position
    response = HttpResponse(avviso_stored_pdf(position=position), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{avviso_filename(position)}"'
    return response


@csrf_exempt
@require_POST
def receipt_callback(request: HttpRequest) -> HttpResponse:
    """A signed receipt from pagoPA's side (see payments.receipts). Refusals are logged and audited."""
    config = comune_current().settings.payments
    if config is None:
        raise Http404("Pagamenti non attivi.")
    try:
        receipt = receipt_verify(
            body=request.body, header=request.headers.get(SIGNATURE_HEADER, ""), config=config
        )
    except CallbackRefused as exc:
        logger.warning("receipt callback refused for %s: %s", comune_current().schema_name, exc.reason)
        audit_record(
            action="payments.callback_refused",
            actor_label="pagoPA",
            message=f"Ricevuta rifiutata: {exc.reason}"[:500],
            data={"reason": exc.reason},
            request=request,
        )
        return JsonResponse({"esito": "KO", "errore": exc.reason}, status=exc.status)
    try:
        outcome = receipt_record(
            iuv=receipt.iuv,
            receipt_id=receipt.receipt_id,
            amount_cents=receipt.amount_cents,
            paid_at=receipt.paid_at,
            channel=receipt.psp or "pagoPA",
            request=request,
        )
    except PaymentError as exc:
        logger.warning("receipt %s not recorded: %s", receipt.receipt_id, exc.message)
        status = {"unknown_iuv": 404, "receipt_id_too_long": 400}.get(exc.code, 409)
        return JsonResponse({"esito": "KO", "errore": exc.message}, status=status)
    return JsonResponse({"esito": "OK", "registrata": outcome.changed})
