"""Waiting list order and promotion; enrollments at the counter (sportello)."""

from __future__ import annotations

from email.header import decode_header, make_header

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context

from core.models import AuditEntry
from enrollment.backoffice.services import sportello_enrollment_create, waiting_list_promote
from enrollment.models import Enrollment, Guardian
from enrollment.services import EnrollmentError, enrollment_reject
from tests.enrollment.backoffice.conftest import client_for, discard_pending_jobs, submitted
from tests.enrollment.conftest import SIBLING_CF, form_data, guardian_data, pupil_data, service
from tests.jobs import run_pending_jobs

S = Enrollment.Status


@pytest.fixture
def full_service(palosco):  # type: ignore[no-untyped-def]
    """POST with one place: one holder and two in the waiting list."""
    with tenant_context(palosco):
        post = service("POST")
        post.capacity = 1
        post.save()
        rows = [submitted(post, last_name=name) for name in ("Primo", "Secondo", "Terzo")]
        discard_pending_jobs()
        return post, rows


def test_waiting_list_order_and_promotion(palosco, operatore, full_service, smtp_server) -> None:  # type: ignore[no-untyped-def]
    post, (first, second, third) = full_service
    assert (first.waiting_position, second.waiting_position, third.waiting_position) == (None, 1, 2)
    client = client_for(palosco, operatore)
    page = client.get(reverse("staff_admin:bo_waiting")).content.decode()
    assert page.index(second.reference) < page.index(third.reference)
    url = reverse("staff_admin:bo_promote", args=[post.pk])
    # No place yet: the page does not offer one, and a forced POST moves nothing.
    assert "Assegna il posto libero" not in page and 'data-testid="no-free-place"' in page
    assert url not in page
    assert "non ha posti liberi" in client.post(url, follow=True).content.decode()
    with tenant_context(palosco):
        enrollment_reject(enrollment=first, by=operatore, reason="Rinuncia")
        discard_pending_jobs()
    page = client.get(reverse("staff_admin:bo_waiting")).content.decode()
    assert "Assegna il posto libero" in page and url in page
    html = client.post(url, follow=True).content.decode()
    assert f"Posto assegnato all&#x27;iscrizione n. {second.reference}" in html
    with tenant_context(palosco):
        second.refresh_from_db()
        third.refresh_from_db()
        assert second.waiting_position is None and second.status == S.INVIATA
        assert third.waiting_position == 1
        entry = AuditEntry.objects.get(action="enrollment.waiting_promoted")
        assert entry.actor == operatore and entry.object_id == str(second.pk)
        assert entry.data == {"before": {"waiting_position": 1}, "after": {"waiting_position": None}}
        assert run_pending_jobs(task_name="core.email_send") == 1
        # The place is taken again: the next promotion is refused.
        with pytest.raises(EnrollmentError, match="non ha posti liberi"):
            waiting_list_promote(service=post, by=operatore)
    assert len(smtp_server.messages) == 1
    assert "si è liberato un posto" in str(make_header(decode_header(smtp_server.messages[0]["Subject"])))


def test_promoted_enrollment_can_then_be_confirmed(palosco, operatore, full_service) -> None:  # type: ignore[no-untyped-def]
    post, (_, second, _) = full_service
    client = client_for(palosco, operatore)
    html = client.get(reverse("staff_admin:bo_detail", args=[second.pk])).content.decode()
    assert "in lista d'attesa (posizione 1)" in html
    assert f"/admin/iscrizioni/{second.pk}/conferma/" not in html  # no Conferma button while waiting
    with tenant_context(palosco):
        post.capacity = 2
        post.save()
        waiting_list_promote(service=post, by=operatore)
    client.post(reverse("staff_admin:bo_confirm", args=[second.pk]), {"note": ""})
    with tenant_context(palosco):
        second.refresh_from_db()
        assert second.status == S.CONFERMATA


