"""The "Entra con SPID" login backend."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern, path

from identity.backends import LoginBackend, register
from identity.spid import views
from identity.spid.registry import offered_idps
from identity.spid.sp import SPID
from tenants.models import Comune


def saml_urlpatterns(kind: str) -> list[URLPattern]:
    kw = {"kind": kind}
    return [
        path("metadata/", views.metadata, kw, name="metadata"),
        path("login/", views.login, kw, name="login"),
        path("acs/", views.acs, kw, name="acs"),
        path("slo/", views.slo, kw, name="slo"),
    ]


@register
class SpidBackend(LoginBackend):
    key = SPID
    label = "Entra con SPID"
    entry_template = "spid/entry.html"

    def entry_context(self, request: HttpRequest, *, comune: Comune) -> dict[str, Any]:
        return {
            "spid_idps": offered_idps(request, SPID),
            "spid_next": request.GET.get("next", ""),
        }

    def urlpatterns(self) -> list[URLPattern]:
        return saml_urlpatterns(SPID)
