"""Writes on the catalogue and on enrollments of the current comune.

Every change of an enrollment goes through these functions, whether it comes
from a parent's page, the staff back office or the API: each checks the
transition, writes the audit log and queues its e-mails in the same
transaction (they are sent by the job queue after commit).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from core.languages import language_supported
from core.services import audit_record, emails_enqueue
from enrollment.answers import answers_clean
from enrollment.billing import debts_gate_check, enrollment_debt_cancel, enrollments_debt_open
from enrollment.catalogue import catalogue_sync_values
from enrollment.definitions import definition_json, service_definition
from enrollment.errors import EnrollmentError
from enrollment.families import consent_record, guardian_save, pupil_save
from enrollment.graduatorie import placement_pending
from enrollment.models import HOLDS_PLACE, Enrollment, Guardian, Pupil, Service, Upload
from enrollment.notifications import credentials_email, notify_outcome, receipt_email
from enrollment.selectors import (
    DomandaState,
    domanda_enrollments,
    domanda_state_of,
    guardian_for_account,
)
from enrollment.uploads import CheckedFile, upload_store, uploads_by_id
from identity.models import Account
from identity.services import temporary_password_ensure
from tenants.config import ROME, ServiceConfig

SYNCED_FIELDS = (
    "name",
    "description",
    "opens_at",
    "closes_at",
    "capacity",
    "fee_note",
    "new_enrollments",
    "renewals",
)
Status = Enrollment.Status
# Italian constants (also compared by callers); raised and shown through gettext.
READ_ONLY = gettext_noop("L'iscrizione è già stata esaminata dall'ufficio e non può più essere modificata.")
DOMANDA_CHANGED = gettext_noop(
    "L'iscrizione è stata modificata nel frattempo (da un altro dispositivo o dall'ufficio): "
    "rileggerla e riprovare."
)


def service_catalogue_sync(*, services: list[ServiceConfig]) -> list[str]:
    """Create or update the catalogue from the comune's config; never deletes.

    Returns one line per service created, changed, or whose staff-edited
    fields were kept: a field the office changed in the back office (window,
    capacity, fee note) is never overwritten by the YAML, and the report says
    so (enrollment.catalogue.catalogue_sync_values).
    """
    # Imported here: the back office builds on this module.

    changes: list[str] = []
    with transaction.atomic():
        existing = {(s.code, s.school_year): s for s in Service.objects.select_for_update()}
        for cfg in services:
            values = {f: getattr(cfg, f) for f in SYNCED_FIELDS}
            values["definition"] = definition_json(cfg.definition)
            values["definition_version"] = cfg.definition_version
            service = existing.get((cfg.code, cfg.school_year))
            if service is None:
                Service.objects.create(code=cfg.code, school_year=cfg.school_year, **values)
                changes.append(f"service {cfg.code} {cfg.school_year} created")
                continue
            apply, kept = catalogue_sync_values(service=service, values=values)
            changed = [f for f, v in apply.items() if getattr(service, f) != v]
            if changed:
                for f in changed:
                    setattr(service, f, apply[f])
                service.save()
                changes.append(f"service {cfg.code} {cfg.school_year} updated ({', '.join(changed)})")
            if kept:
                changes.append(
                    f"service {cfg.code} {cfg.school_year} kept staff values "
                    f"({', '.join(kept)}) over the YAML"
                )
    return changes


def _local(dt: Any) -> str:
    return timezone.localtime(dt, ROME).strftime("%d/%m/%Y %H:%M")


def window_message(service: Service) -> str:
    return gettext("Le iscrizioni a %(service)s %(year)s sono aperte dal %(opens)s al %(closes)s.") % {
        "service": service.name,
        "year": service.school_year,
        "opens": _local(service.opens_at),
        "closes": _local(service.closes_at),
    }


def reference_allocate(*, year: int) -> str:
    """The next reference number of `year` (`2025-000123`), race-free.

    One upsert statement increments the counter row under its row lock, so
    two concurrent requests can never get the same number.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO enrollment_referencecounter (year, last) VALUES (%s, 1) "
            "ON CONFLICT (year) DO UPDATE SET last = enrollment_referencecounter.last + 1 "
            "RETURNING last",
            [year],
        )
        (number,) = cursor.fetchone()
    return f"{year}-{number:06d}"


def service_accepts_check(*, service: Service, kind: str) -> None:
    """Refuse a new row of `kind` in `service` that the service does not accept now."""
    if kind == Enrollment.Kind.NUOVA and not service.new_enrollments:
        raise EnrollmentError(
            gettext("%(service)s %(year)s accetta solo rinnovi, non nuove iscrizioni.")
            % {"service": service.name, "year": service.school_year},
            code="service_closed",
        )
    if kind == Enrollment.Kind.RINNOVO and not service.renewals:
        raise EnrollmentError(
            gettext("%(service)s %(year)s non accetta rinnovi.")
            % {"service": service.name, "year": service.school_year},
            code="service_closed",
        )
    if not service.is_open():
        raise EnrollmentError(window_message(service), code="outside_window")


def domanda_save(
    *,
    account: Account,
    guardian_data: dict[str, Any],
    pupil_data: dict[str, Any],
    services: Sequence[Service],
    extra: dict[str, dict[str, str]] | None = None,
    consent: bool,
    domanda: uuid.UUID | None = None,
    kind: str = Enrollment.Kind.NUOVA,
    renewal_of: Enrollment | None = None,
    draft: bool = False,
    request: HttpRequest | None = None,
) -> list[Enrollment]:
    """Save one enrollment form: guardian, pupil and one enrollment per service.

    A new form (`domanda` None) creates `bozza` rows; an existing one is
    updated while the comune's rule allows it (until staff act). `draft`
    marks the parent's "Salva Bozza", which exists only for new enrollments.
    Every save, draft or not, mails a temporary password to a "Sono un nuovo
    iscritto" account that has none yet (identity's `temporary_password_ensure`).
    """
    extra = extra or {}
    if not consent:
        raise EnrollmentError(
            gettext("Per salvare l'iscrizione è necessario autorizzare il trattamento dei dati personali."),
            code="consent_required",
        )
    if not services:
        raise EnrollmentError(gettext("Scegli almeno un servizio."), code="service_required")
    if draft and kind != Enrollment.Kind.NUOVA:
        raise EnrollmentError(
            gettext("La funzionalità di salvataggio in bozza è attiva solo per le nuove iscrizioni."),
            code="draft_not_allowed",
        )
    now = timezone.now()
    with transaction.atomic():
        guardian = guardian_save(account=account, data=guardian_data, request=request)
        existing: list[Enrollment] = []
        if domanda is not None:
            existing = list(
                domanda_enrollments(domanda=domanda, guardian=guardian)
                .exclude(status=Status.ANNULLATA)
                .select_for_update(of=("self",))
            )
            if not existing:
                raise EnrollmentError("Iscrizione non trovata.", code="not_found")
            if not all(e.is_editable for e in existing):
                raise EnrollmentError(gettext(READ_ONLY), code="read_only")
            kind = existing[0].kind
        pupil = pupil_save(guardian=guardian, data=pupil_data, pupil=existing[0].pupil if existing else None)
        domanda = domanda or uuid.uuid4()
        by_service = {e.service_id: e for e in existing}
        wanted = {s.pk: s for s in services}
        submitted = any(e.status != Status.BOZZA for e in existing)
        if submitted and set(wanted) != set(by_service):
            raise EnrollmentError(
                gettext(
                    "Dopo l'invio non è possibile cambiare i servizi richiesti: annulla l'iscrizione e "
                    "presentane una nuova."
                ),
                code="services_fixed",
            )
        for service_id, dropped in by_service.items():
            if service_id not in wanted:
                audit_record(action="enrollment.draft_removed", actor=account, obj=dropped, request=request)
                dropped.delete()
        rows: list[Enrollment] = []
        for service in services:
            enrollment = by_service.get(service.pk)
            if enrollment is None:
                service_accepts_check(service=service, kind=kind)
                enrollment = enrollment_create(
                    pupil=pupil, guardian=guardian, service=service, domanda=domanda,
                    kind=kind, renewal_of=renewal_of, account=account, now=now,
                )  # fmt: skip
            enrollment.extra = answers_store(
                enrollment=enrollment, answers=extra.get(service.code, {}), account=account
            )
            enrollment.definition_version = service.definition_version
            enrollment.updated_at = now
            if enrollment.status != Status.BOZZA:
                # The parent edited this submitted form: it now carries the data just saved.
                enrollment.guardian_snapshot = guardian.snapshot()
            enrollment.save(update_fields=["extra", "definition_version", "updated_at", "guardian_snapshot"])
            audit_record(
                action="enrollment.saved",
                actor=account,
                obj=enrollment,
                message=f"{enrollment.reference} {'bozza' if draft else 'salvata'}",
                data={"domanda": str(domanda), "status": enrollment.status},
                request=request,
            )
            rows.append(enrollment)
        consent_record(account=account, guardian=guardian, domanda=domanda)
        # The family's data now exists: the codice fiscale alone must stop opening it.
        temporary_password_ensure(account=account)
    return rows


def answers_store(*, enrollment: Enrollment, answers: dict[str, Any], account: Any) -> dict[str, Any]:
    """The answers to keep on `enrollment`, its checked files stored as uploads.

    A file answer is the id of an upload: a new file is stored now; an id
    sent back must be one already on this enrollment, or one the same account
    uploaded and no enrollment holds yet (the API's uploads, a file carried
    across the form's steps). So no one can attach another family's file, and
    a file of one enrollment is never taken from it by another (a sibling's
    form naming its id): the family uploads it again. A submitted
    enrollment keeps its answers to questions the definition no longer asks
    (they were sent under the earlier version and are shown as such); a
    draft is re-validated against the current definition only.
    """
    definition = service_definition(enrollment.service)
    kept: dict[str, Any] = {}
    if enrollment.status != Status.BOZZA:
        # A question deactivated since is asked no more: its answer stays (answers_clean skips it).
        asked = {q.id for q in definition.questions if q.active}
        kept = {k: v for k, v in (enrollment.extra or {}).items() if k not in asked}
    files = {q.id for q in definition.questions if q.type == "file"}
    out: dict[str, Any] = {}
    for qid, value in answers.items():
        if value in (None, "", []):
            continue
        if isinstance(value, CheckedFile):
            out[qid] = str(
                upload_store(checked=value, account=account, enrollment=enrollment, question_id=qid).id
            )
            continue
        if qid in files:
            upload = uploads_by_id([str(value)]).get(str(value))
            if upload is None or not (
                upload.enrollment_id == enrollment.pk
                or (upload.enrollment_id is None and account is not None and upload.account_id == account.pk)
            ):
                raise EnrollmentError(
                    gettext(
                        "L'allegato indicato non esiste o non appartiene a questa iscrizione: "
                        "allega di nuovo il file."
                    ),
                    code="upload_unknown",
                )
            if upload.enrollment_id != enrollment.pk:
                upload.enrollment = enrollment
                upload.save(update_fields=["enrollment"])
        out[qid] = value
    stored = kept | out
    # A file replaced by a new one, or no longer asked for (its condition now
    # false), is no answer of this enrollment any more: the row goes, and its
    # file after the commit (enrollment.signals), so no one keeps a
    # certificate the family took back.
    named = {str(v) for v in stored.values() if isinstance(v, str)}
    for upload in Upload.objects.filter(enrollment=enrollment):
        if str(upload.id) not in named:
            upload.delete()
    return stored


def enrollment_create(
    *,
    pupil: Pupil,
    guardian: Guardian,
    service: Service,
    domanda: uuid.UUID,
    kind: str,
    renewal_of: Enrollment | None,
    account: Account,
    now: Any,
    via_sportello: bool = False,
) -> Enrollment:
    """A `bozza` row of `pupil` in `service` for the form `domanda`, created by `account`.

    Refused when the pupil already has a live one; a withdrawn one is brought back.
    """
    taken = Enrollment.objects.select_for_update().filter(pupil=pupil, service=service).first()
    if taken is not None and taken.status != Status.ANNULLATA:
        raise EnrollmentError(
            gettext("%(pupil)s ha già un'iscrizione a %(service)s %(year)s (n. %(reference)s).")
            % {
                "pupil": pupil.full_name,
                "service": service.name,
                "year": service.school_year,
                "reference": taken.reference,
            },
            code="duplicate",
        )
    if taken is not None:
        # A withdrawn enrollment is brought back into the new form: one row
        # per pupil, service and year, with its history in the audit log.
        taken.domanda, taken.kind, taken.renewal_of, taken.guardian = domanda, kind, renewal_of, guardian
        taken.status, taken.submitted_at, taken.decided_at = Status.BOZZA, None, None
        taken.waiting_position, taken.outcome_note, taken.guardian_snapshot = None, "", {}
        taken.save()
        return taken
    return Enrollment.objects.create(
        domanda=domanda,
        pupil=pupil,
        guardian=guardian,
        service=service,
        school_year=service.school_year,
        kind=kind,
        renewal_of=renewal_of,
        reference=reference_allocate(year=int(service.school_year[:4])),
        created_by=account,
        first_saved_at=now,
        updated_at=now,
        via_sportello=via_sportello,
    )


def _domanda_lock(*, account: Account, domanda: uuid.UUID, version: str) -> DomandaState:
    """The rows of the account's form, locked, if still at the `version` the caller
    read and decided on (the API's If-Match, the web page's own read)."""
    guardian = guardian_for_account(account=account)
    rows = (
        list(
            domanda_enrollments(domanda=domanda, guardian=guardian)
            .select_related("guardian__account")  # what a submission's mails read
            .select_for_update(of=("self",))
        )
        if guardian
        else []
    )
    if not rows:
        raise EnrollmentError("Iscrizione non trovata.", code="not_found")
    state = domanda_state_of(rows=rows, account=account)
    if state.version != version:
        raise EnrollmentError(gettext(DOMANDA_CHANGED), code="changed")
    return state


def domanda_check_edit(*, state: DomandaState, draft: bool) -> None:
    """Refuse a change to the form that its state does not allow."""
    if not state.editable:
        raise EnrollmentError(gettext(READ_ONLY), code="read_only")
    if draft and not state.can_draft:
        raise EnrollmentError(
            gettext(
                "La funzionalità di salvataggio in bozza è attiva solo per le nuove iscrizioni non ancora "
                "inviate."
            ),
            code="draft_not_allowed",
        )


def domanda_update(
    *,
    account: Account,
    domanda: uuid.UUID,
    version: str,
    guardian_data: dict[str, Any],
    pupil_data: dict[str, Any],
    services: Sequence[Service],
    extra: dict[str, dict[str, str]] | None = None,
    consent: bool,
    draft: bool = False,
    request: HttpRequest | None = None,
) -> list[Enrollment]:
    """Save the parent's changes to one of their forms, read at `version` (domanda_save's rules)."""
    with transaction.atomic():
        state = _domanda_lock(account=account, domanda=domanda, version=version)
        domanda_check_edit(state=state, draft=draft)
        return domanda_save(
            account=account,
            guardian_data=guardian_data,
            pupil_data=pupil_data,
            services=services,
            extra=extra,
            consent=consent,
            domanda=domanda,
            draft=draft,
            request=request,
        )


def domanda_submit(
    *, account: Account, domanda: uuid.UUID, version: str, request: HttpRequest | None = None
) -> DomandaState:
    """ "Invia Iscrizione" of one form read at `version`; a form already sent is refused.

    Returns the form's state after the submission, from the rows just written
    (the API answers with it without reading the form again).
    """
    with transaction.atomic():
        state = _domanda_lock(account=account, domanda=domanda, version=version)
        if state.submitted:
            raise EnrollmentError(gettext("L'iscrizione è già stata inviata."), code="already_submitted")
        written = {e.pk: e for e in _submit(enrollments=state.live, by=account, request=request, locked=True)}
    return domanda_state_of(rows=[written.get(e.pk, e) for e in state.rows], account=account)


def domanda_withdraw(
    *,
    account: Account,
    domanda: uuid.UUID,
    version: str,
    items: Sequence[int] | None = None,
    request: HttpRequest | None = None,
) -> list[Enrollment]:
    """Withdraw the given items (or all not yet withdrawn) of one form read at `version`."""
    with transaction.atomic():
        state = _domanda_lock(account=account, domanda=domanda, version=version)
        by_id = {e.pk: e for e in state.rows}
        if items is None:
            targets = [e for e in state.rows if e.status != Status.ANNULLATA]
        else:
            unknown = [pk for pk in items if pk not in by_id]
            if unknown:
                raise EnrollmentError(
                    f"Elementi non presenti in questa iscrizione: {unknown}.", code="unknown_items"
                )
            targets = [by_id[pk] for pk in items]
        if not targets:
            raise EnrollmentError(gettext("L'iscrizione è già stata annullata."), code="invalid_transition")
        return [enrollment_withdraw(enrollment=e, by=account, request=request) for e in targets]


def _lock(enrollments: Iterable[Enrollment]) -> list[Enrollment]:
    ids = sorted(e.pk for e in enrollments)
    return list(
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("service", "pupil", "guardian", "guardian__account")
        .filter(pk__in=ids)
        .order_by("pk")
    )


def _place_or_queue(enrollment: Enrollment) -> None:
    """Give the enrollment a place, or the next waiting-list position when full.

    The caller holds the lock on the Service row, so counting and taking the
    place are one step for concurrent submissions.
    """
    service = enrollment.service
    if service.capacity is None:
        return
    if placement_pending(service):
        # A ranked service gives places at the graduatoria's publication, not in submission order.
        enrollment.waiting_position = None
        return
    # The enrollment itself is still `bozza` in the database, so it is not counted.
    taken, last = service_places(service)
    # A place only when one is free and nobody waits for it: a place freed by a withdrawal is the
    # first in line's (waiting_list_promote), not the next family's to submit.
    if taken < service.capacity and last is None:
        enrollment.waiting_position = None
        return
    enrollment.waiting_position = (last or 0) + 1


def service_places(service: Service, *, excluding: int | None = None) -> tuple[int, int | None]:
    """(places taken, last waiting-list position) of `service`, the caller holding its row lock.

    One round trip: both together, from the index alone (enrollment_service_places).
    `excluding`: a row already in the table that is being placed again (a reopened one).
    """
    rows = Enrollment.objects.filter(service=service, status__in=HOLDS_PLACE)
    if excluding is not None:
        rows = rows.exclude(pk=excluding)
    counts = rows.aggregate(
        taken=Count("status", filter=Q(waiting_position__isnull=True)),  # a column of the index
        last=Max("waiting_position", filter=Q(status=Status.INVIATA)),
    )
    return counts["taken"], counts["last"]


def enrollments_submit(
    *, enrollments: Sequence[Enrollment], by: Any, request: HttpRequest | None = None
) -> list[Enrollment]:
    """ "Invia Iscrizione": move the `bozza` rows of one form to `inviata`.

    Idempotent: rows already submitted are returned unchanged and no second
    receipt is sent. Outside the window the whole form is refused with the
    window's dates; a full service gives a waiting-list position.

    At a window's opening every parent of the comune submits to the same
    service at once, and a PostgreSQL row lock lasts until commit. So the
    work that does not depend on the place (temporary password, the
    credentials letter rendered) comes first; the service rows are locked
    only for the last step, which takes the places, writes the rows, their
    audit entries, and the receipt that names the place with the letter (one
    insert, one batch of jobs), and commits (docs/architecture.md, "Window
    opening").
    """
    if not enrollments:
        raise EnrollmentError("Nessuna iscrizione da inviare.", code="not_found")
    with transaction.atomic():
        return _submit(enrollments=enrollments, by=by, request=request)


def _submit(
    *, enrollments: Sequence[Enrollment], by: Any, request: HttpRequest | None, locked: bool = False
) -> list[Enrollment]:
    """enrollments_submit's work, inside the caller's transaction (domanda_submit's own, with no
    savepoint: two round trips fewer at a window's opening). `locked`: the caller has just read
    `enrollments` under their row locks, with their service, pupil, guardian and account."""
    rows = sorted(enrollments, key=lambda e: e.pk) if locked else _lock(enrollments)
    to_submit = [e for e in rows if e.status == Status.BOZZA]
    for e in rows:
        if e.status == Status.ANNULLATA:
            raise EnrollmentError(
                gettext("L'iscrizione n. %(reference)s è stata annullata e non può essere inviata.")
                % {"reference": e.reference},
                code="invalid_transition",
            )
    if not to_submit:
        return rows
    # Refused before any work or lock; checked again on the locked rows below.
    _window_check(to_submit, at=timezone.now())
    _answers_complete_check(to_submit)
    accounts = {e.guardian.account_id: e.guardian.account for e in to_submit}
    for account in accounts.values():
        if account is not None:
            temporary_password_ensure(account=account)
    letter = credentials_email(to_submit)  # rendered before the lock, queued with the receipt
    # The critical section: from here to the commit, concurrent forms on the
    # same services wait. Services are locked in a fixed order so two forms
    # cannot deadlock.
    services = {
        s.pk: s
        for s in Service.objects.select_for_update()
        .filter(pk__in={e.service_id for e in to_submit})
        .order_by("pk")
    }
    # Read under the lock: the submission time orders places and waiting list.
    now = timezone.now()
    language = language_supported(translation.get_language())
    for e in to_submit:
        e.service = services[e.service_id]
    _window_check(to_submit, at=now)
    debts_gate_check(enrollments=to_submit)
    for e in to_submit:
        _place_or_queue(e)
        e.status = Status.INVIATA
        e.submitted_at = now
        e.updated_at = now
        e.guardian_snapshot = e.guardian.snapshot()
        e.language = language
        e.save(
            update_fields=[
                "status",
                "submitted_at",
                "updated_at",
                "waiting_position",
                "guardian_snapshot",
                "language",
            ]
        )
        audit_record(
            action="enrollment.submitted",
            actor=by,
            obj=e,
            message=f"{e.reference} inviata"
            + (f", lista d'attesa posizione {e.waiting_position}" if e.waiting_position else ""),
            data={
                "before": Status.BOZZA,
                "after": Status.INVIATA,
                "waiting_position": e.waiting_position,
            },
            request=request,
        )
    emails_enqueue([m for m in (letter, receipt_email(to_submit)) if m is not None])
    return rows


def _window_check(rows: Sequence[Enrollment], *, at: datetime) -> None:
    for e in rows:
        if not e.service.is_open(at):
            raise EnrollmentError(window_message(e.service), code="outside_window")


def _answers_complete_check(rows: Sequence[Enrollment]) -> None:
    """Refuse a draft whose answers do not satisfy its service's current questions.

    «Salva Bozza» keeps partial answers; «Invia Iscrizione» (form, riepilogo
    or API) must not send them. Checked against the current definition: a
    question staff added mid-window is asked of drafts not yet sent.
    """
    for e in rows:
        questions = service_definition(e.service).questions
        errors = answers_clean(questions=questions, answers=e.extra or {}).errors
        if not errors:
            continue
        labels = {q.id: q.label for q in questions}
        listed = "; ".join(f"«{labels.get(qid, qid)}»: {message}" for qid, message in errors.items())
        raise EnrollmentError(
            gettext(
                "%(service)s: la domanda non è completa. %(missing)s Modifica la domanda e inviala di nuovo."
            )
            % {"service": e.service.name, "missing": listed},
            code="answers_incomplete",
        )


def enrollment_submit(*, enrollment: Enrollment, by: Any, request: HttpRequest | None = None) -> Enrollment:
    return enrollments_submit(enrollments=[enrollment], by=by, request=request)[0]


def _transition(
    *,
    enrollment: Enrollment,
    allowed_from: tuple[str, ...],
    to: str,
    by: Any,
    action: str,
    request: HttpRequest | None,
    note: str | None = None,
    locked: bool = False,
) -> Enrollment:
    """Move `enrollment` to `to`, audited. `locked`: the caller has just read it under its row
    lock (_lock), with what _lock reads."""
    (row,) = [enrollment] if locked else _lock([enrollment])
    before = row.status
    if before not in allowed_from:
        raise EnrollmentError(
            f"L'iscrizione n. {row.reference} è in stato {row.get_status_display()}: "
            f"non può passare a {Status(to).label}.",
            code="invalid_transition",
        )
    now = timezone.now()
    row.status = to
    row.updated_at = now
    if note is not None:
        row.outcome_note = note
    row.decided_at = now if to in (Status.CONFERMATA, Status.RESPINTA) else None
    if before == Status.BOZZA:
        # A withdrawn draft is history too: it keeps the data it was written with.
        row.guardian_snapshot = row.guardian.snapshot()
    # Rejected or withdrawn from the waiting list: off it. A position kept on a row that left it
    # came back with the row when reopened, beside the family given that number since.
    left_waiting = row.waiting_position if to in (Status.RESPINTA, Status.ANNULLATA) else None
    if left_waiting is not None:
        row.waiting_position = None
    row.save(
        update_fields=[
            "status",
            "updated_at",
            "outcome_note",
            "decided_at",
            "guardian_snapshot",
            "waiting_position",
        ]
    )
    data: dict[str, Any] = {"before": before, "after": to, "note": note or ""}
    if left_waiting is not None:
        data["waiting_position_left"] = left_waiting
    audit_record(
        action=action,
        actor=by,
        obj=row,
        message=f"{row.reference}: {Status(before).label} → {Status(to).label}"
        + (f", fuori dalla lista d'attesa (posizione {left_waiting})" if left_waiting is not None else ""),
        data=data,
        request=request,
    )
    return row


