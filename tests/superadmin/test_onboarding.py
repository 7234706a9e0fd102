"""Onboarding from the console form (paste or upload) and from a YAML file."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context, schema_exists

from core.models import AuditEntry, OutgoingEmail
from enrollment.backoffice.roles import AMMINISTRATORE, staff_role
from enrollment.models import Service
from identity.models import Account
from identity.token_links import validity_text
from tenants.models import Comune, Domain
from tests.jobs import run_pending_jobs

NEW = """
slug: testville
name: Testville
province: Bergamo
hosts: [testville.localhost]
identity: {backends: [credentials, codice_fiscale]}
branding: {primary_color: "#1e5b2d", header_text: Iscrizioni Testville}
services:
  - code: MENSA
    name: REFEZIONE SCOLASTICA
    school_year: 2025/2026
    opens_at: 2025-04-01T09:00:00
    closes_at: 2027-06-30T23:59:59
"""
ADMIN = {
    "admin_email": "segreteria@testville.example",
    "admin_first_name": "Anna",
    "admin_last_name": "Rossi",
}


def _nothing_written() -> None:
    assert not Comune.objects.filter(slug="testville").exists()
    assert not Domain.objects.filter(domain="testville.localhost").exists()
    assert not schema_exists("testville")


def _invitation_url() -> str:
    with schema_context("testville"):
        mail = OutgoingEmail.objects.get(purpose="invito_amministratore")
    assert mail.to == [ADMIN["admin_email"]]
    match = re.search(r"https?://testville\.localhost(?::\d+)?(/invito/[^/\s]+/[^/\s]+/)", mail.body)
    assert match, mail.body
    # The validity the mail states is the token's (it once said "per 0 giorni").
    assert "scade dopo 1 ora" in mail.body and "0 giorni" not in mail.body
    assert "del Comune di Testville" in mail.body
    return match.group(1)


def test_form_onboards_comune_with_admin_and_invitation(operator_client: Client, operator: Account) -> None:
    response = operator_client.post("/admin/comuni/nuovo/", {"yaml_text": NEW, **ADMIN})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == "/admin/comuni/testville/"
    comune = Comune.objects.get(slug="testville")
    assert comune.settings.branding.header_text == "Iscrizioni Testville"
    assert list(comune.domains.values_list("domain", flat=True)) == ["testville.localhost"]
    with schema_context("testville"):
        assert list(Service.objects.values_list("code", flat=True)) == ["MENSA"]
        admin = Account.objects.get(username="amministratore.testville")
        assert admin.kind == Account.Kind.STAFF and admin.is_staff and not admin.has_usable_password()
        assert admin.email == ADMIN["admin_email"] and admin.first_name == "Anna"
        assert list(admin.groups.values_list("name", flat=True)) == [AMMINISTRATORE]
        assert staff_role(admin) == AMMINISTRATORE  # the back office lets it manage the comune
    actions = set(
        AuditEntry.objects.filter(actor=operator, object_id=str(comune.pk)).values_list("action", flat=True)
    )
    assert {"comune.created", "comune.admin_invited"} <= actions
    page = operator_client.get(response["Location"]).content.decode()
    assert "Comune di Testville creato in" in page
    assert "Invito inviato a segreteria@testville.example" in page
    # The new portal answers on its host, with its own identity.
    assert "Comune di Testville" in Client(HTTP_HOST="testville.localhost").get("/").content.decode()


def test_invitation_sets_password_once_then_staff_admin_opens(operator_client: Client) -> None:
    operator_client.post("/admin/comuni/nuovo/", {"yaml_text": NEW, **ADMIN})
    url = _invitation_url()
    client = Client(HTTP_HOST="testville.localhost")
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].endswith("/imposta-password/")
    form_url = response["Location"]
    assert url.split("/")[-2] not in form_url  # the token stays in the session
    assert Client(HTTP_HOST="testville.localhost").get(form_url).status_code == 400
    response = client.post(form_url, {"new_password1": "corto", "new_password2": "corto"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and 'href="#id_new_password2"' in html
    password = "Gestione-Testville-2026"
    response = client.post(form_url, {"new_password1": password, "new_password2": password})
    assert response.status_code == 200 and "Password salvata" in response.content.decode()
    assert Client(HTTP_HOST="testville.localhost").get(url).status_code == 400  # single use
    assert client.get(form_url).status_code == 400  # also in the session that used it
    staff = Client(HTTP_HOST="testville.localhost")
    response = staff.post("/admin/login/", {"username": "amministratore.testville", "password": password})
    assert response.status_code == 302
    assert staff.get("/admin/").status_code == 200
    # The invitation link means nothing on another comune's host.
    assert Client(HTTP_HOST="palosco.localhost").get(url).status_code == 400


def test_invitation_mail_is_delivered_by_the_job_over_smtp(operator_client: Client, smtp_server) -> None:  # type: ignore[no-untyped-def]
    operator_client.post("/admin/comuni/nuovo/", {"yaml_text": NEW, **ADMIN})
    connection.set_schema("testville")
    assert run_pending_jobs(task_name="core.email_send") == 1
    (body,) = smtp_server.bodies()
    assert "amministratore.testville" in body and "/invito/" in body
    assert smtp_server.messages[0]["To"] == ADMIN["admin_email"]


def test_form_accepts_an_uploaded_file(operator_client: Client) -> None:
    upload = SimpleUploadedFile("testville.yaml", NEW.encode(), content_type="application/yaml")
    response = operator_client.post("/admin/comuni/nuovo/", {"yaml_file": upload, **ADMIN})
    assert response.status_code == 302
    assert Comune.objects.filter(slug="testville").exists()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (NEW.replace('"#1e5b2d"', '"#ffcc00"'), "branding.primary_color: il testo bianco su #ffcc00"),
        (NEW.replace("closes_at: 2027-06-30T23:59:59", "closes_at: 2024-06-30T23:59:59"), "services.0"),
        (NEW.replace("province: Bergamo\n", ""), "province: campo obbligatorio"),
        (
            NEW.replace("[testville.localhost]", "[palosco.localhost]"),
            "è già usato da Comune di Palosco (palosco)",
        ),
        (NEW.replace("[testville.localhost]", "[testville.example.com]"), "è fuori dal dominio base"),
        ("slug: [", "non è YAML valido"),
    ],
)
def test_invalid_config_writes_nothing_and_names_the_field(
    operator_client: Client, yaml_text: str, expected: str
) -> None:
    comuni_before = Comune.objects.count()
    response = operator_client.post("/admin/comuni/nuovo/", {"yaml_text": yaml_text, **ADMIN})
    assert response.status_code == 400
    html = response.content.decode()
    assert expected in html.replace("&#x27;", "'")
    assert 'role="alert"' in html and 'href="#id_yaml_text"' in html
    assert 'aria-invalid="true"' in html
    assert Comune.objects.count() == comuni_before
    _nothing_written()


def test_every_host_problem_is_reported_at_once_in_italian(operator_client: Client) -> None:
    """A host outside the base domain no longer hides one that another comune uses."""
    text = NEW.replace("[testville.localhost]", "[testville.example.com, romanodilombardia.localhost]")
    response = operator_client.post("/admin/comuni/nuovo/", {"yaml_text": text, **ADMIN})
    assert response.status_code == 400
    html = response.content.decode().replace("&#x27;", "'")
    assert "'testville.example.com' è fuori dal dominio base" in html
    assert (
        "'romanodilombardia.localhost' è già usato da Città di Romano di Lombardia (romanodilombardia)"
        in html
    )
    _nothing_written()


def test_pydantic_messages_are_in_italian(operator_client: Client) -> None:
    text = NEW.replace("province: Bergamo\n", "province: Bergamo\ncolour: blu\n").replace(
        "slug: testville", "slug: T"
    )
    html = operator_client.post("/admin/comuni/nuovo/", {"yaml_text": text, **ADMIN}).content.decode()
    assert "colour: campo non previsto (controlla il nome)" in html
    assert "slug: formato non valido" in html
    assert "Extra inputs" not in html and "String should" not in html


def test_existing_slug_is_refused(operator_client: Client) -> None:
    text = NEW.replace("slug: testville", "slug: palosco").replace(
        "testville.localhost", "palosco2.localhost"
    )
    response = operator_client.post("/admin/comuni/nuovo/", {"yaml_text": text, **ADMIN})
    assert response.status_code == 400
    assert "esiste già un comune" in response.content.decode()
    assert not Domain.objects.filter(domain="palosco2.localhost").exists()


def test_admin_email_is_required(operator_client: Client) -> None:
    response = operator_client.post("/admin/comuni/nuovo/", {"yaml_text": NEW})
    assert response.status_code == 400
    assert "Inserisci l&#x27;e-mail dell&#x27;amministratore del comune." in response.content.decode()
    _nothing_written()


def test_sync_tenants_onboards_from_a_yaml_file(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "testville.yaml"
    path.write_text(NEW)
    out = StringIO()
    call_command("sync_tenants", str(path), "--admin-email", ADMIN["admin_email"], stdout=out)
    assert "testville: created in" in out.getvalue()
    assert "amministratore.testville invited at segreteria@testville.example" in out.getvalue()
    _invitation_url()
    out = StringIO()
    call_command("sync_tenants", str(path), "--admin-email", ADMIN["admin_email"], stdout=out)
    assert out.getvalue().strip() == "testville: unchanged"


def test_sync_tenants_refuses_a_bad_admin_email(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "testville.yaml"
    path.write_text(NEW)
    with pytest.raises(CommandError, match="--admin-email"):
        call_command("sync_tenants", str(path), "--admin-email", "non-una-email", stdout=StringIO())
    _nothing_written()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(3600, "1 ora"), (7200, "2 ore"), (86400, "1 giorno"), (3 * 86400, "3 giorni"), (60, "1 ora")],
)
def test_link_validity_is_said_from_the_token_timeout(settings, seconds: int, text: str) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_RESET_TIMEOUT = seconds
    assert validity_text() == text
