"""Thin API views: parse the JSON, run the portal's own form and service, serialize.

Every rule lives where the web portal keeps it: identity.services for access,
enrollment.forms for the enrollment data, enrollment.services for every
change. These views only translate between JSON and those calls.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import services as api_services
from api.auth import IsParent, LoginThrottle, ParentReady, PasswordChangeRequired, current_token
from api.errors import ApiError, PreconditionFailed, PreconditionRequired, error_body
from api.renderers import PdfRenderer
from api.selectors import tokens_active
from api.serializers import (
    AccountSerializer,
    ComuneSerializer,
    DeviceSerializer,
    DomandaSerializer,
    EmailConfirmSerializer,
    EmailSendSerializer,
    EnrollmentCreateSerializer,
    EnrollmentUpdateSerializer,
    ExchangeSerializer,
    MessageSerializer,
    PasswordChangeSerializer,
    ProfileSerializer,
    PupilSerializer,
    RenewalSerializer,
    ServiceSerializer,
    TokenObtainSerializer,
    TokenSerializer,
    WithdrawSerializer,
)
from enrollment import documents
from enrollment.forms import EnrollmentForm, initial_from
from enrollment.models import Enrollment, Guardian

# The web's own decisions, reused rather than restated: the texts, the message
# when a draft lacks what it needs and (selectors.pupil_cf_locked) when the
# pupil's codice fiscale is fixed to the account's.
from enrollment.rules import (
    DRAFT_MISSING,
    DRAFT_NOTE,
    PRIVACY_TEXT,
    SIBLINGS_NOTE,
    service_fields,
)
from enrollment.selectors import (
    comune_current,
    domanda_enrollments,
    enrollments_for_guardian,
    guardian_for_account,
    pupil_cf_locked,
    pupils_for_guardian,
    renewals_available,
    services_catalogue,
    services_open_for_new,
)
from enrollment.services import domanda_save, enrollment_withdraw, enrollments_submit, renewal_save
from identity import email_verification
from identity import services as identity_services
from identity.access import codice_fiscale_backend_key, parent_required
from identity.backends import backend_enabled
from identity.forms import (
    CodiceFiscaleLoginForm,
    CredentialsLoginForm,
    EmailCodeForm,
    EmailVerifyForm,
    PasswordChangeForm,
)
from identity.models import Account

Status = Enrollment.Status
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


def _form_invalid(errors: dict[str, list[str]]) -> exceptions.ValidationError:
    return exceptions.ValidationError(errors)


def _simple_form_errors(form: Any) -> dict[str, list[str]]:
    return {("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()}


# Public profile and catalogue


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


# Authentication and devices


def _token_response(request: Request, issued: api_services.IssuedToken) -> Response:
    data = {
        "token": issued.key,
        "expires_at": issued.token.expires_at,
        "device": issued.token,
        "account": issued.token.account,
    }
    return Response(TokenSerializer(data, context={"request": request}).data, status=status.HTTP_201_CREATED)


class TokenObtainView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [*APIView.throttle_classes, LoginThrottle]

    @extend_schema(
        summary="Ottenere un token",
        description=(
            "Accesso con le stesse regole del portale (blocco dopo troppi tentativi, audit). "
            "`credentials`: codice utente e password. `codice_fiscale`: 'Sono un nuovo iscritto' con il "
            "codice fiscale dell'alunno, senza password al primo accesso, con la password ricevuta via "
            "email dopo il primo salvataggio. Se `account.next_step` non è null, completare prima quel "
            "passo (cambio password, verifica email)."
        ),
        request=TokenObtainSerializer,
        responses={201: TokenSerializer},
        tags=["Accesso"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenObtainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        method = data["method"]
        if not backend_enabled(comune_current(), method):
            raise ApiError(
                status_code=400,
                code="method_not_enabled",
                message="Questa modalità di accesso non è attiva per questo comune.",
            )
        if method == "credentials":
            form: Any = CredentialsLoginForm(
                {"codice_utente": data.get("codice_utente", ""), "password": data.get("password", "")}
            )
            if not form.is_valid():
                raise _form_invalid(_simple_form_errors(form))
            account = identity_services.credentials_authenticate(
                request=request, codice_utente=form.cleaned_data["codice_utente"],
                password=form.cleaned_data["password"],
            )  # fmt: skip
        else:
            form = CodiceFiscaleLoginForm(
                {"codice_fiscale": data.get("codice_fiscale", ""), "password": data.get("password", "")}
            )
            if not form.is_valid():
                raise _form_invalid(_simple_form_errors(form))
            account, _destination = identity_services.codice_fiscale_access(
                request=request, codice_fiscale=form.cleaned_data["codice_fiscale"],
                password=form.cleaned_data["password"],
            )  # fmt: skip
        backend = (
            method
            if method == "credentials"
            else codice_fiscale_backend_key(password=form.cleaned_data["password"])
        )
        issued = api_services.token_issue(
            account=account, device_name=data["device_name"], backend=backend, request=request
        )
        return _token_response(request, issued)


class ExchangeView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [*APIView.throttle_classes, LoginThrottle]

    @extend_schema(
        summary="Scambiare il codice monouso dell'accesso web con un token",
        description=(
            "Per SPID e CIE: l'app apre nel browser `/api/v1/auth/app-login/?redirect_uri=<schema app>://..."
            "&code_challenge=<BASE64URL(SHA256(code_verifier))>&code_challenge_method=S256`; dopo "
            "l'accesso web il browser torna all'app con `code=...`, valido 60 secondi e una sola volta, "
            "da scambiare qui insieme al `code_verifier`."
        ),
        request=ExchangeSerializer,
        responses={201: TokenSerializer},
        tags=["Accesso"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = ExchangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            issued = api_services.app_login_code_exchange(
                code=serializer.validated_data["code"],
                code_verifier=serializer.validated_data["code_verifier"],
                device_name=serializer.validated_data["device_name"],
                request=request,
            )
        except api_services.ExchangeError as exc:
            raise ApiError(status_code=400, code="invalid_code", message=exc.message) from exc
        return _token_response(request, issued)


class _AppRedirect(HttpResponseRedirect):
    @property
    def allowed_schemes(self) -> list[str]:  # type: ignore[override]
        return list(settings.API_APP_REDIRECT_SCHEMES)


PKCE_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def app_login(request: HttpRequest) -> HttpResponse:
    """Web step of the app's SPID/CIE login: after any web login, back to the app with a code."""
    redirect_uri = request.GET.get("redirect_uri", "")
    scheme, sep, _rest = redirect_uri.partition("://")
    if not sep or scheme.lower() not in settings.API_APP_REDIRECT_SCHEMES or "#" in redirect_uri:
        return JsonResponse(
            error_body("invalid_redirect_uri", "Indirizzo di ritorno all'app non valido o non registrato."),
            status=400,
        )
    challenge = request.GET.get("code_challenge", "")
    if request.GET.get("code_challenge_method") != "S256" or not PKCE_CHALLENGE_RE.match(challenge):
        return JsonResponse(
            error_body(
                "invalid_code_challenge",
                "Servono code_challenge (SHA-256 del code_verifier, base64url) e code_challenge_method=S256.",
            ),
            status=400,
        )
    return _app_login_redirect(request, redirect_uri=redirect_uri, challenge=challenge)


