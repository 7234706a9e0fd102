"""Reads of the back office: the filtered enrollment list, dashboard counts,
waiting lists, history of an enrollment and the staff accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.models import AuditEntry
from enrollment.definitions import service_definition
from enrollment.models import HOLDS_PLACE, Enrollment, Graduatoria, GraduatoriaEntry, Guardian, Pupil, Service
from enrollment.selectors import enrollment_answers
from identity.models import Account
from tenants.config import ROME
from tenants.service_definition import Question

Status = Enrollment.Status
REFERENCE_RE = re.compile(r"^\d{4}-\d{1,6}$")
CF_RE = re.compile(r"^[A-Z0-9]{16}$")

# Sort keys offered in the list; the primary key breaks ties so pages are stable.
ORDERINGS: dict[str, tuple[str, ...]] = {
    "recenti": ("-submitted_at", "-id"),
    "meno_recenti": ("submitted_at", "id"),
    "alunno": ("pupil__last_name", "pupil__first_name", "id"),
    "riferimento": ("reference",),
    "stato": ("status", "-submitted_at", "-id"),
}


@dataclass(frozen=True)
class EnrollmentFilters:
    service: Service | None = None
    school_year: str = ""
    status: str = ""
    kind: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    ordering: str = "recenti"
    via_sportello: bool | None = None
    # (question id, answer) pairs for choice, choices and boolean questions of `service`.
    answers: tuple[tuple[str, Any], ...] = ()


def school_years() -> list[str]:
    return list(Service.objects.order_by("-school_year").values_list("school_year", flat=True).distinct())


def _search(qs: QuerySet[Enrollment], q: str) -> QuerySet[Enrollment]:
    """Reference and codice fiscale match exactly (indexed); anything else is a
    name prefix of pupil or guardian, word by word."""
    q = q.strip()
    if not q:
        return qs
    upper = q.upper()
    if REFERENCE_RE.match(q):
        year, number = q.split("-")
        return qs.filter(reference=f"{year}-{int(number):06d}")
    if CF_RE.match(upper) and any(c.isdigit() for c in upper):
        return qs.filter(Q(pupil__codice_fiscale=upper) | Q(guardian__codice_fiscale=upper))
    for word in q.split():
        # Two indexed subqueries (UPPER(name) LIKE 'WORD%') instead of an OR
        # across joins, which would scan every pupil and guardian.
        name = Q(last_name__istartswith=word) | Q(first_name__istartswith=word)
        qs = qs.filter(
            Q(pupil__in=Pupil.objects.filter(name).values("pk"))
            | Q(guardian__in=Guardian.objects.filter(name).values("pk"))
        )
    return qs


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ROME)


def filterable_questions(service: Service) -> list[Question]:
    """The service's questions staff may filter the list by: active yes/no and choice ones."""
    return [
        q
        for q in service_definition(service).questions
        if q.active and q.type in ("boolean", "choice", "choices")
    ]


def _by_answers(
    qs: QuerySet[Enrollment], service: Service, answers: tuple[tuple[str, Any], ...]
) -> QuerySet[Enrollment]:
    # Answers are stored as enrollment.answers.answers_to_json writes them: a
    # yes/no as JSON true/false, a choice as its option, choices as a list.
    kinds = {q.id: q.type for q in filterable_questions(service)}
    for question_id, value in answers:
        kind = kinds.get(question_id)
        if kind == "choices":
            qs = qs.filter(**{f"extra__{question_id}__contains": [value]})
        elif kind in ("choice", "boolean"):
            qs = qs.filter(**{f"extra__{question_id}": value})
    return qs


