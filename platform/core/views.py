"""Error pages shared by every host."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/csrf_failure.html", status=403)


def request_as_get(request: HttpRequest) -> HttpRequest:
    """The same request as a GET: a locked-out login form is shown again, not checked."""
    request.method = "GET"
    request.POST = QueryDict()
    return request


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