def test_sportello_over_http(palosco, operatore, smtp_server) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        pre = service("PRE")
    client = client_for(palosco, operatore)
    page = client.get(reverse("staff_admin:bo_sportello")).content.decode()
    assert "PRE SCUOLA 2025/2026" in page and "Invia Iscrizione" in page
    data = form_data(services=[pre], guardian_email="allo.sportello@example.org") | {"kind": "nuova"}
    response = client.post(reverse("staff_admin:bo_sportello"), data)
    assert response.status_code == 302
    with tenant_context(palosco):
        e = Enrollment.objects.get()
        assert response["Location"] == reverse("staff_admin:bo_detail", args=[e.pk])
        assert e.via_sportello and e.created_by == operatore and e.status == S.INVIATA
        assert e.extra == {"motivo": "Orario di lavoro dei genitori"}
        assert e.guardian.account is None and e.guardian.email == "allo.sportello@example.org"
        assert e.guardian.consents.get().account is None
        assert AuditEntry.objects.get(action="enrollment.sportello_created").actor == operatore
        assert AuditEntry.objects.get(action="enrollment.submitted").actor == operatore
        assert (
            run_pending_jobs(task_name="core.email_send") == 1
        )  # the receipt (no credentials letter: no portal account)
    assert smtp_server.messages[0]["To"] == "allo.sportello@example.org"
    assert smtp_server.messages[0]["Subject"].startswith("Ricevuta iscrizione")
    listing = client.get(reverse("staff_admin:bo_list")).content.decode()
    assert e.reference in listing and "sportello</span>" in listing


def test_sportello_form_errors_are_shown(palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, operatore)
    with tenant_context(palosco):
        pre = service("PRE")
    data = form_data(services=[pre], pupil_codice_fiscale="XXX", privacy=None) | {"kind": "nuova"}
    html = client.post(reverse("staff_admin:bo_sportello"), data).content.decode()
    assert 'role="alert"' in html and 'href="#id_pupil_codice_fiscale"' in html
    assert "autorizzare il trattamento" in html
    with tenant_context(palosco):
        assert not Enrollment.objects.exists()


def test_sportello_reuses_the_guardian_and_refuses_duplicates(in_palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    pre, post = service("PRE"), service("POST")
    extra = {"PRE": {"motivo": "Lavoro"}}
    first = sportello_enrollment_create(
        by=operatore, guardian_data=guardian_data(), pupil_data=pupil_data(), services=[pre], extra=extra
    )
    sibling = pupil_data(codice_fiscale=SIBLING_CF, first_name="Giulia")
    second = sportello_enrollment_create(
        by=operatore, guardian_data=guardian_data(phone="035 999999"), pupil_data=sibling, services=[post]
    )
    assert first[0].guardian_id == second[0].guardian_id
    assert Guardian.objects.get().phone == "035 999999"
    with pytest.raises(EnrollmentError, match="ha già un'iscrizione"):
        sportello_enrollment_create(
            by=operatore, guardian_data=guardian_data(), pupil_data=pupil_data(), services=[pre], extra=extra
        )


def test_riapri_of_a_rejected_enrollment_never_overbooks(
    palosco, operatore, full_service, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    post, (first, _, third) = full_service
    client = client_for(palosco, operatore)
    client.post(reverse("staff_admin:bo_reject", args=[first.pk]), {"motivo": "Documenti mancanti"})
    client.post(reverse("staff_admin:bo_promote", args=[post.pk]))  # second takes the place
    with tenant_context(palosco):
        discard_pending_jobs()
    client.post(reverse("staff_admin:bo_reopen", args=[first.pk]))
    with tenant_context(palosco):
        first.refresh_from_db()
        third.refresh_from_db()
        assert first.status == S.INVIATA and first.waiting_position == 2  # after third (now 1)
        assert third.waiting_position == 1
        entry = AuditEntry.objects.get(action="enrollment.waiting_queued")
        assert entry.data["after"] == {"waiting_position": 2}
        assert run_pending_jobs(task_name="core.email_send") == 1
    assert "lista d'attesa, posizione 2" in smtp_server.bodies()[0]


def test_sportello_renewal_links_last_years_enrollment(in_palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    last_year = sportello_enrollment_create(
        by=operatore, guardian_data=guardian_data(), pupil_data=pupil_data(), services=[service("POST")]
    )[0]
    Enrollment.objects.filter(pk=last_year.pk).update(
        status=S.CONFERMATA, service=service("POST", "2024/2025"), school_year="2024/2025"
    )
    renewal = sportello_enrollment_create(
        by=operatore, guardian_data=guardian_data(), pupil_data=pupil_data(), services=[service("POST")],
        kind=Enrollment.Kind.RINNOVO,
    )[0]  # fmt: skip
    assert renewal.kind == Enrollment.Kind.RINNOVO and renewal.renewal_of == last_year
