"""Pages shared by every host: errors (under /api/ the API's JSON error), the comune's stylesheet."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.module_loading import import_string
from django.views import defaults
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


def _api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _api_error(status: int, code: str) -> HttpResponse:
    # The API's format, from settings.API_ERROR_RESPONSE: the setting inverts
    # the dependency, so core never imports the API layer above it.
    return import_string(settings.API_ERROR_RESPONSE)(status_code=status, code=code)


def server_error(request: HttpRequest) -> HttpResponse:
    """Also when the database is down: no query, no comune, no request context."""
    if _api(request):
        return _api_error(500, "server_error")
    return HttpResponse(render_to_string("500.html"), status=500)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Malformed or oversize requests (Django's SuspiciousOperation), e.g. a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE, which gets 413 here."""
    too_large = isinstance(exception, RequestDataTooBig)
    status = 413 if too_large else 400
    if _api(request):
        return _api_error(status, "request_too_large" if too_large else "bad_request")
    return HttpResponse(render_to_string("400.html", {"too_large": too_large}), status=status)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _api(request):
        return _api_error(403, "permission_denied")
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _api(request):
        return _api_error(404, "not_found")
    return defaults.page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/csrf_failure.html", status=403)


def request_as_get(request: HttpRequest) -> HttpRequest:
    """The same request as a GET: a locked-out login form is shown again, not checked."""
    request.method = "GET"
    request.POST = QueryDict()
    return request


@require_GET
@cache_control(max_age=300)
def platform_accessibility(request: HttpRequest) -> HttpResponse:
    """The platform's own accessibility statement, on every host (the comune has its own on AgID's site)."""
    return render(request, "core/accessibility.html")


def comune_stylesheet(request: HttpRequest) -> HttpResponse:
    """The comune's colours as a stylesheet: the pages' CSP allows no inline <style>."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == "public":
        raise Http404
    return render(request, "core/comune.css", content_type="text/css; charset=utf-8")
