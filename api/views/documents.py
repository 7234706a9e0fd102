"""The PDF documents: the riepilogo of a form, the information manual, the credentials letter."""

from __future__ import annotations

import uuid

from django.http import HttpResponse, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.views import APIView

from api.auth import ParentReady, caller
from api.renderers import PdfRenderer
from api.serializers import MessageSerializer
from api.views.enrollments import domanda_state_or_404
from enrollment import documents
from enrollment.selectors import comune_current

DOCUMENT_PREPARING = "Il documento è in preparazione: riprovare tra qualche secondo."


def _pdf(doc: documents.PdfDocument) -> HttpResponse:
    """The stored PDF; 202 with Retry-After while the job prepares it (never rendered here)."""
    content = documents.stored_or_prepare(doc)
    if content is None:
        preparing = JsonResponse({"message": DOCUMENT_PREPARING}, status=status.HTTP_202_ACCEPTED)
        preparing["Retry-After"] = str(documents.PREPARE_RETRY_SECONDS)
        return preparing
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{doc.filename()}"'
    return response


PDF_RESPONSE = {
    (200, "application/pdf"): OpenApiTypes.BINARY,
    (202, "application/json"): OpenApiResponse(
        MessageSerializer, description="In preparazione: riprovare dopo Retry-After secondi."
    ),
}


class _PdfView(APIView):
    permission_classes = [ParentReady]
    renderer_classes = [*APIView.renderer_classes, PdfRenderer]


class RiepilogoPdfView(_PdfView):
    @extend_schema(
        summary="Riepilogo della domanda d'iscrizione (PDF)", responses=PDF_RESPONSE, tags=["Documenti"]
    )
    def get(self, request: Request, domanda: uuid.UUID) -> HttpResponse:
        domanda_state_or_404(request, domanda)
        return _pdf(documents.Riepilogo(comune=comune_current(), domanda=domanda))


class ManualePdfView(_PdfView):
    @extend_schema(summary="Manuale informativo (PDF)", responses=PDF_RESPONSE, tags=["Documenti"])
    def get(self, request: Request) -> HttpResponse:
        return _pdf(documents.ManualeInformativo(comune=comune_current()))


class CredenzialiPdfView(_PdfView):
    @extend_schema(summary="Lettera credenziali (PDF)", responses=PDF_RESPONSE, tags=["Documenti"])
    def get(self, request: Request) -> HttpResponse:
        return _pdf(documents.LetteraCredenziali(comune=comune_current(), account=caller(request)))
