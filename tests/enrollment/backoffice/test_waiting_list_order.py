"""The waiting list keeps its order whatever leaves or comes back to it.

Found by a review: a place freed by a withdrawal went to the next family to
submit, not to the first in line; a rejected family kept its number and, when
reopened, shared it with the family given that number since; a "Conferma"
racing a "Riapri" confirmed a request the reopening had just put on the list.
"""

from __future__ import annotations

import threading

from django_tenants.utils import tenant_context

import enrollment.backoffice.services as backoffice
from core.models import AuditEntry
from enrollment.backoffice.services import enrollment_reopen_notify, waiting_list_promote
from enrollment.models import Enrollment
from enrollment.services import EnrollmentError, enrollment_confirm, enrollment_reject, enrollment_withdraw
from tests.concurrency import together, until_another_waits_on_a_lock
from tests.enrollment.backoffice.conftest import staff_create, submitted
from tests.enrollment.conftest import service

S = Enrollment.Status


def _post_with_one_place() -> tuple[object, list[Enrollment]]:
    post = service("POST")
    post.capacity = 1
    post.save()
    return post, [submitted(post, last_name=name) for name in ("Primo", "Secondo", "Terzo")]


def _waiting(post: object) -> list[tuple[str, int]]:
    return list(
        Enrollment.objects.filter(service=post, status=S.INVIATA, waiting_position__isnull=False)
        .order_by("waiting_position")
        .values_list("pupil__last_name", "waiting_position")
    )


def test_a_place_freed_by_a_withdrawal_waits_for_the_first_in_line(palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        post, (first, second, third) = _post_with_one_place()
        assert (first.waiting_position, second.waiting_position, third.waiting_position) == (None, 1, 2)
        enrollment_withdraw(enrollment=first, by=first.guardian.account)
        late = submitted(post, last_name="Ultimo")
        late.refresh_from_db()
        assert late.waiting_position == 3  # behind the two who were waiting, not in the free place
        assert waiting_list_promote(service=post, by=operatore).pk == second.pk
        assert _waiting(post) == [("Terzo", 1), ("Ultimo", 2)]


def test_a_family_leaving_the_list_takes_its_number_with_it(palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        post, (first, second, third) = _post_with_one_place()
        enrollment_reject(enrollment=second, by=operatore, reason="Documenti mancanti")
        second.refresh_from_db()
        assert second.waiting_position is None
        entry = AuditEntry.objects.filter(action="enrollment.rejected").latest("id")
        assert entry.data["waiting_position_left"] == 1 and "fuori dalla lista d'attesa" in entry.message
        enrollment_withdraw(enrollment=first, by=first.guardian.account)
        assert waiting_list_promote(service=post, by=operatore).pk == third.pk
        late = submitted(post, last_name="Ultimo")  # full, nobody waiting: first in line
        late.refresh_from_db()
        assert late.waiting_position == 1
        # Reopened: behind the family that came meanwhile, not beside it with its old number 1.
        reopened = enrollment_reopen_notify(enrollment=second, by=operatore)
        assert reopened.waiting_position == 2
        assert _waiting(post) == [("Ultimo", 1), ("Secondo", 2)]


def test_a_rejection_reopened_while_others_wait_goes_behind_them(palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        first = _post_with_one_place()[1][0]
        enrollment_reject(enrollment=first, by=operatore, reason="Rinuncia")  # a place is free
        reopened = enrollment_reopen_notify(enrollment=first, by=operatore)
        # Secondo and Terzo were waiting for that place: Primo does not pass them.
        assert reopened.waiting_position == 3
        assert (
            AuditEntry.objects.filter(action="enrollment.waiting_queued")
            .latest("id")
            .message.endswith("altre famiglie in attesa, lista d'attesa 3")
        )


def test_a_confirmation_reopened_keeps_its_place(palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        post, (first, _, _) = _post_with_one_place()
        enrollment_confirm(enrollment=first, by=operatore)
        assert enrollment_reopen_notify(enrollment=first, by=operatore).waiting_position is None
        assert _waiting(post) == [("Secondo", 1), ("Terzo", 2)]


def test_a_confirmation_racing_a_reopening_onto_the_list_is_refused(committed_palosco, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Operatore A reopens a rejected request of a full service (so onto the waiting list) while
    operatore B confirms it. B's check used to read the row before its lock: it confirmed a request
    on the waiting list, two places for one."""
    with tenant_context(committed_palosco):
        post = service("POST")
        post.capacity = 1
        post.save()
        rejected = submitted(post, last_name="Riaperta")
        a = staff_create("op.a.race", "Operatore")
        b = staff_create("op.b.race", "Operatore")
        enrollment_reject(enrollment=rejected, by=a, reason="Documenti mancanti")
        holder = submitted(post, last_name="Titolare")  # takes the freed place
        assert holder.waiting_position is None
    reopened = threading.Event()
    mail_parent = backoffice.mail_parent

    def mail_then_hold(*args, **kwargs):  # type: ignore[no-untyped-def]
        reopened.set()  # the row is "inviata", on the list, in this open transaction
        until_another_waits_on_a_lock()  # the confirmation waits for the row
        return mail_parent(*args, **kwargs)

    monkeypatch.setattr(backoffice, "mail_parent", mail_then_hold)

    def reopen() -> object:
        with tenant_context(committed_palosco):
            return enrollment_reopen_notify(enrollment=rejected, by=a).waiting_position

    def confirm() -> object:
        reopened.wait()
        with tenant_context(committed_palosco):
            try:
                return enrollment_confirm(enrollment=rejected, by=b).status
            except EnrollmentError as exc:
                return exc.code

    assert together([reopen, confirm]) == [1, "waiting_list"]
    with tenant_context(committed_palosco):
        rejected.refresh_from_db()
        assert (rejected.status, rejected.waiting_position) == (S.INVIATA, 1)
        assert not Enrollment.objects.filter(service=post, status=S.CONFERMATA).exists()


def test_a_number_kept_by_an_older_rejection_goes_when_it_is_reopened(palosco, operatore) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(palosco):
        post, (first, second, third) = _post_with_one_place()
        enrollment_reject(enrollment=second, by=operatore, reason="Documenti mancanti")
        enrollment_reject(enrollment=third, by=operatore, reason="Documenti mancanti")
        enrollment_reject(enrollment=first, by=operatore, reason="Rinuncia")  # the place is free
        # Rejected before this release: the row kept its waiting number.
        Enrollment.objects.filter(pk=second.pk).update(waiting_position=1)
        reopened = enrollment_reopen_notify(enrollment=second, by=operatore)
        assert reopened.waiting_position is None  # the free place, nobody waiting for it
        assert _waiting(post) == []
