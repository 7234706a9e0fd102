"""The parent's account (profile, forced steps: password change, email verification) and pupils."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import services as api_services
from api.auth import IsParent, LoginThrottle, ParentReady, PasswordChangeRequired, caller, current_token
from api.mapping import body_cleaned
from api.serializers import (
    AccountSerializer,
    EmailConfirmSerializer,
    EmailSendSerializer,
    MessageSerializer,
    PasswordChangeSerializer,
    ProfileSerializer,
    PupilSerializer,
)
from enrollment.models import Guardian
from enrollment.selectors import guardian_for_account, pupils_for_guardian
from identity import email_verification
from identity.forms import EmailCodeForm, EmailVerifyForm, PasswordChangeForm


class ProfileView(APIView):
    permission_classes = [IsParent]

    @extend_schema(
        summary="Profilo del genitore/tutore",
        description="L'account (con l'eventuale passo obbligatorio `next_step`) e l'anagrafica.",
        responses=ProfileSerializer,
        tags=["Profilo"],
    )
    def get(self, request: Request) -> Response:
        account = caller(request)
        data = {"account": account, "guardian": guardian_for_account(account=account)}
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
        account = caller(request)
        cleaned = body_cleaned(request, PasswordChangeSerializer, PasswordChangeForm, account=account)
        # The Django request: with a token there is no session to keep.
        api_services.password_change_on_device(
            request=request._request,
            account=account,
            new_password=cleaned["new_password1"],
            token=current_token(request),
        )
        return Response(AccountSerializer(account).data)


class _EmailStepView(APIView):
    permission_classes = [IsParent]
    throttle_classes = [*APIView.throttle_classes, LoginThrottle]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Same order as the web: the forced password change comes first.
        if caller(request).must_change_password:
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
        cleaned = body_cleaned(request, EmailSendSerializer, EmailVerifyForm)
        token = current_token(request)
        email_verification.email_verification_send(
            request=request,
            account=caller(request),
            email=cleaned["email"],
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
        cleaned = body_cleaned(request, EmailConfirmSerializer, EmailCodeForm)
        account = caller(request)
        email_verification.email_verification_confirm(request=request, account=account, code=cleaned["code"])
        account.refresh_from_db()
        return Response(AccountSerializer(account).data)


# Pupils


@extend_schema(tags=["Alunni"])
class PupilListView(generics.ListAPIView):
    """Gli alunni (fratelli) del genitore/tutore."""

    permission_classes = [ParentReady]
    serializer_class = PupilSerializer

    def get_queryset(self) -> Any:
        guardian = guardian_for_account(account=caller(self.request))
        return pupils_for_guardian(guardian=guardian) if guardian else Guardian.objects.none()


@extend_schema(tags=["Alunni"])
class PupilDetailView(generics.RetrieveAPIView):
    """Un alunno del genitore/tutore."""

    permission_classes = [ParentReady]
    serializer_class = PupilSerializer

    def get_queryset(self) -> Any:
        guardian = guardian_for_account(account=caller(self.request))
        return pupils_for_guardian(guardian=guardian) if guardian else Guardian.objects.none()
