"""The console's pages over existing comuni: list, settings, hosts, suspension."""

from __future__ import annotations

import re

from django.test import Client
from django_tenants.utils import schema_context

from core.models import AuditEntry
from identity.models import Account
from tenants.config import config_dump, config_parse
from tenants.models import Comune, Domain
from tests.conftest import PALOSCO_HOST, ROMANO_HOST
from tests.superadmin.conftest import comune_admin_create

STAFF_PASSWORD = "Ufficio-Prova-2026"


def test_list_shows_every_comune_with_its_figures(operator_client: Client) -> None:
    html = operator_client.get("/admin/comuni/").content.decode()
    for text in (
        "Comune di Palosco",
        "Città di Romano di Lombardia",
        PALOSCO_HOST,
        ROMANO_HOST,
        "codice_fiscale, credentials",
        "Bergamo",
        "Attivo",
    ):
        assert text in html, text
    assert re.search(r"\d[\d,.]*\s(KB|MB|GB)", html)  # schema size, whatever other tests stored
    assert "Piattaforma" not in html.split("<tbody>")[1]  # the public tenant is not a comune


def test_detail_shows_hosts_status_and_history(operator_client: Client, palosco: Comune) -> None:
    html = operator_client.get("/admin/comuni/palosco/").content.decode()
    assert PALOSCO_HOST in html and "Sospendi il comune" in html and "Dismetti il comune" in html
    assert operator_client.get("/admin/comuni/sconosciuto/").status_code == 404


def test_settings_are_edited_through_the_validated_config(operator_client: Client, operator: Account) -> None:
    page = operator_client.get("/admin/comuni/palosco/configurazione/").content.decode()
    assert "header_text: Portale Iscrizioni Online" in page
    yaml_text = config_dump(Comune.objects.get(slug="palosco").settings)
    response = operator_client.post(
        "/admin/comuni/palosco/configurazione/",
        {
            "yaml_text": yaml_text.replace(
                "header_text: Portale Iscrizioni Online", "header_text: Iscrizioni Palosco"
            )
        },
    )
    assert response.status_code == 302
    assert Comune.objects.get(slug="palosco").settings.branding.header_text == "Iscrizioni Palosco"
    assert AuditEntry.objects.filter(actor=operator, action="comune.config_updated").exists()
    assert "Iscrizioni Palosco" in Client(HTTP_HOST=PALOSCO_HOST).get("/").content.decode()


def test_invalid_settings_change_nothing(operator_client: Client, palosco: Comune) -> None:
    yaml_text = config_dump(palosco.settings)
    for bad, expected in (
        (yaml_text.replace("#1e5b2d", "#ffff00"), "branding.primary_color"),
        (
            yaml_text.replace("slug: palosco", "slug: altro"),
            "lo slug di un comune esistente non si può cambiare",
        ),
        (yaml_text.replace("- palosco.localhost", "- altro.localhost"), "per togliere un host usa"),
        (
            yaml_text.replace("- palosco.localhost", "- palosco.localhost\n- romanodilombardia.localhost"),
            "è già usato da",
        ),
    ):
        response = operator_client.post("/admin/comuni/palosco/configurazione/", {"yaml_text": bad})
        assert response.status_code == 400
        assert expected in response.content.decode().replace("&#x27;", "'"), expected
    after = Comune.objects.get(slug="palosco")
    assert after.config == palosco.config and after.slug == "palosco"
    assert list(after.domains.values_list("domain", flat=True)) == [PALOSCO_HOST]


def test_export_yaml_round_trips(operator_client: Client, operator: Account, palosco: Comune) -> None:
    response = operator_client.get("/admin/comuni/palosco/configurazione.yaml")
    assert response["Content-Disposition"] == 'attachment; filename="palosco.yaml"'
    assert config_parse(response.content.decode(), source="palosco.yaml") == palosco.settings
    assert AuditEntry.objects.filter(actor=operator, action="comune.config_exported").exists()


def _palosco_staff() -> None:
    with schema_context("palosco"):
        comune_admin_create("ufficio.prova", STAFF_PASSWORD)


def test_suspend_needs_a_reason(operator_client: Client) -> None:
    response = operator_client.post("/admin/comuni/palosco/sospendi/", {"reason": ""})
    assert response.status_code == 400
    assert "Scrivi il motivo della sospensione." in response.content.decode()
    assert Comune.objects.get(slug="palosco").status == Comune.Status.ACTIVE