@parent_required
def _app_login_redirect(request: HttpRequest, *, redirect_uri: str, challenge: str) -> HttpResponse:
    backend = request.session.get("login_backend", "web")
    code = api_services.app_login_code_issue(
        account=request.user, backend=backend, code_challenge=challenge, request=request
    )
    joiner = "&" if "?" in redirect_uri else "?"
    return _AppRedirect(f"{redirect_uri}{joiner}code={code}")


class LogoutView(APIView):
    permission_classes = [IsParent]

    @extend_schema(
        summary="Esci (revoca il token di questo dispositivo)",
        request=None,
        responses={204: None},
        tags=["Accesso"],
    )
    def post(self, request: Request) -> Response:
        token = current_token(request)
        if token is None:
            raise ApiError(status_code=400, code="no_token", message="La richiesta non usa un token.")
        api_services.token_revoke(token=token, by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["Accesso"])
class DeviceListView(generics.ListAPIView):
    """Dispositivi: i token attivi dell'account (non scaduti né revocati)."""

    permission_classes = [IsParent]
    serializer_class = DeviceSerializer

    def get_queryset(self) -> Any:
        return tokens_active(account=self.request.user)


class DeviceDetailView(APIView):
    permission_classes = [IsParent]

    @extend_schema(summary="Revocare un dispositivo", responses={204: None}, tags=["Accesso"])
    def delete(self, request: Request, pk: int) -> Response:
        token = tokens_active(account=request.user).filter(pk=pk).first()
        if token is None:
            raise exceptions.NotFound()
        api_services.token_revoke(token=token, by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# The parent's account: profile and forced steps


class ProfileView(APIView):
    permission_classes = [IsParent]

    @extend_schema(
        summary="Profilo del genitore/tutore",
        description="L'account (con l'eventuale passo obbligatorio `next_step`) e l'anagrafica.",
        responses=ProfileSerializer,
        tags=["Profilo"],
    )
    def get(self, request: Request) -> Response:
        data = {"account": request.user, "guardian": guardian_for_account(account=request.user)}
        return Response(ProfileSerializer(data).data)


class PasswordChangeView(APIView):
    permission_classes = [IsParent]
    throttle_classes = [*APIView.throttle_classes, LoginThrottle]

    @extend_schema(
        summary="Cambio Password",
        description=(
            "Obbligatorio dopo l'accesso con una password rilasciata dal comune o temporanea (allora "
            "`old_password` non serve). Gli altri dispositivi vengono disconnessi."
        ),
        request=PasswordChangeSerializer,
        responses={200: AccountSerializer},
        tags=["Profilo"],
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        account = request.user
        form = PasswordChangeForm(serializer.validated_data, account=account)
        if not form.is_valid():
            raise _form_invalid(_simple_form_errors(form))
        with transaction.atomic():
            # The Django request: with a token there is no session to keep.
            identity_services.password_change(
                request=request._request, account=account, new_password=form.cleaned_data["new_password1"]
            )
            _keep_this_device(request)
            api_services.tokens_revoke_others(account=account, keep=current_token(request), request=request)
        return Response(AccountSerializer(account).data)


def _keep_this_device(request: Request) -> None:
    """After a password change by this caller (own change, or a temporary password
    set by the first draft), its token stays valid; the others end."""
    token = current_token(request)
    if token is not None:
        api_services.token_rebind(token=token)


class _EmailStepView(APIView):
    permission_classes = [IsParent]
    throttle_classes = [*APIView.throttle_classes, LoginThrottle]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Same order as the web: the forced password change comes first.
        if request.user.must_change_password:
            raise PasswordChangeRequired()


class EmailSendView(_EmailStepView):
    @extend_schema(
        summary="Verifica Email: invia il codice sicurezza",
        description="Codice di 6 cifre, valido 10 minuti; al massimo 3 invii ogni 15 minuti.",
        request=EmailSendSerializer,
        responses={202: MessageSerializer},
        tags=["Profilo"],
    )
    def post(self, request: Request) -> Response:
        serializer = EmailSendSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        form = EmailVerifyForm(serializer.validated_data)
        if not form.is_valid():
            raise _form_invalid(_simple_form_errors(form))
        token = current_token(request)
        email_verification.email_verification_send(
            request=request,
            account=request.user,
            email=form.cleaned_data["email"],
            login_backend=token.backend if token else request.session.get("login_backend", ""),
        )
        message = (
            "Codice sicurezza in invio (arriva entro pochi minuti): inserirlo con "
            "POST /api/v1/me/email/confirm/."
        )
        return Response({"message": message}, status=status.HTTP_202_ACCEPTED)


class EmailConfirmView(_EmailStepView):
    @extend_schema(
        summary="Verifica Email: conferma il codice sicurezza",
        request=EmailConfirmSerializer,
        responses={200: AccountSerializer},
        tags=["Profilo"],
    )
    def post(self, request: Request) -> Response:
        serializer = EmailConfirmSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        form = EmailCodeForm(serializer.validated_data)
        if not form.is_valid():
            raise _form_invalid(_simple_form_errors(form))
        email_verification.email_verification_confirm(
            request=request, account=request.user, code=form.cleaned_data["code"]
        )
        request.user.refresh_from_db()
        return Response(AccountSerializer(request.user).data)


# Pupils


@extend_schema(tags=["Alunni"])
class PupilListView(generics.ListAPIView):
    """Gli alunni (fratelli) del genitore/tutore."""

    permission_classes = [ParentReady]
    serializer_class = PupilSerializer

    def get_queryset(self) -> Any:
        guardian = guardian_for_account(account=self.request.user)
        return pupils_for_guardian(guardian=guardian) if guardian else Guardian.objects.none()


@extend_schema(tags=["Alunni"])
class PupilDetailView(generics.RetrieveAPIView):
    """Un alunno del genitore/tutore."""

    permission_classes = [ParentReady]
    serializer_class = PupilSerializer

    def get_queryset(self) -> Any:
        guardian = guardian_for_account(account=self.request.user)
        return pupils_for_guardian(guardian=guardian) if guardian else Guardian.objects.none()


# Enrollments ("domande": one form, one item per requested service)


def domanda_etag(rows: list[Enrollment]) -> str:
    """Changes whenever any item, the pupil or the guardian of the form changes."""
    first = rows[0]
    parts = [f"{e.pk}:{e.status}:{e.updated_at.isoformat()}" for e in sorted(rows, key=lambda e: e.pk)]
    parts.append(f"p{first.pupil.pk}:{first.pupil.updated_at.isoformat()}")
    parts.append(f"g{first.guardian.pk}:{first.guardian.updated_at.isoformat()}")
    return '"' + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32] + '"'


def _live(rows: list[Enrollment]) -> list[Enrollment]:
    return [e for e in rows if e.status != Status.ANNULLATA] or rows


def _domanda_data(rows: list[Enrollment]) -> dict[str, Any]:
    live = _live(rows)
    first = live[0]
    return {
        "id": first.domanda,
        "kind": first.kind,
        "school_year": first.school_year,
        "pupil": first.pupil,
        "guardian": first.guardian_shown,
        "items": rows,
        "editable": all(e.is_editable for e in live) and first.status != Status.ANNULLATA,
        "draft": all(e.status == Status.BOZZA for e in live),
        "etag": domanda_etag(rows),
    }


def _domanda_rows(request: Request, domanda: uuid.UUID, *, for_update: bool = False) -> list[Enrollment]:
    guardian = guardian_for_account(account=request.user)
    if guardian is None:
        raise exceptions.NotFound("Iscrizione non trovata.")
    rows = domanda_enrollments(domanda=domanda, guardian=guardian)
    if for_update:
        rows = rows.select_for_update(of=("self",))
    found = list(rows)
    if not found:
        raise exceptions.NotFound("Iscrizione non trovata.")
    return found


def _domanda_response(domanda: uuid.UUID, guardian: Guardian, *, code: int = 200) -> Response:
    rows = list(domanda_enrollments(domanda=domanda, guardian=guardian))
    data = _domanda_data(rows)
    return Response(DomandaSerializer(data).data, status=code, headers={"ETag": data["etag"]})


def _check_if_match(request: Request, rows: list[Enrollment]) -> None:
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    if domanda_etag(rows) not in {tag.strip() for tag in header.split(",")}:
        raise PreconditionFailed()


def _to_form_data(data: dict[str, Any]) -> dict[str, Any]:
    """The API's nested JSON as the portal form's flat fields."""
    out: dict[str, Any] = {}
    for section in ("pupil", "guardian"):
        for key, value in (data.get(section) or {}).items():
            out[f"{section}_{key}"] = value
    if "services" in data:
        out["services"] = [str(pk) for pk in data["services"]]
    for code, answers in (data.get("answers") or {}).items():
        for key, value in answers.items():
            out[f"extra_{code}_{key}"] = value
    if "privacy_consent" in data:
        out["privacy"] = bool(data["privacy_consent"])
    return out


def _form_field_paths(form: EnrollmentForm) -> dict[str, str]:
    paths = {"privacy": "privacy_consent", "services": "services", "__all__": "non_field_errors"}
    for name in form.fields:
        for prefix in ("pupil_", "guardian_"):
            if name.startswith(prefix):
                paths[name] = f"{prefix[:-1]}.{name[len(prefix) :]}"
    for service, names in form.service_questions:
        for question, name in zip(service_fields(service.code), names, strict=True):
            paths[name] = f"answers.{service.code}.{question.name}"
    return paths


def _enrollment_form_errors(form: EnrollmentForm, *, draft: bool) -> exceptions.ValidationError:
    paths = _form_field_paths(form)
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        errors.setdefault(paths.get(name, name), []).extend(messages)
    if draft:
        errors.setdefault("non_field_errors", []).append(DRAFT_MISSING)
    return exceptions.ValidationError(errors)


def _save_kwargs(form: EnrollmentForm, request: Request) -> dict[str, Any]:
    return {
        "account": request.user,
        "guardian_data": form.guardian_data(),
        "pupil_data": form.pupil_data(),
        "extra": form.extra_data(),
        "consent": form.cleaned_data["privacy"],
        "request": request,
    }


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
        guardian = guardian_for_account(account=request.user)
        grouped: dict[uuid.UUID, list[Enrollment]] = {}
        for e in enrollments_for_guardian(guardian=guardian).select_related("guardian") if guardian else []:
            grouped.setdefault(e.domanda, []).append(e)
        page = self.paginate_queryset([_domanda_data(rows) for rows in grouped.values()])
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
        account = request.user
        guardian = guardian_for_account(account=account)
        lock_cf = pupil_cf_locked(account=account, guardian=guardian)
        form = EnrollmentForm(
            _to_form_data(serializer.validated_data),
            initial={"pupil_codice_fiscale": account.codice_fiscale} if lock_cf else {},
            services=services_open_for_new(),
            lock_pupil_cf=lock_cf,
            full=not draft,
        )
        if not form.is_valid():
            raise _enrollment_form_errors(form, draft=draft)
        rows = domanda_save(**_save_kwargs(form, request), services=form.chosen_services(), draft=draft)
        _keep_this_device(request)  # a temporary password may just have been set
        return _domanda_response(rows[0].domanda, rows[0].guardian, code=status.HTTP_201_CREATED)


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
        rows = _domanda_rows(request, domanda)
        return _domanda_response(domanda, rows[0].guardian)

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
        with transaction.atomic():
            rows = _domanda_rows(request, domanda, for_update=True)
            _check_if_match(request, rows)
            live = [e for e in rows if e.status != Status.ANNULLATA]
            if not live or not all(e.is_editable for e in live):
                raise ApiError(
                    status_code=409,
                    code="read_only",
                    message=(
                        "L'iscrizione è già stata esaminata dall'ufficio e non può più essere modificata."
                    ),
                )
            first = live[0]
            can_draft = all(e.status == Status.BOZZA for e in live) and first.kind == Enrollment.Kind.NUOVA
            if wants_draft and not can_draft:
                raise ApiError(
                    status_code=409,
                    code="draft_not_allowed",
                    message="La funzionalità di salvataggio in bozza è attiva solo per le nuove iscrizioni "
                    "non ancora inviate.",
                )
            current = initial_from(guardian=first.guardian, pupil=first.pupil, enrollments=live)
            current["services"] = [str(s.pk) for s in current["services"]]
            given = _to_form_data(serializer.validated_data)
            form = EnrollmentForm(
                (current | given) if partial else given,
                services=services_open_for_new() if can_draft else None,
                fixed_services=[e.service for e in live],
                school_year=first.school_year,
                lock_pupil_cf=pupil_cf_locked(
                    account=request.user, guardian=first.guardian, pupil=first.pupil
                ),
                initial=current,
                full=not wants_draft,
            )
            if not form.is_valid():
                raise _enrollment_form_errors(form, draft=wants_draft)
            domanda_save(
                **_save_kwargs(form, request),
                services=form.chosen_services(),
                draft=wants_draft,
                domanda=domanda,
            )
            _keep_this_device(request)  # a temporary password may just have been set
        return _domanda_response(domanda, first.guardian)


class EnrollmentSubmitView(APIView):
    permission_classes = [ParentReady]

    @extend_schema(
        summary="Invia Iscrizione",
        description=(
            "Porta i servizi in bozza a 'inviata' e invia la ricevuta via email. Un secondo invio "
            "risponde 409 `already_submitted`; fuori dalla finestra d'iscrizione 409 `outside_window`. "
            "Se i posti sono esauriti l'elemento riceve una posizione in lista d'attesa."
        ),
        request=None,
        parameters=[ETAG_HEADER, ETAG_RESPONSE],
        responses={200: DomandaSerializer, **CONFLICTS},
        tags=["Iscrizioni"],
    )
    def post(self, request: Request, domanda: uuid.UUID) -> Response:
        with transaction.atomic():
            rows = _domanda_rows(request, domanda, for_update=True)
            _check_if_match(request, rows)
            live = _live(rows)
            if all(e.status in (Status.INVIATA, Status.CONFERMATA, Status.RESPINTA) for e in live):
                raise ApiError(
                    status_code=409, code="already_submitted", message="L'iscrizione è già stata inviata."
                )
            enrollments_submit(enrollments=live, by=request.user, request=request)
            _keep_this_device(request)  # a temporary password may just have been set
        return _domanda_response(domanda, rows[0].guardian)


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
        with transaction.atomic():
            rows = _domanda_rows(request, domanda, for_update=True)
            _check_if_match(request, rows)
            by_id = {e.pk: e for e in rows}
            wanted = serializer.validated_data.get("items")
            if wanted is None:
                targets = [e for e in rows if e.status != Status.ANNULLATA]
            else:
                unknown = [pk for pk in wanted if pk not in by_id]
                if unknown:
                    raise exceptions.ValidationError(
                        {"items": [f"Elementi non presenti in questa iscrizione: {unknown}."]}
                    )
                targets = [by_id[pk] for pk in wanted]
            if not targets:
                raise ApiError(
                    status_code=409, code="invalid_transition", message="L'iscrizione è già stata annullata."
                )
            for enrollment in targets:
                enrollment_withdraw(enrollment=enrollment, by=request.user, request=request)
        return _domanda_response(domanda, rows[0].guardian)


# Renewals


def _renewals(request: Request) -> list[dict[str, Any]]:
    guardian = guardian_for_account(account=request.user)
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
            _to_form_data(serializer.validated_data),
            services=None,
            fixed_services=[target],
            school_year=target.school_year,
        )
        if not form.is_valid():
            raise _enrollment_form_errors(form, draft=False)
        rows = renewal_save(previous=renewal["previous"], **_save_kwargs(form, request))
        return _domanda_response(rows[0].domanda, rows[0].guardian, code=status.HTTP_201_CREATED)


