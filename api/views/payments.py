"""The family's payments: each rata with its status, avviso PDF and pagoPA checkout link."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import ParentReady, caller
from api.renderers import PdfRenderer
from payments.avviso import avviso_filename, avviso_stored_pdf
from payments.models import Instalment
from payments.money import to_euro
from payments.selectors import checkout_url, instalment_label, instalment_payable, instalments_for_account
from tenants.config import Payments
from tenants.selectors import comune_current


class PaymentSerializer(serializers.Serializer):
    codice_avviso = serializers.CharField(help_text="Numero avviso pagoPA, 18 cifre")
    iuv = serializers.CharField()
    causale = serializers.CharField()
    rata = serializers.IntegerField()
    importo = serializers.CharField(help_text='Euro con due decimali, es. "120.00"')
    scadenza = serializers.DateField()
    stato = serializers.ChoiceField(choices=["Pagato", "Da pagare", "Scaduto", "In preparazione"])
    pagato_il = serializers.DateTimeField(allow_null=True)
    avviso_pdf = serializers.URLField()
    paga_online = serializers.URLField(allow_null=True, help_text="Checkout pagoPA; null se non pagabile ora")


def _data(request: Request, instalment: Instalment, config: Payments) -> dict[str, object]:
    return {
        "codice_avviso": instalment.codice_avviso,
        "iuv": instalment.iuv,
        "causale": instalment.position.description,
        "rata": instalment.number,
        "importo": str(to_euro(instalment.amount_cents)),
        "scadenza": instalment.due_date,
        "stato": instalment_label(instalment),
        "pagato_il": instalment.paid_at,
        "avviso_pdf": request.build_absolute_uri(f"/api/v1/payments/{instalment.codice_avviso}/avviso.pdf"),
        "paga_online": checkout_url(instalment=instalment, config=config)
        if instalment_payable(instalment)
        else None,
    }


class PaymentListView(generics.GenericAPIView):
    permission_classes = [ParentReady]
    serializer_class = PaymentSerializer

    @extend_schema(
        summary="I miei pagamenti",
        description="Le rate della famiglia (quote dei servizi confermati e debiti pregressi), per scadenza.",
        responses=PaymentSerializer(many=True),
        tags=["Pagamenti"],
    )
    def get(self, request: Request) -> Response:
        config = comune_current().settings.payments
        rows = list(instalments_for_account(account=caller(request))) if config else []
        page = self.paginate_queryset([_data(request, i, config) for i in rows] if config else [])
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)


class AvvisoPdfView(APIView):
    permission_classes = [ParentReady]
    renderer_classes = [*APIView.renderer_classes, PdfRenderer]

    @extend_schema(
        summary="Avviso di pagamento pagoPA (PDF)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        tags=["Pagamenti"],
    )
    def get(self, request: Request, codice_avviso: str) -> HttpResponse:
        instalment = (
            instalments_for_account(account=caller(request)).filter(codice_avviso=codice_avviso).first()
        )
        if instalment is None:
            raise Http404("Avviso non trovato.")
        response = HttpResponse(
            avviso_stored_pdf(position=instalment.position), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'attachment; filename="{avviso_filename(instalment.position)}"'
        return response
