"""OpenAPI post-processing: every operation documents the shared error format."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_SCHEMA = {
    "type": "object",
    "description": "Formato unico degli errori.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Codice dell'errore, stabile."},
                "message": {"type": "string", "description": "Messaggio in italiano."},
                "fields": {
                    "type": "object",
                    "description": "Errori per campo (percorso puntato nel JSON).",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
# Any operation may answer these: bad input or headers, a missing or foreign
# token (also on public endpoints), a refused step, an unknown id, an oversize
# body, throttling, a fault of the service.
COMMON = {
    "400": "Dati non validi.",
    "401": "Token assente, non valido, scaduto o di un altro comune.",
    "403": "Operazione non consentita (o passo obbligatorio da completare).",
    "404": "Non trovato.",
    "405": "Metodo non consentito.",
    "406": "Formato di risposta non disponibile.",
    "413": "Corpo della richiesta troppo grande.",
    "415": "Formato del corpo non supportato.",
    "429": "Troppe richieste o accesso bloccato.",
    "500": "Errore interno del servizio: riprovare più tardi.",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in COMMON.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    response["content"] = content
    return result


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Token ottenuto con POST /api/v1/auth/token/ o /api/v1/auth/exchange/.",
        }


class PortalSessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.SessionAuthentication"
    name = "sessione"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "iscrizioni_session",
            "description": "Sessione del portale web dello stesso comune (con intestazione X-CSRFToken).",
        }