# Documents


DOCUMENT_PREPARING = "Il documento è in preparazione: riprovare tra qualche secondo."


def _pdf(doc: documents.PdfDocument) -> HttpResponse:
    """The stored PDF; 202 with Retry-After while the job prepares it (never rendered here)."""
    content = documents.stored_or_prepare(doc)
    if content is None:
        response = JsonResponse({"message": DOCUMENT_PREPARING}, status=status.HTTP_202_ACCEPTED)
        response["Retry-After"] = str(documents.PREPARE_RETRY_SECONDS)
        return response
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
        _domanda_rows(request, domanda)
        return _pdf(documents.Riepilogo(comune=comune_current(), domanda=domanda))


class ManualePdfView(_PdfView):
    @extend_schema(summary="Manuale informativo (PDF)", responses=PDF_RESPONSE, tags=["Documenti"])
    def get(self, request: Request) -> HttpResponse:
        return _pdf(documents.ManualeInformativo(comune=comune_current()))


class CredenzialiPdfView(_PdfView):
    @extend_schema(summary="Lettera credenziali (PDF)", responses=PDF_RESPONSE, tags=["Documenti"])
    def get(self, request: Request) -> HttpResponse:
        account: Account = request.user
        return _pdf(documents.LetteraCredenziali(comune=comune_current(), account=account))
