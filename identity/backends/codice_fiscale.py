"""`codice_fiscale`: "Sono un nuovo iscritto" with the pupil's codice fiscale (seed 000)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern, path

from identity.backends import LoginBackend, register
from identity.forms import CodiceFiscaleLoginForm
from tenants.models import Comune


@register
class CodiceFiscaleBackend(LoginBackend):
    key = "codice_fiscale"
    label = "Sono un nuovo iscritto"
    entry_template = "identity/backends/codice_fiscale_entry.html"

    def entry_context(self, request: HttpRequest, *, comune: Comune) -> dict[str, Any]:
        from identity.views import bound_form

        return {
            "form": bound_form(request, self.key, CodiceFiscaleLoginForm),
            "comune_name": comune.display_name,
        }

    def urlpatterns(self) -> list[URLPattern]:
        from identity.views import codice_fiscale_login

        return [path("", codice_fiscale_login, name="login")]
