"""Sign-in for the app: tokens, the web step of SPID/CIE, sign-out and devices."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import services as api_services
from api.auth import IsParent, LoginThrottle, caller, current_token
from api.errors import ApiError, error_body
from api.mapping import form_invalid
from api.selectors import tokens_active
from api.serializers import (
    DeviceSerializer,
    ExchangeSerializer,
    TokenObtainSerializer,
    TokenSerializer,
)
from enrollment.selectors import comune_current
from identity import services as identity_services
from identity.access import codice_fiscale_backend_key, parent_required
from identity.backends import backend_enabled
from identity.forms import CodiceFiscaleLoginForm, CredentialsLoginForm
from identity.http import AuthenticatedRequest


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
                raise form_invalid(form)
            account = identity_services.credentials_authenticate(
                request=request, codice_utente=form.cleaned_data["codice_utente"],
                password=form.cleaned_data["password"],
            )  # fmt: skip
        else:
            form = CodiceFiscaleLoginForm(
                {"codice_fiscale": data.get("codice_fiscale", ""), "password": data.get("password", "")}
            )
            if not form.is_valid():
                raise form_invalid(form)
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
    def __init__(self, redirect_to: str) -> None:
        # Before Django's check of the scheme; read per response (tests may change the setting).
        self.allowed_schemes = list(settings.API_APP_REDIRECT_SCHEMES)
        super().__init__(redirect_to)


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
def _app_login_redirect(request: AuthenticatedRequest, *, redirect_uri: str, challenge: str) -> HttpResponse:
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
        api_services.token_revoke(token=token, by=caller(request), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["Accesso"])
class DeviceListView(generics.ListAPIView):
    """Dispositivi: i token attivi dell'account (non scaduti né revocati)."""

    permission_classes = [IsParent]
    serializer_class = DeviceSerializer

    def get_queryset(self) -> Any:
        return tokens_active(account=caller(self.request))


class DeviceDetailView(APIView):
    permission_classes = [IsParent]

    @extend_schema(summary="Revocare un dispositivo", responses={204: None}, tags=["Accesso"])
    def delete(self, request: Request, pk: int) -> Response:
        account = caller(request)
        token = tokens_active(account=account).filter(pk=pk).first()
        if token is None:
            raise exceptions.NotFound()
        api_services.token_revoke(token=token, by=account, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
