"""The graduatoria of a ranked service: computing, adjusting, publishing, the
parents' view of it, the albo PDF without names, the periodic job, isolation."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context
from pypdf import PdfReader

from core.models import AuditEntry, OutgoingEmail
from enrollment.backoffice.graduatoria import graduatoria_adjust, graduatoria_compute, graduatoria_publish
from enrollment.backoffice.services import waiting_list_promote
from enrollment.documents import GraduatoriaAlbo
from enrollment.graduatorie import graduatoria_status, place_name
from enrollment.models import Enrollment, Graduatoria, Service
from enrollment.selectors import comune_current
from enrollment.services import EnrollmentError, enrollment_confirm, enrollment_withdraw
from enrollment.tasks import graduatorie_run
from tests.concurrency import together
from tests.enrollment.backoffice.conftest import client_for, submitted
from tests.enrollment.conftest import service
from tests.factories import EnrollmentFactory, PupilFactory

S = Enrollment.Status


def _request(cre: Service, name: str, *, resident: bool = True, lavoro: bool = False) -> Enrollment:
    """A submitted CRE request of a fresh family; `resident` sets the city it was sent with."""
    e = submitted(cre, last_name=name)
    snapshot = dict(e.guardian_snapshot, city="Palosco" if resident else "Bergamo")
    Enrollment.objects.filter(pk=e.pk).update(extra={"lavoro": lavoro}, guardian_snapshot=snapshot)
    e.refresh_from_db()
    return e


@pytest.fixture
def cre(in_palosco) -> Service:  # type: ignore[no-untyped-def]
    cre = service("CRE")
    cre.capacity = 2
    cre.save()
    return cre


@pytest.fixture
def four(cre: Service) -> dict[str, Enrollment]:
    """Four requests, sent in this order: Uno 0 points, Due 10, Tre 15, Quattro 10."""
    return {
        "uno": _request(cre, "Uno", resident=False),
        "due": _request(cre, "Due"),
        "tre": _request(cre, "Tre", lavoro=True),
        "quattro": _request(cre, "Quattro"),
    }


def _order(cre: Service) -> list[str]:
    grad = Graduatoria.objects.get(service=cre)
    return [e.enrollment.pupil.last_name for e in grad.entries.select_related("enrollment__pupil")]


def test_residency_compares_place_names_loosely() -> None:
    assert place_name("  ROMANO  DI LOMBARDIA ") == place_name("Romano di Lombardia")
    assert place_name("Sant\u2019Omobono") == place_name("sant omobono")
    assert place_name("Palosco") != place_name("Palazzolo")


def test_submission_to_a_ranked_service_is_provisional(cre, four, operatore) -> None:  # type: ignore[no-untyped-def]
    # Four requests for two places: no waiting position until publication ...
    assert all(e.waiting_position is None for e in four.values())
    # ... and no confirmation either: the place is not given yet.
    with pytest.raises(EnrollmentError, match="non è ancora pubblicata"):
        enrollment_confirm(enrollment=four["uno"], by=operatore)
    status = graduatoria_status(enrollment=four["uno"])
    assert status is not None and not status.computed and not status.published


def test_points_per_criterion_rank_and_ties(cre, four, operatore) -> None:  # type: ignore[no-untyped-def]
    grad = graduatoria_compute(service=cre, by=operatore)
    assert grad.status == Graduatoria.Status.BOZZA
    # Due and Quattro tie at 10: the earlier submission (Due) comes first.
    assert _order(cre) == ["Tre", "Due", "Quattro", "Uno"]
    tre = grad.entries.get(enrollment=four["tre"])
    assert tre.points == {"residenti": "10", "fratelli": "0", "lavoro": "5"}
    assert (tre.total, tre.rank) == (Decimal(15), 1)
    assert grad.entries.get(enrollment=four["uno"]).total == Decimal(0)
    assert AuditEntry.objects.filter(action="graduatoria.computed", actor=operatore).count() == 1


def test_tie_break_by_birth_date(cre, operatore) -> None:  # type: ignore[no-untyped-def]
    cre.definition["ranking"]["tie_break"] = "birth_date"
    cre.save()
    younger, older = _request(cre, "Giovane"), _request(cre, "Grande")
    older.pupil.birth_date = younger.pupil.birth_date - timedelta(days=400)
    older.pupil.save()
    graduatoria_compute(service=cre, by=operatore)
    assert _order(cre) == ["Grande", "Giovane"]


def test_a_confirmed_sibling_earns_the_sibling_points(cre, operatore) -> None:  # type: ignore[no-untyped-def]
    e = _request(cre, "Rossi")
    brother = PupilFactory.create(guardian=e.guardian, first_name="Marco")
    EnrollmentFactory.create(pupil=brother, service=cre, status=S.CONFERMATA, submitted_at=timezone.now())
    alone = _request(cre, "Solo")
    grad = graduatoria_compute(service=cre, by=operatore)
    assert grad.entries.get(enrollment=e).points["fratelli"] == "3"
    assert grad.entries.get(enrollment=alone).points["fratelli"] == "0"


def test_an_adjustment_needs_a_reason_and_reranks(cre, four, operatore) -> None:  # type: ignore[no-untyped-def]
    graduatoria_compute(service=cre, by=operatore)
    uno = four["uno"]
    with pytest.raises(EnrollmentError, match="Indica il motivo"):
        graduatoria_adjust(
            service=cre, enrollment_id=uno.pk, adjustment=Decimal(20), reason="  ", by=operatore
        )
    assert _order(cre)[-1] == "Uno"
    graduatoria_adjust(
        service=cre,
        enrollment_id=uno.pk,
        adjustment=Decimal(20),
        reason="Invalidità certificata",
        by=operatore,
    )
    assert _order(cre)[0] == "Uno"
    entry = AuditEntry.objects.get(action="graduatoria.adjusted")
    assert entry.actor == operatore and entry.object_id == str(uno.pk)
    assert entry.data["after"] == {"adjustment": "20", "reason": "Invalidità certificata"}
    # A new computation keeps the adjustment.
    graduatoria_compute(service=cre, by=operatore)
    assert _order(cre)[0] == "Uno"
    status = graduatoria_status(enrollment=uno)
    assert status is not None and status.total == Decimal(20) and not status.published


def test_publication_admits_in_rank_order_up_to_capacity(cre, four, operatore) -> None:  # type: ignore[no-untyped-def]
    graduatoria_compute(service=cre, by=operatore)
    graduatoria_publish(service=cre, by=operatore)
    got = {k: Enrollment.objects.get(pk=e.pk).waiting_position for k, e in four.items()}
    assert got == {"tre": None, "due": None, "quattro": 1, "uno": 2}
    # Published: nothing changes it any more.
    with pytest.raises(EnrollmentError, match="già stata pubblicata"):
        graduatoria_publish(service=cre, by=operatore)
    with pytest.raises(EnrollmentError, match="già pubblicata"):
        graduatoria_compute(service=cre, by=operatore)
    # The admitted can now be confirmed; those waiting cannot.
    enrollment_confirm(enrollment=four["tre"], by=operatore)
    with pytest.raises(EnrollmentError, match="lista d'attesa"):
        enrollment_confirm(enrollment=four["uno"], by=operatore)
    status = graduatoria_status(enrollment=Enrollment.objects.get(pk=four["quattro"].pk))
    assert status is not None and status.published and not status.admitted and status.waiting_position == 1


def test_each_family_is_mailed_its_points_and_place_on_publication(cre, four, operatore) -> None:  # type: ignore[no-untyped-def]
    graduatoria_compute(service=cre, by=operatore)
    assert not OutgoingEmail.objects.filter(purpose="graduatoria_published").exists()
    graduatoria_publish(service=cre, by=operatore)
    mails = {
        m.subject.split("n. ")[1].split(" ")[0]: m
        for m in OutgoingEmail.objects.filter(purpose="graduatoria_published")
    }
    assert set(mails) == {e.reference for e in four.values()}
    tre, uno = mails[four["tre"].reference], mails[four["uno"].reference]
    assert tre.to == [four["tre"].guardian.email]
    assert "ha 15 punti ed è al 1° posto" in tre.body and "rientra tra i posti disponibili" in tre.body
    assert "ha 0 punti ed è al 4° posto" in uno.body and "in lista d'attesa, al 2° posto" in uno.body
    assert four["due"].pupil.last_name not in uno.body  # each mail speaks of its own request only


def test_a_withdrawal_frees_the_place_for_the_next_in_rank(cre, four, operatore) -> None:  # type: ignore[no-untyped-def]
    graduatoria_compute(service=cre, by=operatore)
    graduatoria_publish(service=cre, by=operatore)
    enrollment_withdraw(enrollment=four["due"], by=four["due"].guardian.account)
    promoted = waiting_list_promote(service=cre, by=operatore)
    assert promoted.pk == four["quattro"].pk
    assert Enrollment.objects.get(pk=four["uno"].pk).waiting_position == 1  # now first in line


def test_a_request_sent_after_the_computation_blocks_publication(cre, four, operatore) -> None:  # type: ignore[no-untyped-def]
    graduatoria_compute(service=cre, by=operatore)
    _request(cre, "Ritardo")
    with pytest.raises(EnrollmentError, match="ricalcola la graduatoria"):
        graduatoria_publish(service=cre, by=operatore)
    assert not Graduatoria.objects.get(service=cre).is_published


def test_two_staff_publishing_at_once_publish_once(committed_palosco) -> None:  # type: ignore[no-untyped-def]
    from tests.enrollment.backoffice.conftest import staff_create

    with tenant_context(committed_palosco):
        cre = service("CRE")
        cre.capacity = 1
        cre.save()
        rows = [_request(cre, name) for name in ("Primo", "Secondo", "Terzo")]
        by = staff_create("operatore.graduatoria", "Operatore")
        graduatoria_compute(service=cre, by=by)

    def publish() -> Any:
        with tenant_context(committed_palosco):
            try:
                graduatoria_publish(service=cre, by=by)
            except EnrollmentError as exc:
                return exc.code
            return "published"

    assert sorted(together([publish, publish])) == ["graduatoria_published", "published"]
    with tenant_context(committed_palosco):
        assert AuditEntry.objects.filter(action="graduatoria.published").count() == 1
        assert OutgoingEmail.objects.filter(purpose="graduatoria_published").count() == len(rows)
        positions = [Enrollment.objects.get(pk=r.pk).waiting_position for r in rows]
        assert sorted(positions, key=lambda p: p or 0) == [None, 1, 2]


def test_the_albo_pdf_lists_references_and_points_and_no_names(cre, four, operatore) -> None:  # type: ignore[no-untyped-def]
    graduatoria_compute(service=cre, by=operatore)
    graduatoria_publish(service=cre, by=operatore)
    pdf = GraduatoriaAlbo(comune=comune_current(), service_id=cre.pk).render()
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    for e in four.values():
        assert e.reference in text
        for personal in (e.pupil.last_name, e.pupil.codice_fiscale, e.guardian.codice_fiscale):
            assert personal not in text
    assert "Residenti nel comune" in text and "Lista d'attesa (1)" in text


def test_the_staff_pages_compute_adjust_and_publish(palosco, operatore, cre, four) -> None:  # type: ignore[no-untyped-def]
    client = client_for(palosco, operatore)
    page = reverse("staff_admin:bo_graduatoria", args=[cre.pk])
    assert "non è ancora stata calcolata" in client.get(page).content.decode()
    client.post(reverse("staff_admin:bo_graduatoria_compute", args=[cre.pk]))
    html = client.get(page).content.decode()
    assert "Entrambi i genitori lavoratori" in html and html.index("Tre") < html.index("Uno")
    adjust = reverse("staff_admin:bo_graduatoria_adjust", args=[cre.pk])
    refused = client.post(adjust, {"enrollment": four["uno"].pk, "rettifica": "3", "motivo": ""})
    assert refused.status_code == 400 and "Indica il motivo della rettifica" in refused.content.decode()
    client.post(adjust, {"enrollment": four["uno"].pk, "rettifica": "2,5", "motivo": "Documento integrato"})
    with tenant_context(palosco):
        assert Graduatoria.objects.get(service=cre).entries.get(enrollment=four["uno"]).total == Decimal(
            "2.5"
        )
    done = client.post(reverse("staff_admin:bo_graduatoria_publish", args=[cre.pk]), follow=True)
    assert "Graduatoria pubblicata" in done.content.decode()
    with tenant_context(palosco):
        assert Graduatoria.objects.get(service=cre).is_published


def test_the_parent_sees_points_and_position(palosco, operatore, cre, four) -> None:  # type: ignore[no-untyped-def]
    e = four["quattro"]
    parent = client_for(palosco, e.guardian.account)
    url = reverse("enrollment:summary", args=[e.domanda])
    assert "sarà calcolata alla chiusura delle iscrizioni" in parent.get(url).content.decode()
    with tenant_context(palosco):
        graduatoria_compute(service=cre, by=operatore)
    html = parent.get(url).content.decode()
    assert "Graduatoria provvisoria" in html and "Residenti nel comune" in html
    with tenant_context(palosco):
        graduatoria_publish(service=cre, by=operatore)
    html = parent.get(url).content.decode()
    assert "Graduatoria provvisoria" not in html
    assert "in lista d'attesa, posizione 1" in html
    assert html.index("Residenti nel comune") < html.index("Entrambi i genitori lavoratori")


def test_the_periodic_job_computes_once_the_window_closed(cre, four) -> None:  # type: ignore[no-untyped-def]
    schema = connection.schema_name
    graduatorie_run(schema_name=schema)
    assert not Graduatoria.objects.filter(service=cre).exists()  # window still open
    Service.objects.filter(pk=cre.pk).update(
        opens_at=timezone.now() - timedelta(days=30), closes_at=timezone.now() - timedelta(minutes=1)
    )
    graduatorie_run(schema_name=schema)
    grad = Graduatoria.objects.get(service=cre)
    assert grad.entries.count() == 4
    computed_at = grad.computed_at
    graduatorie_run(schema_name=schema)  # already computed after the close: left alone
    assert Graduatoria.objects.get(service=cre).computed_at == computed_at


def test_another_comunes_staff_get_404(palosco, romano, cre, four, operatore) -> None:  # type: ignore[no-untyped-def]
    from tests.enrollment.backoffice.conftest import staff_create

    graduatoria_compute(service=cre, by=operatore)
    graduatoria_publish(service=cre, by=operatore)
    with tenant_context(romano):
        romano_admin = staff_create("admin.romano", "Amministratore comune")
    client = client_for(romano, romano_admin)
    for name in ("bo_graduatoria", "bo_graduatoria_albo"):
        response = client.get(reverse(f"staff_admin:{name}", args=[cre.pk]))
        assert response.status_code == 404
        assert four["tre"].reference not in response.content.decode()
    response = client.post(reverse("staff_admin:bo_graduatoria_publish", args=[cre.pk]))
    assert response.status_code == 404


def test_a_form_corrected_after_the_computation_makes_the_draft_stale(cre, operatore) -> None:  # type: ignore[no-untyped-def]
    """A parent may correct a submitted form until staff decide: publishing the points computed
    before the correction used to rank it by answers it no longer has (found by a review)."""
    from enrollment.services import domanda_save
    from tests.factories import ParentFactory, domanda_create, guardian_data, pupil_data

    cre.capacity = 1
    cre.save()
    parent = ParentFactory.create()
    answers = {"settimane": ["1ª settimana (29/6–3/7)"]}
    (uno,) = domanda_create(
        parent, [cre], guardian=guardian_data(city="Bergamo"), pupil=pupil_data(),
        extra={"CRE": answers}, submit=True,
    )  # fmt: skip
    due = _request(cre, "Due")  # resident: 10 points
    graduatoria_compute(service=cre, by=operatore)
    assert _order(cre)[0] == "Due"
    domanda_save(
        account=parent, guardian_data=guardian_data(city="Palosco"), pupil_data=pupil_data(),
        services=[cre], extra={"CRE": {**answers, "lavoro": True}}, consent=True, domanda=uno.domanda,
    )  # fmt: skip
    with pytest.raises(EnrollmentError) as refused:
        graduatoria_publish(service=cre, by=operatore)
    assert refused.value.code == "graduatoria_stale"
    assert "1 richieste sono arrivate o sono state modificate dopo l'ultimo calcolo" in refused.value.message
    graduatoria_compute(service=cre, by=operatore)
    graduatoria_publish(service=cre, by=operatore)
    uno.refresh_from_db()
    due.refresh_from_db()
    assert (uno.waiting_position, due.waiting_position) == (None, 1)  # resident and working: 15 points
