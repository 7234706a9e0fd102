"""A Palosco staff account is worthless on Romano's host: no login, no session,
no data by URL guessing or ids."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from enrollment.backoffice.roles import AMMINISTRATORE, staff_roles_ensure
from identity.models import Account
from tests.conftest import PALOSCO_HOST, ROMANO_HOST
from tests.enrollment.backoffice.conftest import client_for, staff_create, submitted
from tests.enrollment.conftest import service
from tests.factories import StaffFactory

PASSWORD = "Palosco-Ufficio-2026"


def _palosco_staff(palosco) -> Account:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        return StaffFactory(username="ufficio.iso", password=PASSWORD, role=AMMINISTRATORE)


def test_palosco_staff_cannot_sign_in_on_romano(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    _palosco_staff(palosco)
    palosco_client = Client(HTTP_HOST=PALOSCO_HOST)
    assert 'name="next" value="/admin/"' in palosco_client.get("/admin/login/").content.decode()
    credentials = {"username": "ufficio.iso", "password": PASSWORD, "next": "/admin/"}
    ok = palosco_client.post("/admin/login/", credentials)
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    romano_client = Client(HTTP_HOST=ROMANO_HOST)
    refused = romano_client.post(
        "/admin/login/", {"username": "ufficio.iso", "password": PASSWORD, "next": "/admin/"}
    )
    assert refused.status_code == 200 and 'role="alert"' in refused.content.decode()
    assert romano_client.get("/admin/iscrizioni/").status_code == 302


def test_palosco_session_cookie_is_worthless_on_romano(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    palosco_client = client_for(palosco, _palosco_staff(palosco))
    assert palosco_client.get("/admin/iscrizioni/").status_code == 200
    stolen = Client(HTTP_HOST=ROMANO_HOST)
    stolen.cookies = palosco_client.cookies
    response = stolen.get("/admin/iscrizioni/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_romano_staff_never_sees_palosco_data(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        e = submitted(service("PRE"), last_name="Palosconi")
    with tenant_context(romano):
        staff_roles_ensure()
        romano_admin = staff_create("ufficio.romano.iso", None)
        romano_admin.groups.add(Group.objects.get(name=AMMINISTRATORE))
    client = client_for(romano, romano_admin)
    guessed = [
        reverse("staff_admin:bo_detail", args=[e.pk]),
        reverse("staff_admin:bo_riepilogo", args=[e.pk]),
        reverse("staff_admin:bo_service_edit", args=[e.service_id]),
    ]
    for url in guessed:
        response = client.get(url)
        assert response.status_code == 404 or "Palosconi" not in response.content.decode(), url
    assert client.get(guessed[0]).status_code == 404
    assert client.post(reverse("staff_admin:bo_confirm", args=[e.pk]), {"note": ""}).status_code == 404
    for name in ("bo_list", "index", "bo_audit", "bo_waiting"):
        assert "Palosconi" not in client.get(reverse(f"staff_admin:{name}")).content.decode()
    csv = b"".join(client.get(reverse("staff_admin:bo_export_csv")).streaming_content).decode("utf-8-sig")
    assert "Palosconi" not in csv and e.reference not in csv
    assert "ufficio.iso" not in client.get(reverse("staff_admin:bo_staff")).content.decode()
    with tenant_context(palosco):
        e.refresh_from_db()
        assert e.status == "inviata"
