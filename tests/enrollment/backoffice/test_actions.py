"""Conferma, Respingi, Riapri and bulk confirm over HTTP: state, audit, one e-mail each."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.models import AuditEntry
from enrollment.models import Enrollment
from tests.enrollment.backoffice.conftest import client_for, discard_pending_jobs, submitted
from tests.enrollment.conftest import logged_in, service
from tests.jobs import run_pending_jobs

S = Enrollment.Status


def _url(name: str, *args: object) -> str:
    return reverse(f"staff_admin:{name}", args=args)


def _audit(e: Enrollment, action: str) -> AuditEntry:
    return AuditEntry.objects.get(object_type="enrollment.enrollment", object_id=str(e.pk), action=action)


def test_conferma_changes_status_audits_and_mails_once(palosco, operatore, smtp_server) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        e = submitted(service("PRE"), email="famiglia@example.org")
        discard_pending_jobs()
    client = client_for(palosco, operatore)
    before = timezone.now()
    response = client.post(_url("bo_confirm", e.pk), {"note": "Inizio il 15 settembre"}, follow=True)
    assert "confermata: il genitore riceverà" in response.content.decode()
    with tenant_context(palosco):
        e.refresh_from_db()
        assert e.status == S.CONFERMATA and e.decided_at >= before
        entry = _audit(e, "enrollment.confirmed")
        assert entry.actor == operatore and entry.actor_label == str(operatore)
        assert entry.data == {"before": "inviata", "after": "confermata", "note": "Inizio il 15 settembre"}
        assert before <= entry.at <= timezone.now() + timedelta(seconds=1)
        assert run_pending_jobs(task_name="core.email_send") == 1
        # A second click (double submit) is refused and mails nothing.
        response = client.post(_url("bo_confirm", e.pk), {"note": ""}, follow=True)
        assert "non può passare a Confermata" in response.content.decode()
        assert run_pending_jobs(task_name="core.email_send") == 0
    assert len(smtp_server.messages) == 1
    msg = smtp_server.messages[0]
    assert msg["To"] == "famiglia@example.org"
    assert e.reference in msg["Subject"] and "confermata" in msg["Subject"]
    assert "Inizio il 15 settembre" in smtp_server.bodies()[0]


def test_respingi_requires_a_reason_shown_to_the_parent(palosco, operatore, smtp_server) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        e = submitted(service("PRE"))
        discard_pending_jobs()
    client = client_for(palosco, operatore)
    response = client.post(_url("bo_reject", e.pk), {"motivo": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and 'href="#id_motivo"' in html
    assert "Indica il motivo del rifiuto" in html and 'aria-invalid="true"' in html
    with tenant_context(palosco):
        e.refresh_from_db()
        assert e.status == S.INVIATA and run_pending_jobs(task_name="core.email_send") == 0
    client.post(_url("bo_reject", e.pk), {"motivo": "Residenza fuori comune"})
    with tenant_context(palosco):
        e.refresh_from_db()
        assert e.status == S.RESPINTA and e.outcome_note == "Residenza fuori comune"
        assert _audit(e, "enrollment.rejected").data["note"] == "Residenza fuori comune"
        assert run_pending_jobs(task_name="core.email_send") == 1
        parent = e.guardian.account
    assert len(smtp_server.messages) == 1 and "Residenza fuori comune" in smtp_server.bodies()[0]
    # The parent sees the reason in the status box of the portal.
    summary = logged_in(palosco, parent).get(f"/iscrizioni/domanda/{e.domanda}/")
    assert "Residenza fuori comune" in summary.content.decode()


def test_riapri_returns_to_inviata_and_tells_the_parent(palosco, operatore, smtp_server) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        e = submitted(service("PRE"))
    client = client_for(palosco, operatore)
    client.post(_url("bo_reject", e.pk), {"motivo": "Documenti mancanti"})
    with tenant_context(palosco):
        discard_pending_jobs()
    response = client.post(_url("bo_reopen", e.pk), follow=True)
    assert "riaperta" in response.content.decode()
    with tenant_context(palosco):
        e.refresh_from_db()
        assert e.status == S.INVIATA and e.decided_at is None
        entry = _audit(e, "enrollment.reopened")
        assert (entry.actor, entry.data["before"], entry.data["after"]) == (operatore, "respinta", "inviata")
        assert run_pending_jobs(task_name="core.email_send") == 1
    assert len(smtp_server.messages) == 1
    assert "di nuovo in esame" in smtp_server.messages[0]["Subject"]
    # The history on the detail page shows every step with who did it.
    html = client.get(_url("bo_detail", e.pk)).content.decode()
    for text in ("Inviata → Respinta", "Respinta → Inviata", str(operatore), "Documenti mancanti"):
        assert text in html


def test_bulk_confirm_confirms_each_and_reports_the_others(palosco, operatore, smtp_server) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        a, b, c = (submitted(service("POST")) for _ in range(3))
        c.status = S.RESPINTA  # already decided
        c.save()
        discard_pending_jobs()
    client = client_for(palosco, operatore)
    response = client.post(
        _url("bo_bulk_confirm"), {"ids": [a.pk, b.pk, c.pk], "query": "stato=inviata"}, follow=True
    )
    html = response.content.decode()
    assert response.redirect_chain[-1][0].endswith("?stato=inviata")
    assert "Iscrizioni confermate: 2." in html
    assert f"n. {c.reference} non confermata" in html
    with tenant_context(palosco):
        assert {x.status for x in Enrollment.objects.filter(pk__in=[a.pk, b.pk])} == {S.CONFERMATA}
        entry = AuditEntry.objects.get(action="enrollment.bulk_confirmed")
        assert entry.actor == operatore
        assert sorted(entry.data["confirmed"]) == sorted([a.reference, b.reference])
        assert list(entry.data["skipped"]) == [c.reference]
        assert AuditEntry.objects.filter(action="enrollment.confirmed").count() == 2
        assert run_pending_jobs(task_name="core.email_send") == 2
    assert sorted(m["Subject"].split()[2] for m in smtp_server.messages) == sorted([a.reference, b.reference])


def test_bulk_confirm_with_nothing_selected(palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    response = client_for(palosco, operatore).post(_url("bo_bulk_confirm"), {}, follow=True)
    assert "Seleziona almeno un&#x27;iscrizione" in response.content.decode()


def test_detail_shows_all_data_and_the_riepilogo(palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        e = submitted(service("PRE"), last_name="Bianchi")
    client = client_for(palosco, operatore)
    html = client.get(_url("bo_detail", e.pk)).content.decode()
    for text in (e.reference, "Bianchi", e.pupil.codice_fiscale, e.guardian.codice_fiscale, "Lavoro",
                 "PRE SCUOLA 2025/2026", "Via Roma 1", "Riepilogo dell'iscrizione (PDF)"):  # fmt: skip
        assert text in html, text
    waiting = client.get(_url("bo_riepilogo", e.pk))  # never rendered in the request
    assert waiting.status_code == 202 and "in preparazione" in waiting.content.decode()
    with tenant_context(palosco):
        run_pending_jobs(task_name="enrollment.document_prepare")
    pdf = client.get(_url("bo_riepilogo", e.pk))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_drafts_are_not_visible_to_staff(palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        e = submitted(service("PRE"))
        Enrollment.objects.filter(pk=e.pk).update(status=S.BOZZA)
    client = client_for(palosco, operatore)
    assert client.get(_url("bo_detail", e.pk)).status_code == 404
    assert e.reference not in client.get(_url("bo_list")).content.decode()
