"""Pages shared by every host: errors, health, the comune's stylesheet."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/csrf_failure.html", status=403)


def request_as_get(request: HttpRequest) -> HttpRequest:
    """The same request as a GET: a locked-out login form is shown again, not checked."""
    request.method = "GET"
    request.POST = QueryDict()
    return request


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_GET
@cache_control(max_age=300)
def comune_stylesheet(request: HttpRequest) -> HttpResponse:
    """The comune's colours as a stylesheet: the pages' CSP allows no inline <style>."""
    if getattr(request, "tenant", None) is None or request.tenant.schema_name == "public":
        raise Http404
    return render(request, "core/comune.css", content_type="text/css; charset=utf-8")