def test_suspended_comune_answers_503_and_staff_cannot_log_in(
    operator_client: Client, operator: Account
) -> None:
    _palosco_staff()
    staff = Client(HTTP_HOST=PALOSCO_HOST)
    response = operator_client.post("/admin/comuni/palosco/sospendi/", {"reason": "Contratto scaduto"})
    assert response.status_code == 302
    assert AuditEntry.objects.get(actor=operator, action="comune.suspended").message == "Contratto scaduto"
    for path in ("/", "/admin/login/"):
        assert staff.get(path).status_code == 503, path
    response = staff.post("/admin/login/", {"username": "ufficio.prova", "password": STAFF_PASSWORD})
    assert response.status_code == 503
    assert staff.get("/admin/").status_code == 503
    assert Client(HTTP_HOST=ROMANO_HOST).get("/").status_code == 200
    # Operators still see it, with its data untouched.
    assert "Contratto scaduto" in operator_client.get("/admin/comuni/").content.decode()
    assert operator_client.post("/admin/comuni/palosco/riattiva/").status_code == 302
    assert AuditEntry.objects.filter(actor=operator, action="comune.resumed").exists()
    response = staff.post("/admin/login/", {"username": "ufficio.prova", "password": STAFF_PASSWORD})
    assert response.status_code == 302
    assert staff.get("/admin/").status_code == 200


def test_host_is_added_and_served(operator_client: Client, operator: Account) -> None:
    response = operator_client.post(
        "/admin/comuni/palosco/host/aggiungi/", {"host": "Scuole-Palosco.localhost"}
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(actor=operator, action="comune.host_added").exists()
    palosco = Comune.objects.get(slug="palosco")
    assert palosco.settings.hosts == [PALOSCO_HOST, "scuole-palosco.localhost"]
    assert "Comune di Palosco" in Client(HTTP_HOST="scuole-palosco.localhost").get("/").content.decode()


def test_host_of_another_comune_is_refused(operator_client: Client) -> None:
    response = operator_client.post("/admin/comuni/palosco/host/aggiungi/", {"host": ROMANO_HOST})
    assert response.status_code == 400
    assert "è già servito da Città di Romano di Lombardia" in response.content.decode()
    assert Domain.objects.get(domain=ROMANO_HOST).tenant.slug == "romanodilombardia"


def test_host_outside_the_base_domain_needs_to_be_allowed(operator_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    for host in ("iscrizioni.comune.palosco.bg.it", "a.b.localhost", "localhost"):
        response = operator_client.post("/admin/comuni/palosco/host/aggiungi/", {"host": host})
        assert response.status_code == 400, host
        assert "non è sotto il dominio base localhost" in response.content.decode(), host
    settings.EXTRA_TENANT_DOMAINS = ["iscrizioni.comune.palosco.bg.it"]
    response = operator_client.post(
        "/admin/comuni/palosco/host/aggiungi/", {"host": "iscrizioni.comune.palosco.bg.it"}
    )
    assert response.status_code == 302
    assert Domain.objects.get(domain="iscrizioni.comune.palosco.bg.it").tenant.slug == "palosco"


def test_host_is_removed_but_never_the_last(operator_client: Client) -> None:
    response = operator_client.post("/admin/comuni/palosco/host/rimuovi/", {"host": PALOSCO_HOST})
    assert response.status_code == 400
    assert "almeno un host" in response.content.decode()
    operator_client.post("/admin/comuni/palosco/host/aggiungi/", {"host": "nuovo-palosco.localhost"})
    assert Client(HTTP_HOST=PALOSCO_HOST).get("/").status_code == 200  # warms the host cache
    assert (
        operator_client.post("/admin/comuni/palosco/host/rimuovi/", {"host": PALOSCO_HOST}).status_code == 302
    )
    assert Client(HTTP_HOST=PALOSCO_HOST).get("/").status_code == 404
    new = Domain.objects.get(domain="nuovo-palosco.localhost")
    assert new.is_primary
    assert Comune.objects.get(slug="palosco").settings.hosts == ["nuovo-palosco.localhost"]
    response = operator_client.post("/admin/comuni/palosco/host/rimuovi/", {"host": ROMANO_HOST})
    assert response.status_code == 400


def test_console_writes_need_post_and_csrf(operator_client: Client, operator: Account) -> None:
    assert operator_client.get("/admin/comuni/palosco/sospendi/").status_code == 405
    strict = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    strict.cookies = operator_client.cookies
    assert strict.post("/admin/comuni/palosco/sospendi/", {"reason": "x"}).status_code == 403
    assert Comune.objects.get(slug="palosco").status == Comune.Status.ACTIVE
