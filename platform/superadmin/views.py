"""The platform's public home on the base host."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def platform_home(request: HttpRequest) -> HttpResponse:
    return render(request, "superadmin/home.html")
