"""The parent's enrollments ("domande": one form, one item per requested service).

What a form allows is enrollment.selectors.domanda_state's; each change is one
enrollment service, which locks the form and checks it is still at the
version the client read (If-Match, from the ETag of the last read).
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import ParentReady, caller, keep_this_device
from api.errors import PreconditionFailed, PreconditionRequired
from api.mapping import domanda_data, enrollment_form_errors, etag, etag_version, save_kwargs, to_form_data
from api.serializers import (
    DomandaSerializer,
    EnrollmentCreateSerializer,
    EnrollmentUpdateSerializer,
    WithdrawSerializer,
)
from enrollment.forms import EnrollmentForm, initial_from
from enrollment.models import Enrollment
from enrollment.selectors import (
    DomandaState,
    domanda_state,
    domanda_state_of,
    enrollments_for_guardian,
    guardian_for_account,
    pupil_cf_locked,
    services_open_for_new,
)
from enrollment.services import (
    EnrollmentError,
    domanda_check_edit,
    domanda_save,
    domanda_submit,
    domanda_update,
    domanda_withdraw,
)

ETAG_HEADER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="ETag dell'iscrizione letta per ultima (obbligatorio: 428 se manca, 412 se superato).",
)
ETAG_RESPONSE = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="Versione dell'iscrizione restituita, da usare in If-Match.",
)
CONFLICTS = {
    409: OpenApiResponse(description="Conflitto con lo stato dell'iscrizione."),
    412: OpenApiResponse(description="If-Match non corrisponde: l'iscrizione è cambiata."),
    428: OpenApiResponse(description="Manca If-Match."),
}


def domanda_state_or_404(request: Request, domanda: uuid.UUID) -> DomandaState:
    state = domanda_state(account=caller(request), domanda=domanda)
    if state is None:
        raise exceptions.NotFound("Iscrizione non trovata.")
    return state


def domanda_response(request: Request, domanda: uuid.UUID, *, code: int = 200) -> Response:
    data = domanda_data(domanda_state_or_404(request, domanda))
    return Response(DomandaSerializer(data).data, status=code, headers={"ETag": data["etag"]})


def _if_match(request: Request) -> set[str]:
    """The entity tags the client sent in If-Match (428 without it)."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    return {tag.strip() for tag in header.split(",")}


def _version_claimed(request: Request) -> str | None:
    """The one version named by If-Match; None when it names several, or "*"."""
    tags = _if_match(request)
    return etag_version(next(iter(tags))) if len(tags) == 1 else None


def _version_read(request: Request, state: DomandaState) -> str:
    """The version of the form the client read (If-Match), which must still be the current one."""
    if etag(state) not in _if_match(request):
        raise PreconditionFailed()
    return state.version


class EnrollmentListView(generics.GenericAPIView):
    permission_classes = [ParentReady]
    serializer_class = DomandaSerializer

    @extend_schema(
        summary="Le mie iscrizioni",
        description="Una voce per modulo (domanda), con lo stato e le tre date di ogni servizio richiesto.",
        responses=DomandaSerializer(many=True),
        tags=["Iscrizioni"],
    )
    def get(self, request: Request) -> Response:
        account = caller(request)
        guardian = guardian_for_account(account=account)
        grouped: dict[uuid.UUID, list[Enrollment]] = {}
        for e in enrollments_for_guardian(guardian=guardian).select_related("guardian") if guardian else []:
            grouped.setdefault(e.domanda, []).append(e)
        states = [domanda_state_of(rows=rows, account=account) for rows in grouped.values()]
        page = self.paginate_queryset([domanda_data(state) for state in states])
        return self.get_paginated_response(DomandaSerializer(page, many=True).data)

    @extend_schema(
        summary="Nuova Iscrizione",
        description=(
            "Crea il modulo con `draft: false` ('Vai al riepilogo iscrizione': tutti i dati) o "
            "`draft: true` ('Salva Bozza': alunno, genitore/tutore e consenso). Il primo salvataggio in "
            "bozza di un accesso con codice fiscale invia la password temporanea: poi serve il cambio "
            "password. Il modulo va poi inviato con .../submit/."
        ),
        request=EnrollmentCreateSerializer,
        parameters=[ETAG_RESPONSE],
        responses={201: DomandaSerializer, 409: CONFLICTS[409]},
        tags=["Iscrizioni"],
    )
    def post(self, request: Request) -> Response:
        serializer = EnrollmentCreateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        draft = serializer.validated_data.get("draft", False)
        account = caller(request)
        guardian = guardian_for_account(account=account)
        lock_cf = pupil_cf_locked(account=account, guardian=guardian)
        form = EnrollmentForm(
            to_form_data(serializer.validated_data),
            initial={"pupil_codice_fiscale": account.codice_fiscale} if lock_cf else {},
            services=services_open_for_new(),
            lock_pupil_cf=lock_cf,
            full=not draft,
        )
        if not form.is_valid():
            raise enrollment_form_errors(form, draft=draft)
        rows = domanda_save(**save_kwargs(form, request), services=form.chosen_services(), draft=draft)
        keep_this_device(request)  # a temporary password may just have been set
        return domanda_response(request, rows[0].domanda, code=status.HTTP_201_CREATED)


