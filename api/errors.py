"""One JSON error format for every answer of the API that is not a success.

    {"error": {"code": "validation_error", "message": "<Italian>",
               "fields": {"pupil.codice_fiscale": ["..."]}}}

`code` is stable and meant for the app's logic; `message` is for the parent;
`fields` (only on 400 validation errors) maps each input field, as a dotted
path of the JSON body, to its Italian messages.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import set_rollback

from enrollment.services import EnrollmentError
from identity import ratelimit
from identity.services import AccessError

NON_FIELD = "non_field_errors"

# EnrollmentError codes that are a conflict with the current state (409) or
# "not yours / not there" (404); every other one is an input problem (400),
# except a form changed since the client read it (412, below).
CONFLICT_CODES = {
    "already_submitted",
    "answers_incomplete",
    "draft_not_allowed",
    "duplicate",
    "invalid_transition",
    "outside_window",
    "pupil_taken",
    "read_only",
    "renewal_unavailable",
    "service_closed",
    "services_fixed",
    "waiting_list",
}
NOT_FOUND_CODES = {"not_found"}

MESSAGES = {
    status.HTTP_400_BAD_REQUEST: "Richiesta non valida.",
    status.HTTP_401_UNAUTHORIZED: "Autenticazione necessaria: accedere e riprovare.",
    status.HTTP_403_FORBIDDEN: "Operazione non consentita.",
    status.HTTP_404_NOT_FOUND: "Risorsa non trovata.",
    status.HTTP_405_METHOD_NOT_ALLOWED: "Metodo non consentito per questo indirizzo.",
    status.HTTP_406_NOT_ACCEPTABLE: "Formato di risposta non disponibile: usare application/json.",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "Richiesta troppo grande: ridurre i dati inviati e riprovare.",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "Formato del corpo non supportato: usare application/json.",
    status.HTTP_429_TOO_MANY_REQUESTS: "Troppe richieste: attendere qualche secondo e riprovare.",
    status.HTTP_500_INTERNAL_SERVER_ERROR: (
        "Errore interno del servizio: riprovare tra qualche minuto. Se il problema continua, "
        "contattare l'ufficio del comune."
    ),
}


class ApiError(exceptions.APIException):
    """An error with a given status, code and Italian message, raised by the API views."""

    def __init__(self, *, status_code: int, code: str, message: str, wait: float | None = None) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.wait = wait  # seconds, sent as Retry-After (exception_handler)


class PreconditionFailed(ApiError):
    def __init__(self) -> None:
        super().__init__(
            status_code=status.HTTP_412_PRECONDITION_FAILED,
            code="precondition_failed",
            message=(
                "L'iscrizione è stata modificata nel frattempo (da un altro dispositivo o dall'ufficio): "
                "rileggerla e riprovare."
            ),
        )


class PreconditionRequired(ApiError):
    def __init__(self) -> None:
        super().__init__(
            status_code=status.HTTP_428_PRECONDITION_REQUIRED,
            code="precondition_required",
            message="Manca l'intestazione If-Match con l'ETag dell'iscrizione letta per ultima.",
        )


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"pupil.codice_fiscale": [messages]}."""
    out: dict[str, list[str]] = {}

    def merge(part: dict[str, list[str]]) -> None:
        for key, messages in part.items():
            out.setdefault(key, []).extend(messages)

    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key)
            if name in (NON_FIELD, "__all__"):
                merge(_flatten(value, prefix))
            else:
                merge(_flatten(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, item in enumerate(detail):
            merge(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    elif isinstance(detail, list):
        out[prefix or NON_FIELD] = [str(item) for item in detail]
    else:
        out[prefix or NON_FIELD] = [str(detail)]
    return out


def validation_message(fields: dict[str, list[str]]) -> str:
    count = len(fields)
    if count == 1 and NON_FIELD in fields:
        return fields[NON_FIELD][0]
    return (
        "Dati non validi: correggere il campo indicato."
        if count == 1
        else (f"Dati non validi: correggere i {count} campi indicati.")
    )


def _translate(exc: Exception) -> Exception:
    """Domain and Django errors as API errors with their status."""
    if isinstance(exc, EnrollmentError):
        if exc.code == "changed":
            return PreconditionFailed()
        if exc.code in NOT_FOUND_CODES:
            return ApiError(status_code=404, code=exc.code, message=exc.message)
        if exc.code in CONFLICT_CODES:
            return ApiError(status_code=409, code=exc.code, message=exc.message)
        return ApiError(status_code=400, code=exc.code, message=exc.message)
    if isinstance(exc, AccessError):
        if exc.message == ratelimit.LOCKED_MESSAGE:
            # The lock lasts at most LOCK_SECONDS, as the message says: the client may wait that long.
            return ApiError(status_code=429, code="locked", message=exc.message, wait=ratelimit.LOCK_SECONDS)
        if exc.field:
            return exceptions.ValidationError({exc.field: [exc.message]})
        return ApiError(status_code=400, code="invalid_credentials", message=exc.message)
    if isinstance(exc, RequestDataTooBig):
        return ApiError(status_code=413, code="request_too_large", message=MESSAGES[413])
    if isinstance(exc, SuspiciousOperation):  # too many fields, a malformed body
        return ApiError(status_code=400, code="bad_request", message=MESSAGES[400])
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> JsonResponse | None:
    """Always JSON, whatever renderer the view negotiated (YAML schema, Swagger page, PDF)."""
    exc = _translate(exc)
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handling and logging
    headers: dict[str, str] = {}
    # Set by DRF on NotAuthenticated/AuthenticationFailed and Throttled, unknown to its stubs.
    auth_header = getattr(exc, "auth_header", None)
    wait = getattr(exc, "wait", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    if wait is not None:
        wait = max(math.ceil(wait), 1)  # whole seconds, never "0"
        headers["Retry-After"] = str(wait)
    if isinstance(exc, ApiError):
        body = error_body(exc.code, exc.message)
    elif isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        body = error_body("validation_error", validation_message(fields), fields)
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        message = str(exc.detail) if _is_ours(exc) else MESSAGES.get(exc.status_code, str(exc.detail))
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            message = f"Troppe richieste: riprovare tra {wait} secondi."
        body = error_body(str(code), message)
    set_rollback()
    return JsonResponse(
        body, status=exc.status_code, headers=headers, json_dumps_params={"ensure_ascii": False}
    )


def _is_ours(exc: exceptions.APIException) -> bool:
    """Our own refusals carry their Italian text; DRF's generic ones get ours."""
    return type(exc).__module__.startswith("api.") or isinstance(exc, exceptions.AuthenticationFailed)


def django_error(*, status_code: int, code: str) -> JsonResponse:
    """The answer of Django's own error handlers (core.views) for an address under /api/."""
    return JsonResponse(
        error_body(code, MESSAGES[status_code]), status=status_code, json_dumps_params={"ensure_ascii": False}
    )


@csrf_exempt  # nothing to protect, and any method must get this JSON answer
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other address under /api/: a JSON 404, not the portal's HTML page."""
    return JsonResponse(error_body("not_found", MESSAGES[404]), status=404)
