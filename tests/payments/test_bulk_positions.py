"""Issue #17: a bulk confirmation creates its debt positions together (payments.services.positions_create).

Exactly one position per confirmed enrollment that owes, with its own IUVs,
the sibling discount, one audit entry each, one sending job per batch and the
avviso attached to each outcome mail; a refusal confirms none; a replay adds
no position; two clerks confirming at once never share an IUV.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.urls import reverse
from django_tenants.utils import schema_context, tenant_context
from procrastinate.contrib.django.models import ProcrastinateJob

from core.models import AuditEntry, OutgoingEmail
from enrollment.backoffice.roles import AMMINISTRATORE
from enrollment.backoffice.services import enrollments_confirm_bulk
from enrollment.billing import enrollment_source
from enrollment.errors import EnrollmentError
from enrollment.models import Enrollment, Service
from enrollment.selectors import enrollment_fee, enrollment_fees
from enrollment.services import enrollment_confirm, enrollment_reopen
from identity.models import Account
from payments.models import DebtPosition, Instalment, IoMessage
from payments.services import PositionRequest, positions_create
from tenants.models import Comune
from tests.concurrency import together
from tests.enrollment.backoffice.conftest import client_for
from tests.factories import EnrollmentFactory, PupilFactory, StaffFactory
from tests.payments.conftest import payments_configure
from tests.payments.gpd_server import GpdServer
from tests.payments.test_enrollment_debts import _cre_with_rate

S = Enrollment.Status


def _submitted(service: Service, *, sibling_of: Enrollment | None = None, isee: str = "8000") -> Enrollment:
    extra = {"service": service, "status": S.INVIATA, "extra": {"isee": isee}}
    if sibling_of is not None:
        return EnrollmentFactory(pupil=PupilFactory(guardian=sibling_of.guardian), **extra)
    return EnrollmentFactory(**extra)


def _family_of_three_and_two_others(service: Service) -> list[Enrollment]:
    first = _submitted(service)
    return [
        first,
        _submitted(service, sibling_of=first),
        _submitted(service, sibling_of=first),
        _submitted(service),
        _submitted(service, isee="15000"),
    ]


def _position(e: Enrollment) -> DebtPosition:
    return DebtPosition.objects.get(source=enrollment_source(e))


def test_bulk_confirm_creates_one_position_each_with_distinct_iuvs_discounts_audit_and_batched_jobs(
    palosco: Comune, gpd_server: GpdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("payments.services.SEND_BATCH", 2)
    comune = payments_configure(palosco, adapter="gpd", gpd_base_url=gpd_server.url)
    with tenant_context(comune):
        service = _cre_with_rate()
        rows = _family_of_three_and_two_others(service)
        staff = StaffFactory(role=AMMINISTRATORE)
        result = enrollments_confirm_bulk(enrollments=list(reversed(rows)), by=staff)
        assert [e.pk for e in result.done] == [e.pk for e in rows] and result.skipped == []
        assert DebtPosition.objects.count() == 5
        positions = [_position(e) for e in rows]
        # Band 1 is 120.00, band 2 (ISEE 15000) 200.00; the second and third child get 20 % off.
        assert [p.amount_cents for p in positions] == [12000, 9600, 9600, 12000, 20000]
        assert [[i.amount_cents for i in p.instalments.order_by("number")] for p in positions] == [
            [4800, 7200],
            [3840, 5760],
            [3840, 5760],
            [4800, 7200],
            [8000, 12000],
        ]
        # The fee each position charges is the one the single-enrollment selector computes.
        assert [enrollment_fee(enrollment=e) for e in rows] == [
            p.amount_cents / Decimal(100) for p in positions
        ]
        rate = Instalment.objects.all()
        assert rate.count() == 10
        assert len({i.iuv for i in rate}) == len({i.codice_avviso for i in rate}) == 10
        entries = AuditEntry.objects.filter(action="payments.position_created")
        assert sorted(int(a.object_id) for a in entries) == sorted(p.pk for p in positions)
        assert all(a.actor == staff for a in entries)
        by_position = {int(a.object_id): a for a in entries}
        for p in positions:
            avvisi = [i.codice_avviso for i in p.instalments.order_by("number")]
            assert by_position[p.pk].data == {"source": p.source, "iupd": p.iupd, "avvisi": avvisi}
        jobs = [
            j.args["position_ids"]
            for j in ProcrastinateJob.objects.filter(task_name="payments.positions_send").order_by("id")
        ]
        ids = [p.pk for p in positions]
        assert jobs == [ids[0:2], ids[2:4], ids[4:5]]
        assert not ProcrastinateJob.objects.filter(task_name="payments.position_send").exists()
        # Each outcome mail attaches its own enrollment's avviso, by the position's id.
        for e, p in zip(rows, positions, strict=True):
            mail = OutgoingEmail.objects.get(purpose="enrollment_confirmed", subject__contains=e.reference)
            assert mail.attachments == [{"document": "payments.avviso", "params": {"position_id": p.pk}}]
            assert p.instalments.get(number=1).codice_avviso in mail.body


def test_fees_of_a_batch_count_siblings_as_one_by_one(local_palosco: Comune) -> None:
    service = _cre_with_rate()
    rows = _family_of_three_and_two_others(service)
    rows[1].status = S.RESPINTA  # a rejected request does not count: the third child is second now
    rows[1].save()
    free = EnrollmentFactory(status=S.INVIATA)  # PRE has no fee
    batch = enrollment_fees(enrollments=[*rows, free])
    assert batch == {e.pk: enrollment_fee(enrollment=e) for e in [*rows, free]}
    assert [batch[e.pk] for e in rows] == [Decimal(120), Decimal(96), Decimal(96), Decimal(120), Decimal(200)]
    assert batch[free.pk] is None


def test_a_refused_position_confirms_none_of_the_batch(local_palosco: Comune) -> None:
    service = _cre_with_rate()
    rows = [_submitted(service) for _ in range(3)]
    # Submitted without the guardian's codice fiscale: there is nobody to charge.
    rows[1].guardian_snapshot = {"first_name": "Mario", "last_name": "Rossi"}
    rows[1].save()
    staff = StaffFactory(role=AMMINISTRATORE)
    with pytest.raises(EnrollmentError, match="manca il codice fiscale di chi paga") as refused:
        enrollments_confirm_bulk(enrollments=rows, by=staff)
    assert refused.value.code == "payer"
    assert set(Enrollment.objects.filter(pk__in=[e.pk for e in rows]).values_list("status", flat=True)) == {
        S.INVIATA
    }
    assert not DebtPosition.objects.exists() and not Instalment.objects.exists()
    assert not AuditEntry.objects.filter(
        action__in=["enrollment.confirmed", "payments.position_created"]
    ).exists()
    assert not AuditEntry.objects.filter(action="enrollment.bulk_confirmed").exists()
    assert not OutgoingEmail.objects.filter(purpose="enrollment_confirmed").exists()


def test_the_back_office_says_why_nothing_was_confirmed(local_palosco: Comune) -> None:
    service = _cre_with_rate()
    good = _submitted(service)
    bad = EnrollmentFactory(
        service=service, status=S.INVIATA, extra={"isee": "8000"}, pupil=PupilFactory(first_name="Giulia")
    )
    bad.guardian_snapshot = {"first_name": "Mario", "last_name": "Rossi"}
    bad.save()
    staff = StaffFactory(role=AMMINISTRATORE)
    response = client_for(local_palosco, staff).post(
        reverse("staff_admin:bo_bulk_confirm"), {"ids": [good.pk, bad.pk]}, follow=True
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nessuna iscrizione confermata" in html and "manca il codice fiscale di chi paga" in html
    assert "Giulia Rossi" in html  # the refusal names whose position it is
    good.refresh_from_db()
    assert good.status == S.INVIATA and not DebtPosition.objects.exists()


def test_replaying_a_bulk_confirmation_creates_no_second_position(local_palosco: Comune) -> None:
    service = _cre_with_rate()
    rows = [_submitted(service) for _ in range(3)]
    staff = StaffFactory(role=AMMINISTRATORE)
    enrollments_confirm_bulk(enrollments=rows, by=staff)
    first = {e.pk: _position(e).pk for e in rows}
    rate = set(Instalment.objects.values_list("iuv", flat=True))
    # The same request again (a double click): every row is already decided.
    again = enrollments_confirm_bulk(enrollments=rows, by=staff)
    assert again.done == [] and len(again.skipped) == 3
    # Reopened and confirmed again in bulk: the live positions are reused, their avvisi mailed again.
    for e in rows[:2]:
        enrollment_reopen(enrollment=e, by=staff)
    OutgoingEmail.objects.all().delete()
    assert len(enrollments_confirm_bulk(enrollments=rows, by=staff).done) == 2
    assert {e.pk: _position(e).pk for e in rows} == first
    assert DebtPosition.objects.count() == 3
    assert set(Instalment.objects.values_list("iuv", flat=True)) == rate
    assert AuditEntry.objects.filter(action="payments.position_created").count() == 3
    for e in rows[:2]:
        mail = OutgoingEmail.objects.get(purpose="enrollment_confirmed", subject__contains=e.reference)
        assert mail.attachments[0]["params"] == {"position_id": first[e.pk]}
        assert _position(e).instalments.get(number=1).codice_avviso in mail.body


def test_a_single_confirmation_goes_through_the_same_code(local_palosco: Comune) -> None:
    service = _cre_with_rate()
    first = _submitted(service)
    second = _submitted(service, sibling_of=first)
    staff = StaffFactory(role=AMMINISTRATORE)
    enrollment_confirm(enrollment=first, by=staff)
    enrollment_confirm(enrollment=second, by=staff)
    assert [_position(e).amount_cents for e in (first, second)] == [12000, 9600]
    with pytest.raises(EnrollmentError, match="non può passare a Confermata"):
        enrollment_confirm(enrollment=second, by=staff)
    assert DebtPosition.objects.count() == 2


@pytest.fixture
def committed_payments(committed_palosco: Comune) -> Iterator[Comune]:
    """Palosco with local pagoPA, committed; its positions and its configuration undone afterwards."""
    config = dict(committed_palosco.config)
    comune = payments_configure(committed_palosco)
    try:
        yield comune
    finally:
        with schema_context(comune.schema_name):
            DebtPosition.objects.all().delete()
            IoMessage.objects.all().delete()
        Comune.objects.filter(pk=comune.pk).update(config=config)


def test_two_clerks_confirming_in_parallel_never_get_the_same_iuv(committed_payments: Comune) -> None:
    with tenant_context(committed_payments):
        service = _cre_with_rate()
        rows = [_submitted(service) for _ in range(40)]
        clerks = [StaffFactory(role=AMMINISTRATORE), StaffFactory(role=AMMINISTRATORE)]

    def confirm(ids: list[int], clerk_pk: int) -> object:
        comune = Comune.objects.get(pk=committed_payments.pk)
        with tenant_context(comune):
            try:
                rows = list(Enrollment.objects.filter(pk__in=ids))
                return len(
                    enrollments_confirm_bulk(enrollments=rows, by=Account.objects.get(pk=clerk_pk)).done
                )
            except Exception as exc:  # reported, not lost in the thread
                return exc

    odd = [e.pk for e in rows[1::2]]
    even = [e.pk for e in rows[0::2]]
    assert together([lambda: confirm(even, clerks[0].pk), lambda: confirm(odd, clerks[1].pk)]) == [20, 20]
    with tenant_context(committed_payments):
        assert DebtPosition.objects.count() == 40
        iuvs = list(Instalment.objects.values_list("iuv", flat=True))
        assert len(iuvs) == 80 and len(set(iuvs)) == 80
        assert len(set(Instalment.objects.values_list("codice_avviso", flat=True))) == 80


def _wanted(n: int) -> PositionRequest:
    return PositionRequest(
        source=f"import:{n}", payer_codice_fiscale="rssmra80a01h501u", payer_name="Mario Rossi",
        description=f"MENSA 2024/2025 – Alunno {n}", amount=Decimal("50.00"),
    )  # fmt: skip


def test_positions_created_together_outside_a_batch_are_still_sent_by_batch(
    gpd_romano: Comune, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("payments.services.SEND_BATCH", 2)
    one, two, again, three = positions_create(wanted=[_wanted(1), _wanted(2), _wanted(1), _wanted(3)])
    assert again is one and DebtPosition.objects.count() == 3  # the same source twice: one position
    assert one.payer_codice_fiscale == "RSSMRA80A01H501U"
    jobs = ProcrastinateJob.objects.filter(task_name="payments.positions_send").order_by("id")
    assert [j.args["position_ids"] for j in jobs] == [[one.pk, two.pk], [three.pk]]
    assert not ProcrastinateJob.objects.filter(task_name="payments.position_send").exists()
    # The rate comes back loaded, as the database has it.
    assert list(one.instalments.all()) == list(Instalment.objects.filter(position=one))
