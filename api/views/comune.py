"""Public profile of the comune and its service catalogue (no sign-in)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import (
    ComuneSerializer,
    ServiceDefinitionSerializer,
    ServiceSerializer,
    definition_data,
)
from enrollment.rules import DRAFT_NOTE, PRIVACY_TEXT, SIBLINGS_NOTE
from enrollment.selectors import comune_current, services_catalogue


class ComuneView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Profilo pubblico del comune",
        description="Nome, recapiti, colori, modalità di accesso e testi fissi. Non serve accedere.",
        responses=ComuneSerializer,
        tags=["Comune"],
    )
    def get(self, request: Request) -> Response:
        comune = comune_current()
        cfg = comune.settings
        data = {
            "slug": comune.slug,
            "name": comune.name,
            "display_name": comune.display_name,
            "province": comune.province,
            "contacts": cfg.contacts.model_dump(),
            "primary_color": cfg.branding.primary_color,
            "header_text": cfg.branding.header_text,
            "login_methods": list(cfg.identity.backends),
            "privacy_text": PRIVACY_TEXT,
            "privacy_notice": cfg.privacy_notice,
            "siblings_note": SIBLINGS_NOTE,
            "draft_note": DRAFT_NOTE,
        }
        return Response(ComuneSerializer(data).data)


@extend_schema(tags=["Comune"])
class ServiceListView(generics.ListAPIView):
    """Catalogo dei servizi del comune, con finestre d'iscrizione e domande aggiuntive."""

    permission_classes = [AllowAny]
    serializer_class = ServiceSerializer

    def get_queryset(self) -> Any:
        return services_catalogue()


@extend_schema(tags=["Comune"])
class ServiceDetailView(generics.RetrieveAPIView):
    """Un servizio del catalogo."""

    permission_classes = [AllowAny]
    serializer_class = ServiceSerializer

    def get_queryset(self) -> Any:
        return services_catalogue()


class ServiceDefinitionView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Definizione del servizio",
        description=(
            "Domande (tipo, opzioni, obbligo, condizioni), scuole ammesse, documenti e tariffe del "
            "servizio: l'app costruisce il modulo da qui. Le risposte vanno in `answers.<codice>` "
            "nel formato descritto da AnswerField e sono controllate come nel modulo web."
        ),
        responses=ServiceDefinitionSerializer,
        tags=["Comune"],
    )
    def get(self, request: Request, pk: int) -> Response:
        service = get_object_or_404(services_catalogue(), pk=pk)
        return Response(ServiceDefinitionSerializer(definition_data(service)).data)