def enrollments_for_staff(*, filters: EnrollmentFilters) -> QuerySet[Enrollment]:
    """Submitted enrollments (drafts are the parent's and not yet sent to the
    office) matching the filters, with what the list and exports show."""
    qs = Enrollment.objects.exclude(status=Status.BOZZA).select_related("pupil", "guardian", "service")
    if filters.service is not None:
        qs = qs.filter(service=filters.service)
    if filters.school_year:
        qs = qs.filter(school_year=filters.school_year)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.via_sportello is not None:
        qs = qs.filter(via_sportello=filters.via_sportello)
    if filters.date_from:
        qs = qs.filter(submitted_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(submitted_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.service is not None:
        qs = _by_answers(qs, filters.service, filters.answers)
    qs = _search(qs, filters.q)
    return qs.order_by(*ORDERINGS.get(filters.ordering, ORDERINGS["recenti"]))


def enrollment_for_staff(*, pk: int) -> Enrollment | None:
    return (
        Enrollment.objects.exclude(status=Status.BOZZA)
        .select_related("pupil", "guardian", "guardian__account", "service", "created_by", "renewal_of")
        .filter(pk=pk)
        .first()
    )


def enrollment_history(*, enrollment: Enrollment) -> QuerySet[AuditEntry]:
    """What happened to the enrollment; who merely opened it is in the activity log."""
    return (
        AuditEntry.objects.filter(object_type=Enrollment._meta.label_lower, object_id=str(enrollment.pk))
        .exclude(action="enrollment.viewed")
        .order_by("at", "id")
    )


def domanda_siblings(*, enrollment: Enrollment) -> QuerySet[Enrollment]:
    """The other services requested in the same form."""
    return (
        Enrollment.objects.filter(domanda=enrollment.domanda)
        .exclude(pk=enrollment.pk)
        .select_related("service")
        .order_by("service__name")
    )


def places_taken(*, service: Service) -> int:
    return Enrollment.objects.filter(
        service=service, status__in=HOLDS_PLACE, waiting_position__isnull=True
    ).count()


def confirmed_count(*, service: Service) -> int:
    return Enrollment.objects.filter(service=service, status=Status.CONFERMATA).count()


def waiting_list_for_staff(*, service: Service) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(service=service, status=Status.INVIATA, waiting_position__isnull=False)
        .select_related("pupil", "guardian")
        .order_by("waiting_position", "id")
    )


@dataclass
class ServiceCounts:
    service: Service
    by_status: dict[str, int]
    places_taken: int
    waiting: int

    @property
    def places_left(self) -> int | None:
        if self.service.capacity is None:
            return None
        return max(self.service.capacity - self.places_taken, 0)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def dashboard_counts(*, school_year: str) -> list[ServiceCounts]:
    """Counts by status, places taken and waiting list per service of the year,
    in two grouped queries whatever the number of enrollments."""
    services = list(Service.objects.filter(school_year=school_year).order_by("name"))
    rows = (
        Enrollment.objects.filter(school_year=school_year)
        .exclude(status=Status.BOZZA)
        .values("service_id", "status")
        .annotate(
            n=Count("id"),
            waiting=Count("id", filter=Q(waiting_position__isnull=False)),
        )
    )
    out = {s.pk: ServiceCounts(service=s, by_status={st: 0 for st in Status.values if st != Status.BOZZA},
                               places_taken=0, waiting=0) for s in services}  # fmt: skip
    for row in rows:
        counts = out.get(row["service_id"])
        if counts is None:
            continue
        counts.by_status[row["status"]] = row["n"]
        if row["status"] in HOLDS_PLACE:
            counts.places_taken += row["n"] - row["waiting"]
        if row["status"] == Status.INVIATA:
            counts.waiting += row["waiting"]
    return list(out.values())


def submissions_per_day(*, school_year: str, days: int = 30) -> list[tuple[date, int]]:
    """Enrollments submitted per day over the last `days` days (comune's time)."""
    since = timezone.localdate(timezone=ROME) - timedelta(days=days - 1)
    rows = dict(
        Enrollment.objects.filter(school_year=school_year, submitted_at__gte=_day_start(since))
        .annotate(day=TruncDate("submitted_at", tzinfo=ROME))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return [(since + timedelta(days=i), rows.get(since + timedelta(days=i), 0)) for i in range(days)]


def staff_accounts() -> QuerySet[Account]:
    return (
        Account.objects.filter(kind=Account.Kind.STAFF)
        .prefetch_related("groups")
        .order_by("-is_active", "last_name", "first_name", "username")
    )


def services_for_staff() -> QuerySet[Service]:
    return Service.objects.order_by("-school_year", "name")


def audit_for_staff(*, limit: int = 200) -> Any:
    return AuditEntry.objects.order_by("-at", "-id")[:limit]


def ranked_services() -> list[tuple[Service, Graduatoria | None]]:
    """Services with graduatoria criteria, newest year first, with their graduatoria (or None)."""
    by_service = {g.service_id: g for g in Graduatoria.objects.all()}
    return [
        (s, by_service.get(s.pk))
        for s in Service.objects.order_by("-school_year", "name")
        if service_definition(s).ranking is not None
    ]


def graduatoria_entries(*, service: Service) -> QuerySet[GraduatoriaEntry]:
    """The rows of the service's graduatoria in rank order, with the request and its pupil."""
    return (
        GraduatoriaEntry.objects.filter(graduatoria__service=service)
        .select_related("enrollment", "enrollment__pupil")
        .order_by("rank")
    )


@dataclass(frozen=True)
class AnswerRow:
    question_id: str
    label: str
    value: str
    # The question is no longer asked (deactivated, or gone from the definition).
    retired: bool = False


def answer_text(value: Any) -> str:
    """An answer as staff read it: sì/no, dates gg/mm/aaaa, Italian decimals, lists joined."""
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, list | tuple):
        return ", ".join(answer_text(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("filename") or value)
    return "" if value is None else str(value)


def answers_for_staff(*, enrollment: Enrollment) -> list[AnswerRow]:
    """Every answer of the enrollment with its question's label, in the definition's order;
    answers to questions the definition no longer has come last, under their id."""
    questions = service_definition(enrollment.service).questions
    values = enrollment_answers(enrollment=enrollment)
    rows = [
        AnswerRow(question_id=q.id, label=q.label, value=answer_text(values[q.id]), retired=not q.active)
        for q in questions
        if q.id in values
    ]
    known = {q.id for q in questions}
    rows += [
        AnswerRow(question_id=k, label=k, value=answer_text(v), retired=True)
        for k, v in values.items()
        if k not in known
    ]
    return rows
