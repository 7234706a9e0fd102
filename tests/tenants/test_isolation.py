"""Nothing of one comune is reachable from another: data, cache, sessions."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import tenant_context

from enrollment.backoffice.roles import AMMINISTRATORE, staff_roles_ensure
from enrollment.models import Service
from identity.models import Account


def test_cache_keys_are_per_comune(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        cache.set("contatore", "palosco")
    with tenant_context(romano):
        assert cache.get("contatore") is None
        cache.set("contatore", "romano")
    with tenant_context(palosco):
        assert cache.get("contatore") == "palosco"


def test_each_schema_has_its_own_catalogue(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        assert set(Service.objects.values_list("code", flat=True)) == {"PRE", "POST", "CRE"}
    with tenant_context(romano):
        assert "MENSA" in set(Service.objects.values_list("code", flat=True))


def test_session_of_one_host_is_worthless_on_another(palosco, romano) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        staff = Account.objects.create_user(
            "ufficio.prova", "Ufficio-Prova-2026", kind=Account.Kind.STAFF, is_staff=True
        )
        staff_roles_ensure()
        staff.groups.add(Group.objects.get(name=AMMINISTRATORE))
    palosco_client = Client(HTTP_HOST="palosco.localhost")
    with tenant_context(palosco):  # the session row is written in Palosco's schema
        palosco_client.force_login(staff)
    assert palosco_client.get("/admin/").status_code == 200
    # The same cookie jar presented to Romano: its schema has no such session.
    romano_client = Client(HTTP_HOST="romanodilombardia.localhost")
    romano_client.cookies = palosco_client.cookies
    response = romano_client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
