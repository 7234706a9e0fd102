"""Files for file questions: the app uploads first, then names the upload's id in `answers`."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import ParentReady, caller
from enrollment.definitions import service_definition
from enrollment.selectors import services_catalogue
from enrollment.uploads import UploadRefused, upload_check, upload_max_bytes, upload_store


class UploadInputSerializer(serializers.Serializer):
    service = serializers.IntegerField(help_text="Id del servizio.")
    question = serializers.CharField(max_length=40, help_text="Id della domanda di tipo file.")
    file = serializers.FileField(
        allow_empty_file=True, help_text="Il file: PDF, JPEG o PNG, al massimo il limite del comune (10 MB)."
    )


class UploadSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Da indicare come risposta alla domanda in `answers`.")
    name = serializers.CharField(help_text="Nome del file, ripulito.")
    content_type = serializers.CharField(help_text="Tipo riconosciuto dal contenuto.")
    size = serializers.IntegerField(help_text="Dimensione in byte.")


class UploadView(APIView):
    permission_classes = [ParentReady]
    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        summary="Carica un allegato",
        description=(
            "Controlla il file dal contenuto (PDF, JPEG, PNG), la dimensione e che la domanda sia di "
            "tipo file; restituisce l'id da mettere in `answers.<codice>.<domanda>`. Il file è visibile "
            "solo a chi l'ha caricato e all'ufficio del comune."
        ),
        request={"multipart/form-data": UploadInputSerializer},
        responses={201: UploadSerializer},
        tags=["Iscrizioni"],
    )
    def post(self, request: Request) -> Response:
        serializer = UploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        service = get_object_or_404(services_catalogue(), pk=data["service"])
        question = service_definition(service).question(data["question"])
        if question is None or question.type != "file":
            raise exceptions.ValidationError(
                {
                    "question": [
                        f"{service.name} non ha una domanda «{data['question']}» a cui allegare un file."
                    ]
                }
            )
        try:
            checked = upload_check(file=data["file"], max_bytes=upload_max_bytes())
        except UploadRefused as refused:
            raise exceptions.ValidationError({"file": [str(refused)]}) from None
        upload = upload_store(
            checked=checked, account=caller(request), enrollment=None, question_id=question.id
        )
        return Response(
            UploadSerializer(
                {
                    "id": upload.id,
                    "name": upload.name,
                    "content_type": upload.content_type,
                    "size": upload.size,
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )
