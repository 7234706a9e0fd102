"""Reads on the catalogue and enrollments of the current comune."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.core.cache import caches
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from enrollment.answers import answers_from_json
from enrollment.definitions import service_definition, service_definitions_share
from enrollment.fees import euro, fee_for
from enrollment.models import Enrollment, Guardian, Pupil, Service, Upload
from enrollment.rules import is_cf_account
from enrollment.uploads import archive_name, uploads_by_id, uploads_of_family
from identity.models import Account
from tenants.models import Comune
from tenants.selectors import comune_current as comune_current

# The per-process cache (settings.CACHES) for what is a pure function of a
# version stored in the database: never for state that must be shared.
LOCAL_CACHE = "local"
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)

# Statuses of an item that has been sent to the office.
SENT = (Enrollment.Status.INVIATA, Enrollment.Status.CONFERMATA, Enrollment.Status.RESPINTA)


def services_catalogue() -> QuerySet[Service]:
    return Service.objects.order_by("-school_year", "name")


def services_on_offer(*, at: datetime | None = None) -> QuerySet[Service]:
    """Services whose enrollment window is open or still to come (portal home)."""
    return Service.objects.filter(closes_at__gt=at or timezone.now()).order_by(
        "-school_year", "opens_at", "name"
    )


@dataclass(frozen=True)
class CatalogueOnOffer:
    """The services the portal home lists, and until when that list and its badges hold.

    For display only: the cache follows the fields in enrollment.signals.SHOWN_FIELDS.
    """

    services: list[Service]
    valid_from: datetime
    valid_until: datetime | None
    catalogue_version: str

    @property
    def key(self) -> str:
        """Names this content for a fragment cache (the schema is added by the cache's key function)."""
        until = self.valid_until.timestamp() if self.valid_until else "-"
        return f"{self.catalogue_version}:{until}"


def catalogue_on_offer(*, comune: Comune, at: datetime) -> CatalogueOnOffer:
    """`services_on_offer` for the home, from this process's cache while it holds.

    Cached under the comune's catalogue version (a new one with every change of
    a service, committed in the database: enrollment.signals) and only until the
    next opening or closing of a listed window, after which the list or a badge
    changes. The cache key function prefixes the schema name.
    """
    key = f"catalogue-on-offer:{comune.catalogue_version}"
    local = caches[LOCAL_CACHE]
    cached: CatalogueOnOffer | None = local.get(key)
    if cached is not None and cached.valid_from <= at and at < (cached.valid_until or _END_OF_TIME):
        return cached
    services = list(services_on_offer(at=at))
    boundaries = [t for s in services for t in (s.opens_at, s.closes_at) if t > at]
    fresh = CatalogueOnOffer(
        services=services,
        valid_from=at,
        valid_until=min(boundaries, default=None),
        catalogue_version=comune.catalogue_version,
    )
    local.set(key, fresh, timeout=None)
    return fresh


def services_open_for_new() -> QuerySet[Service]:
    now = timezone.now()
    return Service.objects.filter(new_enrollments=True, opens_at__lte=now, closes_at__gt=now).order_by("name")


def guardian_for_account(*, account: Account) -> Guardian | None:
    return Guardian.objects.filter(account=account).first()


def pupil_cf_locked(*, account: Account, guardian: Guardian | None, pupil: Pupil | None = None) -> bool:
    """Whether the form fixes the pupil's codice fiscale to the account's.

    Only a "Sono un nuovo iscritto" account, whose codice fiscale is the
    pupil's: for its first pupil (a new form) or for that pupil's own forms.
    Brothers and sisters added later, and every other parent, type it.
    """
    if not is_cf_account(account):
        return False
    if pupil is not None:
        return pupil.codice_fiscale == account.codice_fiscale
    return not (guardian and guardian.pupils.filter(codice_fiscale=account.codice_fiscale).exists())


def enrollments_for_guardian(*, guardian: Guardian) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(guardian=guardian)
        .select_related("pupil", "service")
        .order_by("-school_year", "pupil__last_name", "pupil__first_name", "service__name")
    )


def pupils_for_guardian(*, guardian: Guardian) -> QuerySet[Pupil]:
    return Pupil.objects.filter(guardian=guardian).order_by("last_name", "first_name")


def domanda_enrollments(*, domanda: uuid.UUID, guardian: Guardian) -> QuerySet[Enrollment]:
    """The rows of one form, only if they belong to `guardian`."""
    return (
        Enrollment.objects.filter(domanda=domanda, guardian=guardian)
        .select_related("pupil", "service", "guardian")
        .order_by("service__name", "pk")
    )