def enrollment_confirm(
    *, enrollment: Enrollment, by: Any, note: str = "", request: HttpRequest | None = None
) -> Enrollment:
    """Staff confirm a submitted enrollment that holds a place (`enrollments_confirm` for one)."""
    done, refused = enrollments_confirm(enrollments=[enrollment], by=by, note=note, request=request)
    if refused:
        raise refused[0][1]
    return done[0]


def enrollments_confirm(
    *, enrollments: Sequence[Enrollment], by: Any, note: str = "", request: HttpRequest | None = None
) -> tuple[list[Enrollment], list[tuple[Enrollment, EnrollmentError]]]:
    """Confirm each enrollment, in the order given: (confirmed rows, refused ones with their error).

    One that cannot be confirmed (already decided, on the waiting list, its
    graduatoria unpublished) is refused alone. The debt positions of the
    confirmed ones are then created together (billing.enrollments_debt_open),
    and only then each outcome mail is queued, with its avviso attached by
    the position's id. A position refused refuses the whole call.
    """
    done: list[Enrollment] = []
    refused: list[tuple[Enrollment, EnrollmentError]] = []
    with transaction.atomic():
        for enrollment in enrollments:
            try:
                with transaction.atomic():
                    done.append(_confirm(enrollment=enrollment, by=by, note=note, request=request))
            except EnrollmentError as exc:
                refused.append((enrollment, exc))
        positions = enrollments_debt_open(enrollments=done, by=by, request=request)
        for row in done:
            notify_outcome(row, "enrollment_confirmed", position=positions.get(row.pk))
    return done, refused


def _confirm(*, enrollment: Enrollment, by: Any, note: str, request: HttpRequest | None) -> Enrollment:
    service = Service.objects.get(pk=enrollment.service_id)
    if placement_pending(service):
        raise EnrollmentError(
            f"La graduatoria di {service.name} {service.school_year} non è ancora pubblicata: "
            "l'iscrizione potrà essere confermata dopo la pubblicazione.",
            code="graduatoria_pending",
        )
    # Read on the locked row: a "Riapri" committed meanwhile may have put it on the waiting list.
    (locked,) = _lock([enrollment])
    if locked.waiting_position is not None:
        raise EnrollmentError(
            "L'iscrizione è in lista d'attesa: può essere confermata solo quando si libera un posto.",
            code="waiting_list",
        )
    return _transition(
        enrollment=locked, allowed_from=(Status.INVIATA,), to=Status.CONFERMATA,
        by=by, action="enrollment.confirmed", request=request, note=note, locked=True,
    )  # fmt: skip


def enrollment_reject(
    *, enrollment: Enrollment, by: Any, reason: str, request: HttpRequest | None = None
) -> Enrollment:
    """Staff reject a submitted enrollment; the reason is shown to the parent."""
    if not reason.strip():
        raise EnrollmentError(
            "Indica il motivo del rifiuto: sarà mostrato al genitore.", code="reason_required"
        )
    with transaction.atomic():
        row = _transition(
            enrollment=enrollment, allowed_from=(Status.INVIATA,), to=Status.RESPINTA,
            by=by, action="enrollment.rejected", request=request, note=reason.strip(),
        )  # fmt: skip
        enrollment_debt_cancel(enrollment=row, reason="iscrizione respinta", by=by, request=request)
        notify_outcome(row, "enrollment_rejected")
    return row


def enrollment_reopen(*, enrollment: Enrollment, by: Any, request: HttpRequest | None = None) -> Enrollment:
    """Staff take back a decision: the enrollment is `inviata` again."""
    with transaction.atomic():
        return _transition(
            enrollment=enrollment, allowed_from=(Status.CONFERMATA, Status.RESPINTA), to=Status.INVIATA,
            by=by, action="enrollment.reopened", request=request, note="",
        )  # fmt: skip


def enrollment_withdraw(*, enrollment: Enrollment, by: Any, request: HttpRequest | None = None) -> Enrollment:
    """The parent withdraws a draft or a submission before staff confirm it."""
    with transaction.atomic():
        row = _transition(
            enrollment=enrollment, allowed_from=(Status.BOZZA, Status.INVIATA), to=Status.ANNULLATA,
            by=by, action="enrollment.withdrawn", request=request,
        )  # fmt: skip
        # A confirmation taken back (reopened) keeps its position until now.
        enrollment_debt_cancel(enrollment=row, reason="iscrizione annullata", by=by, request=request)
        return row
