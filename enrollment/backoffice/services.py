"""Staff-only writes of the back office.

Decisions on a single enrollment use `enrollment.services` (the same
functions every other surface uses); this module adds what only staff do:
bulk confirm, waiting-list promotion, catalogue edits, enrollments at the
counter (sportello) and staff accounts. Each function checks the caller's
role, runs in one transaction, writes the audit log and queues its e-mails.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import ValidationError as PydanticValidationError

from core.services import audit_record, email_enqueue
from enrollment.backoffice.definition_errors import definition_errors
from enrollment.backoffice.roles import AMMINISTRATORE, ROLES, Action, role_require, staff_roles_ensure
from enrollment.backoffice.selectors import confirmed_count, places_taken
from enrollment.billing import debts_batched
from enrollment.catalogue import service_staff_edited_fields
from enrollment.definitions import definition_json, service_definition
from enrollment.families import consent_record, guardian_values, guardian_write, pupil_save
from enrollment.graduatorie import placement_pending
from enrollment.models import Enrollment, Guardian, Service
from enrollment.notifications import mail_parent
from enrollment.selectors import comune_current, previous_school_year
from enrollment.services import (
    EnrollmentError,
    answers_store,
    enrollment_create,
    enrollment_reopen,
    enrollments_confirm,
    enrollments_submit,
    service_accepts_check,
    service_places,
)
from identity.models import Account
from identity.token_links import validity_text
from tenants.config import YAML_VALUE_INVALID
from tenants.service_definition import ServiceDefinition

Status = Enrollment.Status
# Staff may know that the child is another family's: the parents' wording hides it.
PUPIL_TAKEN_STAFF = "Il codice fiscale dell'alunno è già registrato con un altro genitore/tutore."
# Fields of a service that the office decides (staff edits win over the YAML);
# name and description stay the YAML's.
OPERATIONAL_FIELDS = ("opens_at", "closes_at", "capacity", "fee_note", "new_enrollments", "renewals")


def _value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


# Enrollments ----------------------------------------------------------------


def enrollment_reopen_notify(
    *, enrollment: Enrollment, by: Account, request: HttpRequest | None = None
) -> Enrollment:
    """ "Riapri": back to `inviata` (enrollment_reopen), and tell the parent,
    who had been told the previous outcome.

    A rejected enrollment did not hold a place: if the service has filled
    up meanwhile, or families wait for a place, it goes to the end of the
    waiting list, so reopening never overbooks the service nor passes anyone
    in line. A confirmation taken back keeps its place; in a ranked service
    the graduatoria places it.
    """
    role_require(by, Action.DECIDE)
    with transaction.atomic():
        # Locked now, as enrollment_reopen would: the decision read is the one taken back.
        decided = (
            Enrollment.objects.select_for_update().filter(pk=enrollment.pk).values_list("status", flat=True)
        )
        was_confirmed = list(decided) == [Status.CONFERMATA]
        row = enrollment_reopen(enrollment=enrollment, by=by, request=request)
        service = Service.objects.select_for_update().get(pk=row.service_id)
        taken, waiting_last = service_places(service, excluding=row.pk)
        # A confirmation taken back keeps its place. A rejection taken back gets one only if one is
        # free and nobody waits for it; else the end of the line, as a submission would.
        full = service.capacity is not None and taken >= service.capacity
        queued = not was_confirmed and not placement_pending(service) and (full or waiting_last is not None)
        if queued:
            row.waiting_position = (waiting_last or 0) + 1
            row.save(update_fields=["waiting_position"])
            audit_record(
                action="enrollment.waiting_queued",
                actor=by,
                obj=row,
                message=f"{row.reference}: "
                + ("servizio al completo" if full else "altre famiglie in attesa")
                + f", lista d'attesa {row.waiting_position}",
                data={
                    "before": {"waiting_position": None},
                    "after": {"waiting_position": row.waiting_position},
                },
                request=request,
            )
        elif row.waiting_position is not None:  # a number kept from before it left the list (older rows)
            row.waiting_position = None
            row.save(update_fields=["waiting_position"])
        mail_parent(
            row,
            template="backoffice/email/reopened.txt",
            subject=gettext_noop("Iscrizione n. %(reference)s di nuovo in esame"),
            subject_params={"reference": row.reference},
            purpose="enrollment_reopened",
        )
    return row


@dataclass
class BulkResult:
    done: list[Enrollment] = field(default_factory=list)
    skipped: list[tuple[Enrollment, str]] = field(default_factory=list)


def enrollments_confirm_bulk(
    *, enrollments: Sequence[Enrollment], by: Account, request: HttpRequest | None = None
) -> BulkResult:
    """Confirm the selected enrollments through `enrollments_confirm`, the code of a single confirmation.

    One that cannot be confirmed (already decided, on the waiting list) is
    reported with its reason and does not stop the others. Their debt
    positions are created together and sent by one job per batch, written
    in the same transaction; a position refused (EnrollmentError) confirms
    none of them.
    """
    role_require(by, Action.DECIDE)
    result = BulkResult()
    with transaction.atomic():
        with debts_batched():
            done, refused = enrollments_confirm(
                enrollments=sorted(enrollments, key=lambda e: e.pk), by=by, request=request
            )
        result.done = done
        result.skipped = [(e, exc.message) for e, exc in refused]
        audit_record(
            action="enrollment.bulk_confirmed",
            actor=by,
            message=f"Conferma multipla: {len(result.done)} confermate, {len(result.skipped)} non confermate",
            data={
                "confirmed": [e.reference for e in result.done],
                "skipped": {e.reference: reason for e, reason in result.skipped},
            },
            request=request,
        )
    return result


def waiting_list_promote(*, service: Service, by: Account, request: HttpRequest | None = None) -> Enrollment:
    """Give the freed place to the first enrollment of the waiting list.

    Order is kept: only the first in line can be promoted, and only when the
    service has a place left; the others move up one position.
    """
    role_require(by, Action.WAITING_LIST)
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        first = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("pupil", "guardian", "guardian__account", "service")
            .filter(service=service, status=Status.INVIATA, waiting_position__isnull=False)
            .order_by("waiting_position", "id")
            .first()
        )
        if first is None:
            raise EnrollmentError("La lista d'attesa di questo servizio è vuota.", code="waiting_empty")
        if service.capacity is not None and places_taken(service=service) >= service.capacity:
            raise EnrollmentError(
                f"{service.name} {service.school_year} non ha posti liberi: "
                "aumenta i posti disponibili o attendi che se ne liberi uno.",
                code="no_place",
            )
        position = first.waiting_position
        first.waiting_position = None
        first.updated_at = timezone.now()
        first.save(update_fields=["waiting_position", "updated_at"])
        Enrollment.objects.filter(
            service=service, status=Status.INVIATA, waiting_position__gt=position
        ).update(waiting_position=F("waiting_position") - 1)
        audit_record(
            action="enrollment.waiting_promoted",
            actor=by,
            obj=first,
            message=f"{first.reference}: dalla lista d'attesa (posizione {position}) a un posto disponibile",
            data={"before": {"waiting_position": position}, "after": {"waiting_position": None}},
            request=request,
        )
        mail_parent(
            first,
            template="backoffice/email/promoted.txt",
            subject=gettext_noop("Iscrizione n. %(reference)s: si è liberato un posto"),
            subject_params={"reference": first.reference},
            purpose="enrollment_promoted",
        )
    return first


# Sportello ------------------------------------------------------------------


def sportello_enrollment_create(
    *,
    by: Account,
    guardian_data: dict[str, Any],
    pupil_data: dict[str, Any],
    services: Sequence[Service],
    extra: dict[str, dict[str, str]] | None = None,
    kind: str = Enrollment.Kind.NUOVA,
    request: HttpRequest | None = None,
) -> list[Enrollment]:
    """An enrollment filled in by staff at the counter for a parent, submitted at once.

    The guardian is found by codice fiscale (with or without a portal
    account) or created without one; guardian, pupil and rows are saved by
    the parents' services, the rows marked `via_sportello` and created by the
    staff account; submission (window, places, receipt e-mail) is the
    parents' `enrollments_submit`.
    """
    role_require(by, Action.SPORTELLO)
    if not services:
        raise EnrollmentError("Scegli almeno un servizio.", code="service_required")
    extra = extra or {}
    now = timezone.now()
    g_values = guardian_values(guardian_data)
    with transaction.atomic():
        guardian = (
            Guardian.objects.select_for_update()
            .filter(codice_fiscale=g_values["codice_fiscale"])
            .order_by("id")
            .first()
        )
        guardian = guardian_write(guardian=guardian, values=g_values, account=None, by=by, request=request)
        pupil = pupil_save(guardian=guardian, data=pupil_data, pupil=None, taken_message=PUPIL_TAKEN_STAFF)
        domanda = uuid.uuid4()
        rows = []
        for service in services:
            service_accepts_check(service=service, kind=kind)
            renewal_of = None
            if kind == Enrollment.Kind.RINNOVO:
                renewal_of = Enrollment.objects.filter(
                    pupil=pupil, service__code=service.code, status=Status.CONFERMATA,
                    school_year=previous_school_year(service.school_year),
                ).first()  # fmt: skip
            row = enrollment_create(
                pupil=pupil, guardian=guardian, service=service, domanda=domanda, kind=kind,
                renewal_of=renewal_of, account=by, now=now, via_sportello=True,
            )  # fmt: skip
            # The counter's row, even when it brings back a withdrawn one.
            row.extra = answers_store(enrollment=row, answers=extra.get(service.code, {}), account=by)
            row.definition_version = service.definition_version
            row.via_sportello, row.created_by, row.first_saved_at, row.updated_at = True, by, now, now
            row.save(
                update_fields=[
                    "extra", "definition_version", "via_sportello", "created_by", "first_saved_at",
                    "updated_at",
                ]
            )  # fmt: skip
            audit_record(
                action="enrollment.sportello_created",
                actor=by,
                obj=row,
                message=f"{row.reference} inserita allo sportello",
                data={"domanda": str(domanda), "guardian": guardian.pk, "pupil": pupil.pk},
                request=request,
            )
            rows.append(row)
        consent_record(account=None, guardian=guardian, domanda=domanda)
        return enrollments_submit(enrollments=rows, by=by, request=request)


def enrollments_export_record(
    *, by: Account, fmt: str, filters: dict[str, str], request: HttpRequest | None = None
) -> None:
    """Personal data leaving the system: who exported which list, when."""
    role_require(by, Action.EXPORT)
    audit_record(
        action="enrollment.exported",
        actor=by,
        message=f"Esportazione {fmt.upper()} dell'elenco iscrizioni",
        data={"format": fmt, "filters": filters},
        request=request,
    )


def enrollment_view_record(
    *, by: Account, enrollment: Enrollment, document: str = "", request: HttpRequest | None = None
) -> None:
    """Personal data read by staff: who opened which enrollment (or its PDF), when."""
    role_require(by, Action.VIEW)
    what = f"{document} dell'iscrizione" if document else "Consultazione dell'iscrizione"
    audit_record(
        action="enrollment.viewed",
        actor=by,
        obj=enrollment,
        message=f"{what} n. {enrollment.reference}",
        data={"document": document} if document else {},
        request=request,
    )


# Catalogue ------------------------------------------------------------------


def _check_service_values(values: dict[str, Any], *, service: Service | None) -> None:
    errors: dict[str, str] = {}
    if values["closes_at"] <= values["opens_at"]:
        errors["closes_at"] = "La chiusura delle iscrizioni deve essere successiva all'apertura."
    capacity = values.get("capacity")
    # Checked when it changes: a service already beyond it (an older rule) keeps its other edits.
    if capacity is not None and service is not None and capacity != service.capacity:
        if placement_pending(service):  # requests hold no place until the graduatoria is published
            confirmed = confirmed_count(service=service)
            if capacity < confirmed:
                errors["capacity"] = (
                    "I posti disponibili non possono essere meno delle iscrizioni già confermate "
                    f"({confirmed})."
                )
        else:
            held = places_taken(service=service)
            if capacity < held:
                errors["capacity"] = (
                    f"I posti disponibili non possono essere meno dei posti già assegnati ({held}: "
                    "iscrizioni inviate fuori dalla lista d'attesa o confermate). Per ridurli, respingi "
                    "prima le iscrizioni in più."
                )
    if errors:
        raise ValidationError(errors)


def service_update(
    *, service: Service, values: dict[str, Any], by: Account, request: HttpRequest | None = None
) -> Service:
    """Change the operational fields of a service; the changed fields are
    recorded so the YAML sync keeps the office's values."""
    role_require(by, Action.CATALOGUE)
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        values = {f: values[f] for f in OPERATIONAL_FIELDS if f in values}
        _check_service_values(
            {**{f: getattr(service, f) for f in OPERATIONAL_FIELDS}, **values}, service=service
        )
        changed = [f for f, v in values.items() if getattr(service, f) != v]
        if not changed:
            return service
        before = {f: _value(getattr(service, f)) for f in changed}
        for f in changed:
            setattr(service, f, values[f])
        service.save()
        audit_record(
            action="service.staff_updated",
            actor=by,
            obj=service,
            message=f"{service}: modificati {', '.join(changed)}",
            data={"fields": changed, "before": before, "after": {f: _value(values[f]) for f in changed}},
            request=request,
        )
    return service


def service_create(*, values: dict[str, Any], by: Account, request: HttpRequest | None = None) -> Service:
    """A service for a school year created by the office (e.g. next year's)."""
    role_require(by, Action.CATALOGUE)
    _check_service_values(values, service=None)
    with transaction.atomic():
        if Service.objects.filter(code=values["code"], school_year=values["school_year"]).exists():
            raise ValidationError(
                {"code": f"Il servizio {values['code']} esiste già per l'anno {values['school_year']}."}
            )
        service = Service.objects.create(**values)
        audit_record(
            action="service.staff_updated",
            actor=by,
            obj=service,
            message=f"{service}: creato dall'ufficio",
            data={
                "fields": list(OPERATIONAL_FIELDS),
                "before": {},
                "after": {k: _value(v) for k, v in values.items()},
            },
            request=request,
        )
    return service


def service_staff_edits_clear(*, service: Service, by: Account, request: HttpRequest | None = None) -> None:
    """Let the YAML file rule the service's operational fields again at next sync."""
    role_require(by, Action.CATALOGUE)
    with transaction.atomic():
        audit_record(
            action="service.staff_edits_cleared",
            actor=by,
            obj=service,
            message=f"{service}: al prossimo allineamento valgono i valori del file di configurazione",
            data={"fields": sorted(service_staff_edited_fields(service=service))},
            request=request,
        )


DEFINITION_FIELD = "definizione"


def service_definition_text(*, service: Service) -> str:
    """The service's definition as the YAML staff edit (the comune's file's own keys)."""
    data = definition_json(service_definition(service))
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110) if data else ""


def service_definition_update(
    *, service: Service, text: str, by: Account, request: HttpRequest | None = None
) -> Service:
    """Staff's edit of a service's questions, documents, criteria and fees, as YAML.

    Validated by the same `ServiceDefinition` as the comune's file, each
    refusal in Italian; nothing is written when anything is refused. A
    question that already has answers cannot be removed (deactivate it with
    `active: false`, so answers keep their label). Stores the definition and
    its version, and records both as staff-edited so `sync_tenants` keeps them.
    """
    role_require(by, Action.CATALOGUE)
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (riga {mark.line + 1}, colonna {mark.column + 1})" if mark is not None else ""
        raise ValidationError({DEFINITION_FIELD: f"Il testo non è YAML valido{where}."}) from None
    except (ValueError, TypeError):
        raise ValidationError({DEFINITION_FIELD: f"Il testo {YAML_VALUE_INVALID}."}) from None
    if not isinstance(data, dict):
        raise ValidationError(
            {DEFINITION_FIELD: "La definizione deve essere un insieme di campi: questions, ranking, fees…"}
        )
    try:
        definition = ServiceDefinition.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(
            {DEFINITION_FIELD: definition_errors(exc, data, service_code=service.code)}
        ) from None
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        kept = {q.id for q in definition.questions}
        removed = [q for q in service_definition(service).questions if q.id not in kept]
        answered = [
            q for q in removed if Enrollment.objects.filter(service=service, extra__has_key=q.id).exists()
        ]
        if answered:
            raise ValidationError(
                {
                    DEFINITION_FIELD: [
                        f"La domanda «{q.label}» ({q.id}) ha già delle risposte: invece di eliminarla "
                        "disattivala con «active: false»."
                        for q in answered
                    ]
                }
            )
        version = definition.version
        if version == service.definition_version:
            return service
        before = service.definition_version
        service.definition, service.definition_version = definition_json(definition), version
        service.save(update_fields=["definition", "definition_version", "updated_at"])
        audit_record(
            action="service.staff_updated",
            actor=by,
            obj=service,
            message=f"{service}: definizione modificata (versione {before or '-'} → {version})",
            data={
                "fields": ["definition", "definition_version"],
                "before": {"definition_version": before},
                "after": {"definition_version": version, "definition": service.definition},
            },
            request=request,
        )
    return service


# Staff accounts --------------------------------------------------------------


def _role_group(role: str) -> Group:
    if role not in ROLES:
        raise ValidationError({"role": "Scegli un ruolo."})
    staff_roles_ensure()
    return Group.objects.get(name=role)


def _active_admins() -> int:
    return Account.objects.filter(
        kind=Account.Kind.STAFF, is_active=True, groups__name=AMMINISTRATORE
    ).count()


def _password_check(password: str, account: Account) -> None:
    try:
        validate_password(password, user=account)
    except ValidationError as exc:
        # identity.validators gives every message in Italian.
        raise ValidationError({"password": exc.messages}) from exc


def staff_account_create(
    *,
    by: Account | None,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    password: str = "",
    invite_url: Callable[[Account], str] | None = None,
    request: HttpRequest | None = None,
) -> Account:
    """A staff account of this comune with one role.

    With a `password` it must pass Django's validators. Without one the
    account has no usable password and is mailed an invitation: a one-time
    link (`invite_url(account)`) to choose it.
    `by` None is for the demo loader and the operators' console, which act
    outside any comune role.
    """
    if by is not None:
        role_require(by, Action.STAFF)
    if not password and invite_url is None:
        raise ValidationError({"password": "Scegli una password o invia l'invito per e-mail."})
    username = username.strip().lower()
    group = _role_group(role)
    with transaction.atomic():
        if Account.objects.filter(username=username).exists():
            raise ValidationError({"username": "Esiste già un account con questo nome utente."})
        account = Account(
            username=username, first_name=first_name, last_name=last_name, email=email,
            kind=Account.Kind.STAFF, is_staff=True,
        )  # fmt: skip
        if password:
            _password_check(password, account)
            account.set_password(password)
        else:
            account.set_unusable_password()
        account.save()
        account.groups.add(group)
        audit_record(
            action="staff.created",
            actor=by,
            obj=account,
            message=f"Account del personale {username} creato con ruolo {role}",
            data={"username": username, "role": role, "invited": not password},
            request=request,
        )
        if not password and invite_url is not None:
            comune = comune_current()
            email_enqueue(
                to=[email],
                subject=f"Accesso alla gestione iscrizioni - {comune.display_name}",
                body=render_to_string(
                    "backoffice/email/invite.txt",
                    {
                        "account": account,
                        "comune": comune,
                        "role": role,
                        "url": invite_url(account),
                        "validity": validity_text(),
                    },
                ),
                purpose="staff_invite",
            )
    return account


