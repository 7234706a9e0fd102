"""Staff's writes on a graduatoria: compute on request, adjust points, publish.

The computation itself is `enrollment.graduatorie.graduatoria_rank` (also
run by the periodic job when a window closes). Publishing admits requests in
rank order up to the capacity and gives the others waiting-list positions in
rank order, so "Assegna il posto libero" then promotes the next in rank.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.services import audit_record
from enrollment.backoffice.roles import Action, role_require
from enrollment.errors import EnrollmentError
from enrollment.graduatorie import graduatoria_rank
from enrollment.models import HOLDS_PLACE, Enrollment, Graduatoria, GraduatoriaEntry, Service
from enrollment.notifications import mail_parent
from identity.models import Account

Status = Enrollment.Status
# Beyond this an adjustment is a typing slip (the criteria give tens of points).
MAX_ADJUSTMENT = Decimal(1000)


def graduatoria_compute(*, service: Service, by: Account, request: HttpRequest | None = None) -> Graduatoria:
    """ "Calcola graduatoria": compute the draft now (staff ask before or after the window closes)."""
    role_require(by, Action.GRADUATORIA)
    return graduatoria_rank(service=service, by=by, request=request)


def _draft_locked(service: Service) -> Graduatoria:
    Service.objects.select_for_update().get(pk=service.pk)
    grad = Graduatoria.objects.select_for_update().filter(service=service).first()
    if grad is None:
        raise EnrollmentError(
            f"La graduatoria di {service.name} {service.school_year} non è ancora stata calcolata.",
            code="graduatoria_missing",
        )
    if grad.is_published:
        when = timezone.localtime(grad.published_at).strftime("%d/%m/%Y %H:%M") if grad.published_at else ""
        raise EnrollmentError(
            f"La graduatoria di {service.name} {service.school_year} è già stata pubblicata ({when}): "
            "non può più essere modificata.",
            code="graduatoria_published",
        )
    return grad


def graduatoria_adjust(
    *,
    service: Service,
    enrollment_id: int,
    adjustment: Decimal,
    reason: str,
    by: Account,
    request: HttpRequest | None = None,
) -> Graduatoria:
    """Add (or, negative, remove) points to one request, with a mandatory reason; the
    graduatoria is ranked again at once."""
    role_require(by, Action.GRADUATORIA)
    reason = reason.strip()
    if not reason:
        raise EnrollmentError(
            "Indica il motivo della rettifica: resta nel registro e il genitore lo vede.",
            code="reason_required",
        )
    if abs(adjustment) > MAX_ADJUSTMENT:
        raise EnrollmentError(
            f"La rettifica può essere al massimo di {MAX_ADJUSTMENT} punti, in più o in meno.",
            code="adjustment_too_large",
        )
    with transaction.atomic():
        grad = _draft_locked(service)
        entry = GraduatoriaEntry.objects.filter(graduatoria=grad, enrollment_id=enrollment_id).first()
        if entry is None:
            raise EnrollmentError("La richiesta non è in questa graduatoria.", code="not_found")
        before = {"adjustment": str(entry.adjustment), "reason": entry.adjustment_reason}
        entry.adjustment, entry.adjustment_reason = adjustment, reason
        entry.save(update_fields=["adjustment", "adjustment_reason"])
        enrollment = Enrollment.objects.get(pk=enrollment_id)
        audit_record(
            action="graduatoria.adjusted",
            actor=by,
            obj=enrollment,
            message=f"{enrollment.reference}: rettifica di {adjustment} punti in graduatoria ({reason})",
            data={"before": before, "after": {"adjustment": str(adjustment), "reason": reason}},
            request=request,
        )
        return graduatoria_rank(service=service, by=by, request=request)


def graduatoria_publish(*, service: Service, by: Account, request: HttpRequest | None = None) -> Graduatoria:
    """Publish the draft: places in rank order up to the capacity, the rest on the waiting list.

    Confirmed requests keep their place. Two staff publishing at once: the
    service row lock lets one through, the other finds it published. A
    request submitted, or corrected by its parent, after the last computation
    makes the draft stale, and publication is refused until it is computed
    again.
    """
    role_require(by, Action.GRADUATORIA)
    with transaction.atomic():
        grad = _draft_locked(service)
        service = Service.objects.get(pk=service.pk)
        entries = list(grad.entries.select_related("enrollment").select_for_update(of=("self", "enrollment")))
        ranked_ids = {e.enrollment_id for e in entries}
        missing = (
            Enrollment.objects.filter(service=service, status__in=HOLDS_PLACE)
            .exclude(pk__in=ranked_ids)
            .count()
        )
        # A parent may still correct a submitted form (residency, answers): its points are the
        # computation's only if it has not changed since.
        changed_since = sum(
            1
            for e in entries
            if e.enrollment.status in HOLDS_PLACE and e.enrollment.updated_at > grad.computed_at
        )
        if missing or changed_since:
            raise EnrollmentError(
                f"{missing + changed_since} richieste sono arrivate o sono state modificate dopo l'ultimo "
                "calcolo: ricalcola la graduatoria prima di pubblicarla.",
                code="graduatoria_stale",
            )
        live = [
            e.enrollment for e in sorted(entries, key=lambda e: e.rank) if e.enrollment.status in HOLDS_PLACE
        ]
        free = (service.capacity or 0) - sum(1 for e in live if e.status == Status.CONFERMATA)
        position = 0
        changed = []
        for enrollment in live:
            if enrollment.status == Status.CONFERMATA:
                continue
            if service.capacity is None or free > 0:
                enrollment.waiting_position = None
                free -= 1
            else:
                position += 1
                enrollment.waiting_position = position
            changed.append(enrollment)
        now = timezone.now()
        for enrollment in changed:
            enrollment.updated_at = now
        Enrollment.objects.bulk_update(changed, ["waiting_position", "updated_at"])
        # Each family learns its points and place with the publication, in
        # the same transaction: a rolled-back publication mails nobody.
        by_enrollment = {e.enrollment_id: e for e in entries}
        for enrollment in changed:
            mail_parent(
                enrollment,
                template="enrollment/email/graduatoria.txt",
                subject=gettext_noop("Graduatoria pubblicata: iscrizione n. %(reference)s"),
                subject_params={"reference": enrollment.reference},
                purpose="graduatoria_published",
                context={"entry": by_enrollment[enrollment.pk]},
            )
        grad.status, grad.published_at, grad.published_by = Graduatoria.Status.PUBBLICATA, now, by
        grad.save(update_fields=["status", "published_at", "published_by"])
        admitted = sum(1 for e in changed if e.waiting_position is None)
        audit_record(
            action="graduatoria.published",
            actor=by,
            obj=grad,
            message=f"Graduatoria di {service} pubblicata: {admitted} ammessi, {position} in lista d'attesa",
            data={"admitted": admitted, "waiting": position},
            request=request,
        )
    return grad