def domanda_version(rows: list[Enrollment]) -> str:
    """Changes whenever any item, the pupil or the guardian of the form changes (the API's ETag)."""
    first = rows[0]
    parts = [f"{e.pk}:{e.status}:{e.updated_at.isoformat()}" for e in sorted(rows, key=lambda e: e.pk)]
    parts.append(f"p{first.pupil.pk}:{first.pupil.updated_at.isoformat()}")
    parts.append(f"g{first.guardian.pk}:{first.guardian.updated_at.isoformat()}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class DomandaState:
    """What the parent may do with one form (domanda): the web pages and the API ask here.

    `rows` are all its items, withdrawn ones too; `live` the items that
    count (those not withdrawn, or all of them once all are withdrawn).
    """

    domanda: uuid.UUID
    rows: list[Enrollment]
    live: list[Enrollment]
    # The parent may still change the data (until staff act).
    editable: bool
    # Every live item is still a draft (bozza).
    draft: bool
    # "Salva Bozza" is offered: only for a new enrollment not yet submitted.
    can_draft: bool
    # Every live item has been sent (inviata, or already decided).
    submitted: bool
    # The pupil's codice fiscale is the account's and cannot change.
    lock_pupil_cf: bool
    version: str

    @property
    def first(self) -> Enrollment:
        return self.live[0]

    def services_offered(self) -> QuerySet[Service] | None:
        """The services the form lets the parent choose; None when they are fixed."""
        return services_open_for_new() if self.can_draft else None


def domanda_state_of(*, rows: list[Enrollment], account: Account) -> DomandaState:
    """The state of the form made of `rows` (not empty, one domanda) for `account`."""
    live = [e for e in rows if e.status != Enrollment.Status.ANNULLATA] or rows
    first = live[0]
    editable = first.status != Enrollment.Status.ANNULLATA and all(e.is_editable for e in live)
    draft = all(e.status == Enrollment.Status.BOZZA for e in live)
    return DomandaState(
        domanda=first.domanda,
        rows=rows,
        live=live,
        editable=editable,
        draft=draft,
        can_draft=draft and first.kind == Enrollment.Kind.NUOVA,
        submitted=all(e.status in SENT for e in live),
        lock_pupil_cf=pupil_cf_locked(account=account, guardian=first.guardian, pupil=first.pupil),
        version=domanda_version(rows),
    )


def domanda_state(*, account: Account, domanda: uuid.UUID) -> DomandaState | None:
    """The state of one of the account's forms; None when it has no such form."""
    guardian = guardian_for_account(account=account)
    rows = list(domanda_enrollments(domanda=domanda, guardian=guardian)) if guardian else []
    return domanda_state_of(rows=rows, account=account) if rows else None


def previous_school_year(school_year: str) -> str:
    first = int(school_year[:4])
    return f"{first - 1}/{first}"


def next_school_year(school_year: str) -> str:
    first = int(school_year[:4])
    return f"{first + 1}/{first + 2}"


def renewal_target(*, enrollment: Enrollment) -> Service | None:
    """This year's open service that renews `enrollment`, if renewals are accepted."""
    if enrollment.status != Enrollment.Status.CONFERMATA:
        return None
    now = timezone.now()
    return Service.objects.filter(
        code=enrollment.service.code,
        school_year=next_school_year(enrollment.school_year),
        renewals=True,
        opens_at__lte=now,
        closes_at__gt=now,
    ).first()


def renewals_available(*, guardian: Guardian) -> list[tuple[Enrollment, Service]]:
    """Last year's confirmed enrollments of the guardian's pupils that can be renewed now.

    "Last year" is the school year before the open service's; a pupil already
    enrolled (or with a form in progress) in that service is left out.
    """
    previous = (
        Enrollment.objects.filter(guardian=guardian, status=Enrollment.Status.CONFERMATA)
        .select_related("pupil", "service")
        .order_by("pupil__last_name", "pupil__first_name", "service__name")
    )
    taken = set(
        Enrollment.objects.filter(guardian=guardian)
        .exclude(status=Enrollment.Status.ANNULLATA)
        .values_list("pupil_id", "service_id")
    )
    out = []
    for enrollment in previous:
        target = renewal_target(enrollment=enrollment)
        if target is not None and (enrollment.pupil_id, target.pk) not in taken:
            out.append((enrollment, target))
    return out


def enrollment_for_account(*, account: Account, pk: int) -> Enrollment | None:
    return (
        Enrollment.objects.filter(Q(guardian__account=account), pk=pk)
        .select_related("pupil", "service", "guardian")
        .first()
    )


def waiting_list(*, service: Service) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(
        service=service, status=Enrollment.Status.INVIATA, waiting_position__isnull=False
    ).order_by("waiting_position")


def guardian_by_code(*, code: str) -> Guardian | None:
    """A family by the guardian's codice fiscale, or its account's codice utente / username."""
    code = code.strip()
    return (
        Guardian.objects.filter(
            Q(codice_fiscale__iexact=code)
            | Q(account__username__iexact=code)
            | Q(account__codice_utente__iexact=code)
        )
        .select_related("account")
        .first()
    )


def guardian_personal_data(*, guardian: Guardian) -> dict[str, Any]:
    """Everything the comune holds about a family (art. 15/20 GDPR), as plain JSON values."""
    from identity.models import EmailVerification

    def row(obj: Model, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
        return {
            f.attname: _plain(getattr(obj, f.attname))
            for f in obj._meta.concrete_fields
            if f.attname not in exclude
        }

    account = guardian.account
    return {
        "genitore": row(guardian),
        "account": row(account, exclude=("password",)) if account else None,
        "verifiche_email": [
            row(v, exclude=("code_hash",)) for v in EmailVerification.objects.filter(account=account)
        ]
        if account
        else [],
        "alunni": [row(p) for p in guardian.pupils.order_by("pk")],
        "iscrizioni": [
            row(e) | {"servizio": e.service.name}
            for e in guardian.enrollments.select_related("service").order_by("pk")
        ],
        "consensi_privacy": [row(c) for c in guardian.consents.order_by("pk")],
        # The files themselves travel beside the data (enrollment.gdpr.FamilyExport.archive).
        "allegati": [row(u) | {"file": archive_name(u)} for u in uploads_of_family(guardian=guardian)],
        "registro": [row(a) for a in family_audit_entries(guardian=guardian).order_by("pk")],
    }


def family_audit_query(*, guardian: Guardian) -> Q:
    """The audit entries about a family: done by its account or on one of its records."""
    query = Q(object_type=Guardian._meta.label_lower, object_id=str(guardian.pk))
    for model, ids in (
        (Pupil, guardian.pupils.values_list("pk", flat=True)),
        (Enrollment, guardian.enrollments.values_list("pk", flat=True)),
    ):
        query |= Q(object_type=model._meta.label_lower, object_id__in=[str(pk) for pk in ids])
    if guardian.account_id:
        query |= Q(actor_id=guardian.account_id)
        query |= Q(object_type=Account._meta.label_lower, object_id=str(guardian.account_id))
    return query


def family_audit_entries(*, guardian: Guardian) -> QuerySet[Any]:
    from core.models import AuditEntry

    return AuditEntry.objects.filter(family_audit_query(guardian=guardian))


def _plain(value: Any) -> Any:
    if isinstance(value, (date, uuid.UUID)):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


def enrollment_answers(*, enrollment: Enrollment) -> dict[str, Any]:
    """The enrollment's answers as Python values (dates, Decimals), by question id."""
    questions = service_definition(enrollment.service).questions
    return answers_from_json(questions=questions, data=enrollment.extra or {})


def enrollment_fee(*, enrollment: Enrollment) -> Decimal | None:
    """The enrollment's annual fee from its service's definition, or None if free.

    The sibling discount goes to the family's second child onwards in the
    same service: children are counted in the order their requests were
    first saved, among the guardian's requests that are not withdrawn or
    rejected.
    """
    return enrollment_fees(enrollments=[enrollment])[enrollment.pk]


def enrollment_fees(*, enrollments: Sequence[Enrollment]) -> dict[int, Decimal | None]:
    """`enrollment_fee` of each enrollment, by id, the families' requests read in one query."""
    service_definitions_share(e.service for e in enrollments)
    charged = [e for e in enrollments if service_definition(e.service).fees is not None]
    fees: dict[int, Decimal | None] = {e.pk: None for e in enrollments}
    if not charged:
        return fees
    # Every counted request of the families and services involved (a superset: filtered below).
    requests: dict[tuple[int, int], list[tuple[tuple[datetime, int], int]]] = {}
    for guardian_id, service_id, first_saved_at, pk, pupil_id in (
        Enrollment.objects.filter(
            guardian_id__in={e.guardian_id for e in charged}, service_id__in={e.service_id for e in charged}
        )
        .exclude(status__in=(Enrollment.Status.ANNULLATA, Enrollment.Status.RESPINTA))
        .values_list("guardian_id", "service_id", "first_saved_at", "id", "pupil_id")
    ):
        requests.setdefault((guardian_id, service_id), []).append(((first_saved_at, pk), pupil_id))
    for e in charged:
        mine = (e.first_saved_at, e.pk)
        earlier = {
            pupil_id
            for saved, pupil_id in requests.get((e.guardian_id, e.service_id), [])
            if saved < mine and pupil_id != e.pupil_id
        }
        fees[e.pk] = fee_for(
            fees=service_definition(e.service).fees,
            answers=enrollment_answers(enrollment=e),
            sibling_index=len(earlier),
        )
    return fees


@dataclass(frozen=True)
class AnswerRow:
    """One answer as the riepilogo shows it: the question's label and the answer in words.

    `retired`: answered under an earlier version of the definition, the
    question is no longer asked; the answer is shown, never dropped.
    """

    question_id: str
    label: str
    text: str
    retired: bool = False
    upload: Upload | None = None


def _answer_text(value: Any) -> str:
    if isinstance(value, bool):
        return gettext("Sì") if value else gettext("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return str(value).replace(".", ",")
    return str(value)


def enrollment_answer_rows(*, enrollment: Enrollment) -> list[AnswerRow]:
    """The enrollment's answers in the order of the current questions, then those no longer asked."""
    questions = service_definition(enrollment.service).questions
    values = enrollment_answers(enrollment=enrollment)
    files = uploads_by_id([str(values[q.id]) for q in questions if q.type == "file" and q.id in values])
    rows = []
    for q in questions:
        if q.id not in values:
            continue
        if q.type == "file":
            upload = files.get(str(values[q.id]))
            text = upload.name if upload else gettext("file non disponibile")
            rows.append(AnswerRow(q.id, q.label, text, upload=upload))
        else:
            rows.append(AnswerRow(q.id, q.label, _answer_text(values[q.id])))
    asked = {q.id for q in questions}
    for qid, value in values.items():
        if qid not in asked:
            rows.append(AnswerRow(qid, qid.replace("_", " ").capitalize(), _answer_text(value), retired=True))
    return rows


def enrollments_with_answers(rows: list[Enrollment]) -> list[Enrollment]:
    """The rows with `answer_rows` and `fee_text` (the annual fee in euro, or "") for templates."""
    for e in rows:
        e.answer_rows = enrollment_answer_rows(enrollment=e)  # type: ignore[attr-defined]
        fee = enrollment_fee(enrollment=e)
        e.fee_text = euro(fee) if fee is not None else ""  # type: ignore[attr-defined]
    return rows


def service_by_code(*, code: str, school_year: str) -> Service | None:
    return Service.objects.filter(code=code, school_year=school_year).first()


@dataclass(frozen=True)
class ServiceCard:
    """What the public service page says, derived from the service's definition."""

    schools: list[str]
    residents_points: Decimal | None
    ranked: bool
    documents: list[str]
    fee_lines: list[str]
    discount: str
    free: bool


def service_card(*, service: Service) -> ServiceCard:
    definition = service_definition(service)
    labels = dict(Pupil.School.choices)
    schools = [gettext(labels[s]) for s in (definition.schools or [])]
    residents = None
    if definition.ranking is not None:
        residents = next((c.points for c in definition.ranking.criteria if c.source == "residency"), None)
    documents = list(definition.documents)
    documents += [q.label for q in definition.questions if q.type == "file" and q.label not in documents]
    fee_lines: list[str] = []
    discount = ""
    fees = definition.fees
    if fees is not None:
        if fees.kind == "flat" and fees.amount is not None:
            fee_lines.append(gettext("Quota annuale: %(amount)s") % {"amount": euro(fees.amount)})
        else:
            previous = None
            for band in fees.bands:
                amount = euro(band.amount) if band.amount is not None else ""
                if band.up_to is not None:
                    fee_lines.append(
                        gettext("ISEE fino a %(limit)s: %(amount)s")
                        % {"limit": euro(band.up_to), "amount": amount}
                    )
                    previous = band.up_to
                elif previous is not None:
                    fee_lines.append(
                        gettext("ISEE oltre %(limit)s o non dichiarato: %(amount)s")
                        % {"limit": euro(previous), "amount": amount}
                    )
                else:
                    fee_lines.append(gettext("Quota annuale: %(amount)s") % {"amount": amount})
        if fees.sibling_discount_percent:
            percent = format(fees.sibling_discount_percent.normalize(), "f").replace(".", ",")
            discount = gettext(
                "Dal secondo figlio iscritto al servizio la quota è ridotta del %(percent)s%%."
            ) % {"percent": percent}
    return ServiceCard(
        schools=schools,
        residents_points=residents,
        ranked=definition.ranking is not None,
        documents=documents,
        fee_lines=fee_lines,
        discount=discount,
        free=fees is None and not service.fee_note,
    )
