"""Parents' portal pages of one comune."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from enrollment.selectors import services_on_offer


def portal_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "enrollment/home.html",
        {"services": services_on_offer(), "now": timezone.now()},
    )


def privacy_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "enrollment/privacy.html")
