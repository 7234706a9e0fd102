"""Renewals: last year's confirmed enrollments that can be renewed now, and the renewal itself."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import ParentReady, caller
from api.errors import ApiError
from api.mapping import enrollment_form_errors, save_kwargs, to_form_data
from api.serializers import DomandaSerializer, EnrollmentUpdateSerializer, RenewalSerializer
from api.views.enrollments import CONFLICTS, ETAG_RESPONSE, domanda_response
from enrollment.forms import EnrollmentForm
from enrollment.renewals import renewal_save
from enrollment.selectors import guardian_for_account, renewals_available


def _renewals(request: Request) -> list[dict[str, Any]]:
    guardian = guardian_for_account(account=caller(request))
    if guardian is None:
        return []
    return [
        {
            "id": previous.pk,
            "pupil": previous.pupil,
            "previous": previous,
            "service": target,
            "guardian": guardian,
        }
        for previous, target in renewals_available(guardian=guardian)
    ]


class RenewalListView(generics.GenericAPIView):
    permission_classes = [ParentReady]
    serializer_class = RenewalSerializer

    @extend_schema(
        summary="Rinnova iscrizione: rinnovi disponibili",
        description=(
            "Gli alunni iscritti l'anno scorso con un servizio che accetta rinnovi ora, con i dati per "
            "precompilare il modulo. In caso di iscrizione di più fratelli, iscrivere tutti gli utenti "
            "con lo stesso genitore/tutore."
        ),
        responses=RenewalSerializer(many=True),
        tags=["Rinnovi"],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(_renewals(request))
        return self.get_paginated_response(RenewalSerializer(page, many=True).data)


class RenewalCreateView(APIView):
    permission_classes = [ParentReady]

    @extend_schema(
        summary="Rinnova iscrizione",
        description=(
            "Crea il rinnovo (in stato bozza, senza 'Salva Bozza') con i dati confermati o corretti; poi "
            "va inviato con .../submit/."
        ),
        request=EnrollmentUpdateSerializer,
        parameters=[ETAG_RESPONSE],
        responses={201: DomandaSerializer, 409: CONFLICTS[409]},
        tags=["Rinnovi"],
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = EnrollmentUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        available = {r["id"]: r for r in _renewals(request)}
        renewal = available.get(pk)
        if renewal is None:
            raise exceptions.NotFound("Rinnovo non disponibile.")
        if serializer.validated_data.get("draft"):
            raise ApiError(
                status_code=409,
                code="draft_not_allowed",
                message="La funzionalità di salvataggio in bozza è attiva solo per le nuove iscrizioni.",
            )
        target = renewal["service"]
        form = EnrollmentForm(
            to_form_data(serializer.validated_data),
            services=None,
            fixed_services=[target],
            school_year=target.school_year,
        )
        if not form.is_valid():
            raise enrollment_form_errors(form, draft=False)
        rows = renewal_save(previous=renewal["previous"], **save_kwargs(form, request))
        return domanda_response(request, rows[0].domanda, code=status.HTTP_201_CREATED)
