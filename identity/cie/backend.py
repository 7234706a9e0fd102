"""The "Entra con CIE" login backend: the same SAML SP machinery as SPID, with CIE's metadata."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern

from identity.backends import LoginBackend, register
from identity.spid.backend import saml_urlpatterns
from identity.spid.sp import CIE
from tenants.models import Comune


@register
class CieBackend(LoginBackend):
    key = CIE
    label = "Entra con CIE"
    entry_template = "cie/entry.html"

    def entry_context(self, request: HttpRequest, *, comune: Comune) -> dict[str, Any]:
        return {"cie_next": request.GET.get("next", "")}

    def urlpatterns(self) -> list[URLPattern]:
        return saml_urlpatterns(CIE)
