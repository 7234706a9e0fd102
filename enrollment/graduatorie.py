"""The stored graduatoria of a service: computing it, and reading a request's place.

`enrollment.ranking.rank` holds the pure rules; this module turns a
service's submitted requests into `RankingRequest`s (answers, residency,
siblings, staff adjustments), stores what it returns (`Graduatoria`,
`GraduatoriaEntry`) and tells the parents' pages where a request stands.
The staff's adjustments and the publication are in
`enrollment.backoffice.graduatoria`, which builds on this module.

Residency: the guardian's "comune di residenza", as the request was
submitted with it, equals the comune's name (compared without case, accents,
apostrophes or repeated spaces: "Romano di Lombardia" = "ROMANO DI LOMBARDIA").
Siblings: another child of the same guardian whose request in the same
service is confirmed, or whose request in the same service (same code) of
the previous school year was confirmed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from core.services import audit_record
from enrollment.answers import answers_from_json
from enrollment.definitions import service_definition
from enrollment.errors import EnrollmentError
from enrollment.models import HOLDS_PLACE, Enrollment, Graduatoria, GraduatoriaEntry, Service
from enrollment.ranking import RankingRequest, rank
from enrollment.selectors import comune_current, previous_school_year
from tenants.service_definition import Criterion

Status = Enrollment.Status


def place_name(value: str) -> str:
    """A place name as compared for residency: no case, accents, apostrophes or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    for mark in ("'", "\u2019", "`"):
        plain = plain.replace(mark, " ")
    return " ".join(plain.casefold().split())


def service_is_ranked(service: Service) -> bool:
    """The service fills its places by graduatoria: it has criteria and a capacity."""
    return service.capacity is not None and service_definition(service).ranking is not None


def placement_pending(service: Service) -> bool:
    """Places of a ranked service are given only when its graduatoria is published."""
    return (
        service_is_ranked(service)
        and not Graduatoria.objects.filter(service=service, status=Graduatoria.Status.PUBBLICATA).exists()
    )


def active_criteria(service: Service) -> list[Criterion]:
    ranking = service_definition(service).ranking
    return [c for c in ranking.criteria if c.active] if ranking else []


def _siblings(rows: Sequence[Enrollment], service: Service) -> set[int]:
    """Ids of the rows whose guardian has another child confirmed in the service (or last year's)."""
    guardians = {e.guardian_id for e in rows}
    confirmed = Enrollment.objects.filter(guardian_id__in=guardians, status=Status.CONFERMATA).filter(
        Q(service=service)
        | Q(service__code=service.code, school_year=previous_school_year(service.school_year))
    )
    by_guardian: dict[int, set[int]] = {}
    for guardian_id, pupil_id in confirmed.values_list("guardian_id", "pupil_id"):
        by_guardian.setdefault(guardian_id, set()).add(pupil_id)
    return {e.pk for e in rows if by_guardian.get(e.guardian_id, set()) - {e.pupil_id}}


def _requests(service: Service, rows: Sequence[Enrollment], adjustments: dict[int, Decimal]) -> list[Any]:
    questions = service_definition(service).questions
    home = place_name(comune_current().name)
    with_sibling = _siblings(rows, service)
    return [
        RankingRequest(
            id=e.pk,
            answers=answers_from_json(questions=questions, data=e.extra or {}),
            resident=place_name(e.guardian_shown.city) == home,
            has_sibling=e.pk in with_sibling,
            submitted_at=e.submitted_at or e.first_saved_at,
            birth_date=e.pupil.birth_date,
            adjustment=adjustments.get(e.pk, Decimal(0)),
        )
        for e in rows
    ]