def staff_password_set(*, account: Account, password: str, request: HttpRequest | None = None) -> Account:
    """The invited staff member chooses their password (through the one-time link)."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk, kind=Account.Kind.STAFF)
        _password_check(password, account)
        account.set_password(password)
        account.save(update_fields=["password"])
        audit_record(action="staff.password_set", actor=account, obj=account, request=request)
    return account


def staff_role_set(
    *, account: Account, role: str, by: Account | None, request: HttpRequest | None = None
) -> Account:
    """Give a staff account exactly one role."""
    if by is not None:
        role_require(by, Action.STAFF)
    group = _role_group(role)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk, kind=Account.Kind.STAFF)
        before = sorted(account.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if before == [role]:
            return account
        if (
            AMMINISTRATORE in before
            and role != AMMINISTRATORE
            and account.is_active
            and _active_admins() <= 1
        ):
            raise ValidationError({"role": "Deve restare almeno un amministratore attivo del comune."})
        account.groups.remove(*Group.objects.filter(name__in=ROLES))
        account.groups.add(group)
        audit_record(
            action="staff.role_changed",
            actor=by,
            obj=account,
            message=f"{account.username}: ruolo {', '.join(before) or 'nessuno'} → {role}",
            data={"before": before, "after": [role]},
            request=request,
        )
    return account


def staff_account_deactivate(*, account: Account, by: Account, request: HttpRequest | None = None) -> Account:
    """Disable a staff account: it can no longer sign in and its sessions stop working."""
    role_require(by, Action.STAFF)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk, kind=Account.Kind.STAFF)
        if account.pk == by.pk:
            raise ValidationError("Non puoi disattivare il tuo stesso account.")
        if not account.is_active:
            return account
        account.is_active = False
        account.save(update_fields=["is_active"])
        audit_record(
            action="staff.deactivated",
            actor=by,
            obj=account,
            message=f"Account del personale {account.username} disattivato",
            data={"before": {"is_active": True}, "after": {"is_active": False}},
            request=request,
        )
    return account
