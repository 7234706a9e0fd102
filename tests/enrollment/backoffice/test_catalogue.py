"""Catalogue edits by staff and how they coexist with the YAML sync."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_tenants.utils import tenant_context

from core.models import AuditEntry
from enrollment.backoffice.services import service_staff_edits_clear, service_update
from enrollment.models import Enrollment, Service
from enrollment.services import service_catalogue_sync
from tenants.config import ROME, ServiceConfig
from tests.enrollment.backoffice.conftest import client_for, submitted
from tests.enrollment.conftest import service


def _form(s: Service, **changes: object) -> dict[str, object]:
    data = {
        "opens_at": "2025-05-05T09:00",
        "closes_at": "2027-06-30T23:59:59",
        "capacity": s.capacity or "",
        "fee_note": s.fee_note,
        "new_enrollments": "on",
        "renewals": "on",
    }
    data.update(changes)
    return data


def test_edit_service_over_http_with_audit(palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        pre = service("PRE")
    client = client_for(palosco, admin_user)
    url = reverse("staff_admin:bo_service_edit", args=[pre.pk])
    page = client.get(url).content.decode()
    assert 'value="40"' in page and 'for="id_capacity"' in page
    response = client.post(url, _form(pre, capacity=45, fee_note="Nuove tariffe 2026"))
    assert response.status_code == 302
    with tenant_context(palosco):
        pre.refresh_from_db()
        assert pre.capacity == 45 and pre.fee_note == "Nuove tariffe 2026"
        entry = AuditEntry.objects.get(action="service.staff_updated", object_id=str(pre.pk))
        assert entry.actor == admin_user
        assert sorted(entry.data["fields"]) == ["capacity", "fee_note"]
        assert entry.data["before"]["capacity"] == 40 and entry.data["after"]["capacity"] == 45
    catalogue = client.get(reverse("staff_admin:bo_catalogue")).content.decode()
    assert "note sulle tariffe, posti disponibili" in catalogue
    assert "capacity" not in catalogue and "fee_note" not in catalogue


def test_window_and_capacity_are_validated(palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        pre = service("PRE")
        for _ in range(2):
            e = submitted(pre)
            Enrollment.objects.filter(pk=e.pk).update(status=Enrollment.Status.CONFERMATA)
    client = client_for(palosco, admin_user)
    url = reverse("staff_admin:bo_service_edit", args=[pre.pk])
    html = client.post(url, _form(pre, closes_at="2025-05-01T09:00")).content.decode()
    assert 'role="alert"' in html and "La chiusura delle iscrizioni deve essere successiva" in html
    assert 'href="#id_closes_at"' in html
    html = client.post(url, _form(pre, capacity=1)).content.decode()
    assert "non possono essere meno dei posti già assegnati (2: iscrizioni inviate" in html
    with tenant_context(palosco):
        pre.refresh_from_db()
        assert pre.capacity == 40
        assert not AuditEntry.objects.filter(action="service.staff_updated").exists()
        service_update(service=pre, values={"capacity": 2}, by=admin_user)  # equal is fine


def test_capacity_is_not_lowered_below_the_places_given(palosco, admin_user, operatore) -> None:  # type: ignore[no-untyped-def]
    """Three families hold places, none confirmed yet: lowering the places to 1 used to be accepted,
    and confirming the three then gave three places for one (found by a review)."""
    from enrollment.backoffice.services import enrollments_confirm_bulk

    with tenant_context(palosco):
        post = service("POST")
        post.capacity = 3
        post.save()
        rows = [submitted(post, last_name=name) for name in ("A", "B", "C")]
        with pytest.raises(ValidationError) as refused:
            service_update(service=post, values={"capacity": 1}, by=admin_user)
        assert "meno dei posti già assegnati (3" in str(refused.value)
        post.refresh_from_db()
        assert post.capacity == 3
        assert len(enrollments_confirm_bulk(enrollments=rows, by=operatore).done) == 3
        # A service beyond its places (an older rule let it be) keeps its other edits.
        Service.objects.filter(pk=post.pk).update(capacity=2)
        post.refresh_from_db()
        service_update(service=post, values={"fee_note": "Nuova nota"}, by=admin_user)
        post.refresh_from_db()
        assert (post.capacity, post.fee_note) == (2, "Nuova nota")


def test_create_service_for_next_year(palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, admin_user)
    data = _form(service_stub := Service(capacity=20, fee_note=""))  # noqa: F841
    data |= {"code": "MENSA", "name": "MENSA", "school_year": "2026/2027", "description": ""}
    assert client.post(reverse("staff_admin:bo_service_new"), data).status_code == 302
    with tenant_context(palosco):
        assert Service.objects.get(code="MENSA", school_year="2026/2027").capacity == 20
    html = client.post(reverse("staff_admin:bo_service_new"), data).content.decode()
    assert "esiste già per l&#x27;anno 2026/2027" in html
    html = client.post(
        reverse("staff_admin:bo_service_new"), data | {"school_year": "2026/2028"}
    ).content.decode()
    assert "due anni consecutivi" in html


def _yaml(pre: Service, **changes: object) -> ServiceConfig:
    fields = ("code", "name", "description", "school_year", "opens_at", "closes_at", "capacity", "fee_note")
    values = {f: getattr(pre, f) for f in fields} | pre.definition  # the definition as synced
    return ServiceConfig(**(values | changes))


def test_sync_keeps_staff_values_and_says_so(in_palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    pre = service("PRE")
    service_update(service=pre, values={"capacity": 50}, by=admin_user)
    new_close = datetime(2027, 7, 15, 12, 0, tzinfo=ROME)
    report = service_catalogue_sync(
        services=[_yaml(pre, capacity=40, description="Nuova descrizione", closes_at=new_close)]
    )
    pre.refresh_from_db()
    assert pre.capacity == 50  # staff decision kept
    assert pre.description == "Nuova descrizione" and pre.closes_at == new_close  # the rest follows the YAML
    assert report == [
        "service PRE 2025/2026 updated (description, closes_at)",
        "service PRE 2025/2026 kept staff values (capacity) over the YAML",
    ]
    # Once staff hand the field back, the YAML rules it again.
    service_staff_edits_clear(service=pre, by=admin_user)
    assert service_catalogue_sync(services=[_yaml(pre, capacity=40)]) == [
        "service PRE 2025/2026 updated (capacity)"
    ]
    pre.refresh_from_db()
    assert pre.capacity == 40


def test_sync_is_silent_when_yaml_agrees_with_staff(in_palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    pre = service("PRE")
    service_update(service=pre, values={"capacity": 50}, by=admin_user)
    assert service_catalogue_sync(services=[_yaml(pre, capacity=50)]) == []


def test_service_update_refuses_bad_window_in_service(in_palosco, admin_user) -> None:  # type: ignore[no-untyped-def]
    pre = service("PRE")
    with pytest.raises(ValidationError) as exc:
        service_update(service=pre, values={"closes_at": pre.opens_at}, by=admin_user)
    assert "closes_at" in exc.value.message_dict
