"""Back-office pages that only read: opening an enrollment is audited."""

from __future__ import annotations

from django.urls import reverse
from django_tenants.utils import tenant_context

from core.models import AuditEntry
from enrollment.backoffice.roles import AMMINISTRATORE, SOLA_LETTURA
from tests.enrollment.backoffice.conftest import client_for, submitted
from tests.enrollment.conftest import service
from tests.jobs import run_pending_jobs


def _views(e) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(
        AuditEntry.objects.filter(
            action="enrollment.viewed", object_type="enrollment.enrollment", object_id=str(e.pk)
        ).order_by("id")
    )


def test_opening_an_enrollment_is_in_the_activity_log(palosco, staff) -> None:  # type: ignore[no-untyped-def]
    reader = staff[SOLA_LETTURA]
    with tenant_context(palosco):
        e = submitted(service("PRE"))
    client = client_for(palosco, reader)
    assert client.get(reverse("staff_admin:bo_detail", args=[e.pk])).status_code == 200
    client.get(reverse("staff_admin:bo_riepilogo", args=[e.pk]))
    with tenant_context(palosco):
        run_pending_jobs()
        detail, pdf = _views(e)
    assert detail.actor == reader and detail.message == f"Consultazione dell'iscrizione n. {e.reference}"
    assert pdf.actor == reader and pdf.message == f"Riepilogo PDF dell'iscrizione n. {e.reference}"
    assert detail.ip_address == "127.0.0.1"

    log = client_for(palosco, staff[AMMINISTRATORE]).get(reverse("staff_admin:bo_audit")).content.decode()
    assert f"Consultazione dell&#x27;iscrizione n. {e.reference}" in log
    assert str(reader) in log
    # The enrollment's own history keeps to what changed it.
    page = client.get(reverse("staff_admin:bo_detail", args=[e.pk])).content.decode()
    assert "Consultazione dell" not in page


def test_a_missing_enrollment_is_not_recorded_as_a_view(palosco, staff) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        e = submitted(service("PRE"))
    response = client_for(palosco, staff[SOLA_LETTURA]).get(
        reverse("staff_admin:bo_detail", args=[e.pk + 1000])
    )
    assert response.status_code == 404
    with tenant_context(palosco):
        assert not AuditEntry.objects.filter(action="enrollment.viewed").exists()