class EnrollmentDetailView(APIView):
    permission_classes = [ParentReady]

    @extend_schema(
        summary="Dettaglio dell'iscrizione",
        description=(
            "Con l'intestazione ETag da rimandare in If-Match per modificarla, inviarla o annullarla."
        ),
        responses=DomandaSerializer,
        parameters=[ETAG_RESPONSE],
        tags=["Iscrizioni"],
    )
    def get(self, request: Request, domanda: uuid.UUID) -> Response:
        return domanda_response(request, domanda)

    @extend_schema(
        summary="Modifica Iscrizione (tutti i dati)",
        description="Consentita finché l'ufficio non interviene. I servizi si cambiano solo in bozza.",
        request=EnrollmentUpdateSerializer,
        parameters=[ETAG_HEADER, ETAG_RESPONSE],
        responses={200: DomandaSerializer, **CONFLICTS},
        tags=["Iscrizioni"],
    )
    def put(self, request: Request, domanda: uuid.UUID) -> Response:
        return self._update(request, domanda, partial=False)

    @extend_schema(
        summary="Modifica Iscrizione (solo i campi inviati)",
        request=EnrollmentUpdateSerializer,
        parameters=[ETAG_HEADER, ETAG_RESPONSE],
        responses={200: DomandaSerializer, **CONFLICTS},
        tags=["Iscrizioni"],
    )
    def patch(self, request: Request, domanda: uuid.UUID) -> Response:
        return self._update(request, domanda, partial=True)

    def _update(self, request: Request, domanda: uuid.UUID, *, partial: bool) -> Response:
        serializer = EnrollmentUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        wants_draft = serializer.validated_data.get("draft", False)
        state = domanda_state_or_404(request, domanda)
        version = _version_read(request, state)
        domanda_check_edit(state=state, draft=wants_draft)
        first = state.first
        current = initial_from(guardian=first.guardian, pupil=first.pupil, enrollments=state.live)
        current["services"] = [str(s.pk) for s in current["services"]]
        given = to_form_data(serializer.validated_data)
        form = EnrollmentForm(
            (current | given) if partial else given,
            services=state.services_offered(),
            fixed_services=[e.service for e in state.live],
            school_year=first.school_year,
            lock_pupil_cf=state.lock_pupil_cf,
            initial=current,
            full=not wants_draft,
        )
        if not form.is_valid():
            raise enrollment_form_errors(form, draft=wants_draft)
        domanda_update(
            **save_kwargs(form, request),
            domanda=domanda,
            version=version,
            services=form.chosen_services(),
            draft=wants_draft,
        )
        keep_this_device(request)  # a temporary password may just have been set
        return domanda_response(request, domanda)


class EnrollmentSubmitView(APIView):
    permission_classes = [ParentReady]

    @extend_schema(
        summary="Invia Iscrizione",
        description=(
            "Porta i servizi in bozza a 'inviata' e invia la ricevuta via email. Un secondo invio "
            "risponde 409 `already_submitted`; fuori dalla finestra d'iscrizione 409 `outside_window`; "
            "una bozza con risposte mancanti o non più valide 409 `answers_incomplete`, con le domande "
            "da completare. "
            "Se i posti sono esauriti l'elemento riceve una posizione in lista d'attesa."
        ),
        request=None,
        parameters=[ETAG_HEADER, ETAG_RESPONSE],
        responses={200: DomandaSerializer, **CONFLICTS},
        tags=["Iscrizioni"],
    )
    def post(self, request: Request, domanda: uuid.UUID) -> Response:
        # One version claimed: domanda_submit checks it on the locked rows (412
        # if stale, 404 if not the caller's form), with no read before.
        version = _version_claimed(request) or _version_read(request, domanda_state_or_404(request, domanda))
        state = domanda_submit(account=caller(request), domanda=domanda, version=version, request=request)
        keep_this_device(request)  # a temporary password may just have been set
        data = domanda_data(state)
        return Response(DomandaSerializer(data).data, headers={"ETag": data["etag"]})


class EnrollmentWithdrawView(APIView):
    permission_classes = [ParentReady]

    @extend_schema(
        summary="Annulla l'iscrizione",
        description="Annulla i servizi indicati (o tutti) finché l'ufficio non ha confermato.",
        request=WithdrawSerializer,
        parameters=[ETAG_HEADER, ETAG_RESPONSE],
        responses={200: DomandaSerializer, **CONFLICTS},
        tags=["Iscrizioni"],
    )
    def post(self, request: Request, domanda: uuid.UUID) -> Response:
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        state = domanda_state_or_404(request, domanda)
        try:
            domanda_withdraw(
                account=caller(request),
                domanda=domanda,
                version=_version_read(request, state),
                items=serializer.validated_data.get("items"),
                request=request,
            )
        except EnrollmentError as exc:
            if exc.code != "unknown_items":
                raise
            raise exceptions.ValidationError({"items": [exc.message]}) from exc
        return domanda_response(request, domanda)
