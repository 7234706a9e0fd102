"""The login page shows the comune's enabled backends, in its order, and only those."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from identity import backends
from identity.backends import LoginBackend


def test_palosco_shows_codice_fiscale_then_credentials(palosco_client: Client) -> None:
    html = palosco_client.get("/accesso/").content.decode()
    for label in (
        "Iscrizioni Anno Scolastico",
        "Codice Fiscale Alunno",
        "Sono un nuovo iscritto",
        "⚠ Attenzione!! L'accesso da questa sezione deve essere eseguito solamente dai nuovi iscritti.",
        "Codice utente",
        "Password dimenticata?",
        'value="Comune di Palosco" readonly',
    ):
        assert label in html, label
    assert html.index("Sono un nuovo iscritto") < html.index("Codice utente")
    assert 'action="/accesso/codice_fiscale/"' in html
    assert 'action="/accesso/credentials/"' in html


def test_romano_has_no_codice_fiscale_access(romano_client: Client) -> None:
    html = romano_client.get("/accesso/").content.decode()
    assert "Codice utente" in html
    assert "Sono un nuovo iscritto" not in html
    response = romano_client.post("/accesso/codice_fiscale/", {"codice_fiscale-codice_fiscale": "X"})
    assert response.status_code == 404


class _FakeSpid(LoginBackend):
    key = "spid"
    label = "Entra con SPID"
    entry_template = "identity/includes/comune_readonly.html"

    def entry_context(self, request: Any, *, comune: Any) -> dict[str, Any]:
        return {"comune_name": f"FAKE-SPID-{comune.slug}"}


@pytest.fixture
def only_builtin_backends(monkeypatch: pytest.MonkeyPatch) -> dict[str, type[LoginBackend]]:
    registry = {k: v for k, v in backends.registered().items() if k in ("credentials", "codice_fiscale")}
    monkeypatch.setattr(backends, "_registry", registry)
    return registry


def test_enabled_but_unregistered_backends_are_skipped(only_builtin_backends, romano_client: Client) -> None:  # type: ignore[no-untyped-def]
    # Romano enables spid, cie, credentials: without spid/cie registered the page still works.
    response = romano_client.get("/accesso/")
    assert response.status_code == 200
    assert "Codice utente" in response.content.decode()


def test_any_registered_backend_renders_its_entry_in_config_order(
    only_builtin_backends, romano_client: Client
) -> None:  # type: ignore[no-untyped-def]
    only_builtin_backends["spid"] = _FakeSpid
    html = romano_client.get("/accesso/").content.decode()
    assert "FAKE-SPID-romanodilombardia" in html
    assert html.index("FAKE-SPID-romanodilombardia") < html.index("Codice utente")


def test_access_pages_of_comuni_only(public_client: Client) -> None:
    assert public_client.get("/accesso/").status_code == 404
