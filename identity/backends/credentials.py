"""`credentials`: codice utente (PAL-000123) and password issued by the comune."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern, path

from identity.backends import LoginBackend, register
from identity.forms import CredentialsLoginForm
from tenants.models import Comune


@register
class CredentialsBackend(LoginBackend):
    key = "credentials"
    label = "Codice utente e password"
    entry_template = "identity/backends/credentials_entry.html"

    def entry_context(self, request: HttpRequest, *, comune: Comune) -> dict[str, Any]:
        from identity.views import bound_form

        return {"form": bound_form(request, self.key, CredentialsLoginForm)}

    def urlpatterns(self) -> list[URLPattern]:
        from identity.views import credentials_login

        return [path("", credentials_login, name="login")]