def graduatoria_rank(*, service: Service, by: Any = None, request: HttpRequest | None = None) -> Graduatoria:
    """Compute (or compute again) the service's draft graduatoria; adjustments are kept.

    Every submitted request that holds or waits for a place (inviata,
    confermata) is ranked. Refused once the graduatoria is published.
    """
    definition = service_definition(service)
    if definition.ranking is None:
        raise EnrollmentError(
            f"{service.name} {service.school_year} non prevede una graduatoria.", code="no_ranking"
        )
    with transaction.atomic():
        # The service row lock orders this with submissions, publication and other computations.
        service = Service.objects.select_for_update().get(pk=service.pk)
        grad = Graduatoria.objects.filter(service=service).first()
        if grad is not None and grad.is_published:
            raise EnrollmentError(
                f"La graduatoria di {service.name} {service.school_year} è già pubblicata: "
                "non può essere ricalcolata.",
                code="graduatoria_published",
            )
        kept = {
            e.enrollment_id: (e.adjustment, e.adjustment_reason) for e in (grad.entries.all() if grad else [])
        }
        rows = list(
            Enrollment.objects.filter(service=service, status__in=HOLDS_PLACE).select_related(
                "pupil", "guardian"
            )
        )
        ranked = rank(
            criteria=active_criteria(service),
            tie_break=definition.ranking.tie_break,
            requests=_requests(service, rows, {pk: adj for pk, (adj, _) in kept.items()}),
        )
        now = timezone.now()
        if grad is None:
            grad = Graduatoria.objects.create(
                service=service, computed_at=now, definition_version=service.definition_version
            )
        else:
            grad.computed_at, grad.definition_version = now, service.definition_version
            grad.save(update_fields=["computed_at", "definition_version"])
            grad.entries.all().delete()
        GraduatoriaEntry.objects.bulk_create(
            GraduatoriaEntry(
                graduatoria=grad,
                enrollment_id=r.request.id,
                points={cid: str(p) for cid, p in r.points.items()},
                adjustment=r.request.adjustment,
                adjustment_reason=kept.get(r.request.id, (0, ""))[1],
                total=r.total,
                rank=r.rank,
            )
            for r in ranked
        )
        audit_record(
            action="graduatoria.computed",
            actor=by,
            actor_label="" if by is not None else "sistema (chiusura delle iscrizioni)",
            obj=grad,
            message=f"Graduatoria di {service} calcolata: {len(ranked)} richieste",
            data={"requests": len(ranked), "definition_version": service.definition_version},
            request=request,
        )
    return grad


def graduatorie_due(*, at: Any = None) -> list[Service]:
    """Ranked services whose window has closed and whose graduatoria was not computed since."""
    at = at or timezone.now()
    closed = Service.objects.filter(closes_at__lte=at, capacity__isnull=False).select_related("graduatoria")
    due = []
    for service in closed:
        grad = getattr(service, "graduatoria", None)
        if service_definition(service).ranking is None:
            continue
        if grad is None or (not grad.is_published and grad.computed_at < service.closes_at):
            due.append(service)
    return due


# Parents' status --------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionPoints:
    label: str
    points: Decimal


@dataclass(frozen=True)
class GraduatoriaStatus:
    """Where one request stands in its service's graduatoria, for the parent."""

    computed: bool
    published: bool
    rank: int | None = None
    total: Decimal | None = None
    points: tuple[CriterionPoints, ...] = ()
    adjustment: Decimal = Decimal(0)
    adjustment_reason: str = ""
    admitted: bool = False
    waiting_position: int | None = None


def graduatoria_status(*, enrollment: Enrollment) -> GraduatoriaStatus | None:
    """The request's points and position, or None when its service has no graduatoria."""
    if enrollment.status not in HOLDS_PLACE or not service_is_ranked(enrollment.service):
        return None
    entry = GraduatoriaEntry.objects.filter(enrollment=enrollment).select_related("graduatoria").first()
    if entry is None:
        return GraduatoriaStatus(computed=False, published=False)
    published = entry.graduatoria.is_published
    return GraduatoriaStatus(
        computed=True,
        published=published,
        rank=entry.rank,
        total=entry.total,
        points=tuple(
            CriterionPoints(label=c.label, points=Decimal(entry.points.get(c.id, "0")))
            for c in active_criteria(enrollment.service)
        ),
        adjustment=entry.adjustment,
        adjustment_reason=entry.adjustment_reason,
        admitted=published and enrollment.waiting_position is None,
        waiting_position=enrollment.waiting_position if published else None,
    )
