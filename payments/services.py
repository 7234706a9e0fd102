"""Writes of the payments app: debt positions, their invalidation, receipts.

Callers above (enrollment, its back office, the API) pass plain data: who
pays, what for, how much (Decimal euro) and in which rate; this module knows
nothing of enrollments. Every call to pagoPA goes through the job queue
(payments.tasks): the position is written here first and its job in the same
transaction, so a rollback drops both and an outage only delays it.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.utils import timezone

from core.services import audit_entry, audit_record, audit_records
from core.tenancy import current_schema
from payments.adapters import (
    AdapterConflict,
    AdapterRejected,
    AdapterUnavailable,
    PaymentAdapter,
    PositionData,
    RemotePosition,
    adapter_for,
)
from payments.adapters.base import InstalmentData
from payments.codes import codice_avviso, iuv_compose
from payments.errors import PaymentError
from payments.models import RECEIPT_ID_MAX, DebtPosition, GateException, Instalment
from payments.money import euro_text, split_cents, to_cents
from tenants.config import Payments
from tenants.selectors import comune_current
from tenants.service_definition import FeeInstalment

logger = logging.getLogger(__name__)

# With no rate in the definition, one payment due this long after confirmation;
# a rate whose date has passed when staff confirm late gets at least this much.
DEFAULT_DUE = timedelta(days=30)
MIN_NOTICE = timedelta(days=15)


def payments_config() -> Payments:
    config = comune_current().settings.payments
    if config is None:
        raise PaymentError("Il comune non ha configurato i pagamenti pagoPA.", code="not_configured")
    return config


def _ids_allocate(n: int) -> list[int]:
    """`n` instalment ids drawn from the table's own sequence (never reused: IUV bases)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('payments_instalment', 'id')) FROM generate_series(1, %s)",
            [n],
        )
        return [row[0] for row in cursor.fetchall()]


def _due_dates(instalments: Sequence[FeeInstalment], today: date) -> list[tuple[date, Decimal]]:
    if not instalments:
        return [(today + DEFAULT_DUE, Decimal(100))]
    earliest = today + MIN_NOTICE
    return [(max(i.due_date, earliest), i.share_percent) for i in instalments]


@dataclass(frozen=True)
class PositionRequest:
    """One debt position to create (`positions_create`): who pays, what for, how much, in which rate."""

    source: str
    payer_codice_fiscale: str
    payer_name: str
    description: str
    amount: Decimal
    instalments: Sequence[FeeInstalment] = ()
    payer_account: Any = None
    payer_email: str = ""
    service_code: str = ""
    school_year: str = ""
    origin: str = DebtPosition.Origin.ISCRIZIONE
    language: str = settings.LANGUAGE_CODE


def position_create(
    *,
    source: str,
    payer_codice_fiscale: str,
    payer_name: str,
    description: str,
    amount: Decimal,
    instalments: Sequence[FeeInstalment] = (),
    payer_account: Any = None,
    payer_email: str = "",
    service_code: str = "",
    school_year: str = "",
    origin: str = DebtPosition.Origin.ISCRIZIONE,
    language: str = settings.LANGUAGE_CODE,
    by: Any = None,
    request: HttpRequest | None = None,
    today: date | None = None,
) -> DebtPosition:
    """The debt position for `source`, created once: a second call returns the live one.

    With the `gpd` adapter the position starts `in_preparazione` and a job
    sends it; with `local` it is open at once. `positions_create` for one.
    """
    wanted = PositionRequest(
        source=source, payer_codice_fiscale=payer_codice_fiscale, payer_name=payer_name,
        description=description, amount=amount, instalments=instalments, payer_account=payer_account,
        payer_email=payer_email, service_code=service_code, school_year=school_year, origin=origin,
        language=language,
    )  # fmt: skip
    (position,) = positions_create(wanted=[wanted], by=by, request=request, today=today)
    return position


# Rows per insert when positions are created in bulk.
INSERT_BATCH = 1000


def positions_create(
    *,
    wanted: Sequence[PositionRequest],
    by: Any = None,
    request: HttpRequest | None = None,
    today: date | None = None,
) -> list[DebtPosition]:
    """The debt positions of `wanted`, in its order, each source's created once (see position_create).

    A bulk write, whatever the number: one query for the live positions of
    these sources, then the new positions, their rate and their audit entries
    each inserted in one statement per INSERT_BATCH rows, with the IUV bases
    drawn from the sequence in one round trip. Every request is checked
    before anything is written, so one refused refuses them all. Each
    position comes back with its rate loaded (`position.instalments.all()`
    runs no query).
    """
    if not wanted:
        return []
    config = payments_config()
    amounts = []
    for item in wanted:
        cents = to_cents(item.amount)
        if cents <= 0:
            raise PaymentError(
                f"{item.description}: l'importo da pagare deve essere maggiore di zero.", code="amount"
            )
        if not item.payer_codice_fiscale:
            raise PaymentError(f"{item.description}: manca il codice fiscale di chi paga.", code="payer")
        amounts.append(cents)
    today = today or timezone.localdate()
    local = config.adapter == "local"
    with transaction.atomic():
        live = {
            p.source: p
            for p in DebtPosition.objects.filter(source__in={item.source for item in wanted}).exclude(
                status=DebtPosition.Status.ANNULLATA
            )
        }
        created: list[tuple[DebtPosition, PositionRequest, list[tuple[date, Decimal]], list[int]]] = []
        for item, cents in zip(wanted, amounts, strict=True):
            if item.source in live:
                continue
            schedule = _due_dates(item.instalments, today)
            position = DebtPosition(
                iupd=f"{config.ente_codice_fiscale}-{uuid.uuid4().hex}",
                source=item.source,
                origin=item.origin,
                language=item.language,
                adapter=config.adapter,
                payer_account=item.payer_account,
                payer_codice_fiscale=item.payer_codice_fiscale.upper(),
                payer_name=item.payer_name[:140],
                payer_email=item.payer_email,
                description=item.description[:140],
                service_code=item.service_code,
                school_year=item.school_year,
                amount_cents=cents,
                status=DebtPosition.Status.APERTA if local else DebtPosition.Status.IN_PREPARAZIONE,
                sync=DebtPosition.Sync.ALLINEATA if local else DebtPosition.Sync.DA_INVIARE,
            )
            live[item.source] = position
            parts = split_cents(cents, [share for _, share in schedule])
            if min(parts) <= 0:
                # Too little to split into these rate (0,02 € in four): one rata, else a rata
                # of 0 cents, or less, that pagoPA refuses.
                schedule, parts = schedule[:1], [cents]
            created.append((position, item, schedule, parts))
        if created:
            _positions_write(created, config=config, by=by, request=request, local=local)
        positions = [live[item.source] for item in wanted]
        # The new ones got their rate from _positions_write; the live ones read it here in one query.
        prefetch_related_objects(
            [p for p in dict.fromkeys(positions) if "instalments" not in getattr(p, _PREFETCHED, {})],
            "instalments",
        )
    return positions


_PREFETCHED = "_prefetched_objects_cache"


def _rate_cache(position: DebtPosition, rows: list[Instalment]) -> None:
    """Leave on `position` what prefetch_related("instalments") would: its rate without a query.

    Django has no public call for it; this is what its prefetch_one_level does.
    """
    rate = position.instalments.all()
    rate._result_cache = sorted(rows, key=lambda r: (r.due_date, r.number))  # the model's ordering
    rate._prefetch_done = True  # type: ignore[attr-defined]
    setattr(position, _PREFETCHED, {"instalments": rate})


def _positions_write(
    created: list[tuple[DebtPosition, PositionRequest, list[tuple[date, Decimal]], list[int]]],
    *,
    config: Payments,
    by: Any,
    request: HttpRequest | None,
    local: bool,
) -> None:
    # PostgreSQL returns the ids of bulk-inserted rows: the rate and the mails refer to them.
    DebtPosition.objects.bulk_create([p for p, _, _, _ in created], batch_size=INSERT_BATCH)
    # nextval() never hands the same number to two transactions: IUVs stay unique in parallel.
    ids = iter(_ids_allocate(sum(len(parts) for _, _, _, parts in created)))
    rows: list[Instalment] = []
    entries = []
    for position, item, schedule, parts in created:
        own = []
        for number, ((due, _), part) in enumerate(zip(schedule, parts, strict=True), 1):
            pk = next(ids)
            iuv = iuv_compose(
                aux_digit=config.aux_digit, segregation_code=config.segregation_code, iuv_base=f"{pk:013d}"
            )
            own.append(
                Instalment(
                    id=pk,
                    position=position,
                    number=number,
                    iuv=iuv,
                    codice_avviso=codice_avviso(aux_digit=config.aux_digit, iuv=iuv),
                    amount_cents=part,
                    due_date=due,
                )
            )
        rows.extend(own)
        _rate_cache(position, own)
        entries.append(
            audit_entry(
                action="payments.position_created",
                actor=by,
                obj=position,
                message=f"{item.description[:120]}: {euro_text(position.amount_cents)} in {len(own)} rate",
                data={"source": item.source, "iupd": position.iupd, "avvisi": [r.codice_avviso for r in own]},
                request=request,
            )
        )
    Instalment.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    audit_records(entries)
    if not local:
        # Created together, sent together: one job per SEND_BATCH unless the caller batches already.
        with positions_batched() if len(created) > 1 and _batch.get() is None else contextlib.nullcontext():
            for position, _, _, _ in created:
                _send_later(position)


# Positions per sending job when they are created in bulk (positions_batched).
SEND_BATCH = 100

_batch: ContextVar[list[int] | None] = ContextVar("payments_send_batch", default=None)


@contextlib.contextmanager
def positions_batched(batch_size: int | None = None) -> Iterator[None]:
    """Positions created or invalidated in the block are sent by one job per `batch_size` (SEND_BATCH).

    Call it inside the caller's transaction: the jobs are written when the
    block ends, in that transaction, so a rollback drops positions and jobs
    together. An id whose savepoint was rolled back meanwhile is skipped by
    the job (positions_sync). Outside the block each position has its own job.
    """
    ids: list[int] = []
    token = _batch.set(ids)
    try:
        yield
    finally:
        _batch.reset(token)
    if ids:
        from payments.tasks import positions_send

        schema = current_schema()
        size = batch_size or SEND_BATCH
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), size):
            positions_send.defer(schema_name=schema, position_ids=unique[start : start + size])


def _send_later(position: DebtPosition) -> None:
    batch = _batch.get()
    if batch is not None:
        batch.append(position.pk)
        return
    from payments.tasks import position_send

    position_send.defer(schema_name=current_schema(), position_id=position.pk)


def position_invalidate(
    *, source: str, reason: str, by: Any = None, request: HttpRequest | None = None
) -> DebtPosition | None:
    """Cancel the live, unpaid position of `source` (withdrawal, rejection, reopening).

    A position with a rata already paid is kept (the money is real: a refund is
    the comune's decision) and the audit log says so. Nothing to cancel → None.
    """
    with transaction.atomic():
        position = (
            DebtPosition.objects.select_for_update()
            .filter(source=source)
            .exclude(status=DebtPosition.Status.ANNULLATA)
            .first()
        )
        if position is None:
            return None
        if position.instalments.filter(status=Instalment.Status.PAGATA).exists():
            audit_record(
                action="payments.position_kept",
                actor=by,
                obj=position,
                message=f"{position.description}: non annullata, ha rate già pagate ({reason})",
                data={"source": source, "reason": reason},
                request=request,
            )
            return position
        position.status = DebtPosition.Status.ANNULLATA
        # The position is locked, and a receipt locks it first (receipt_record): no rata
        # can become paid between the check above and this update.
        position.instalments.exclude(status=Instalment.Status.PAGATA).update(
            status=Instalment.Status.ANNULLATA
        )
        if position.adapter == "gpd":
            # Also when the create never got through: its job may still be
            # running, and pagoPA answers 404 to an unknown IUPD.
            position.sync = DebtPosition.Sync.DA_INVIARE
            _send_later(position)
        position.save(update_fields=["status", "sync", "updated_at"])
        audit_record(
            action="payments.position_invalidated",
            actor=by,
            obj=position,
            message=f"{position.description}: posizione annullata ({reason})",
            data={"source": source, "reason": reason, "iupd": position.iupd},
            request=request,
        )
    return position


def _position_data(position: DebtPosition) -> PositionData:
    rate = list(position.instalments.order_by("number"))
    return PositionData(
        iupd=position.iupd,
        payer_codice_fiscale=position.payer_codice_fiscale,
        payer_name=position.payer_name,
        payer_email=position.payer_email,
        description=position.description,
        instalments=tuple(
            InstalmentData(
                iuv=i.iuv,
                amount_cents=i.amount_cents,
                due_date=i.due_date,
                description=position.description
                if len(rate) == 1
                else f"{position.description} – rata {i.number}"[:140],
            )
            for i in rate
        ),
    )


def position_sync(*, position_id: int) -> None:
    """Bring pagoPA in line with the position (create or invalidate). Run by the job.

    Idempotent: the IUPD is the idempotency key, and pagoPA's 409 means an
    earlier attempt already got through. An outage is recorded on the row and
    raised, so the queue retries with backoff; a refusal is recorded for staff
    and not retried.
    """
    with adapter_for(payments_config()) as adapter:
        failure = _position_sync(position_id=position_id, adapter=adapter)
    if failure is not None:
        raise failure


def positions_sync(*, position_ids: Sequence[int]) -> int:
    """`position_sync` for a batch, over one HTTP connection. Run by the batch job.

    Returns how many ids it went through (sent, refused or already done).

    Each position is its own transaction, so what got through stays done. A
    position already in line (an earlier run of the job) is skipped without a
    call, and so is an id no longer in the table. At the first outage the job
    stops and raises: the queue retries the batch later, and the retry sends
    only what is still `da_inviare`. A refusal is recorded on its position and
    the batch goes on.
    """
    sent = 0
    with adapter_for(payments_config()) as adapter:
        for position_id in position_ids:
            failure = _position_sync(position_id=position_id, adapter=adapter)
            if failure is not None:
                raise failure
            sent += 1
    return sent


def _position_sync(*, position_id: int, adapter: PaymentAdapter) -> Exception | None:
    failure: Exception | None = None
    with transaction.atomic():
        position = DebtPosition.objects.select_for_update().filter(pk=position_id).first()
        if position is None or position.sync != DebtPosition.Sync.DA_INVIARE:
            return None
        position.attempts += 1
        try:
            if position.status == DebtPosition.Status.ANNULLATA:
                try:
                    adapter.invalidate(position.iupd)
                except AdapterConflict:
                    _invalidation_refused(position, adapter)
            else:
                try:
                    adapter.create(_position_data(position))
                except AdapterConflict as exc:
                    remote = adapter.read(position.iupd)
                    if remote is None:
                        raise AdapterRejected(f"IUV già usato da un'altra posizione: {exc}") from exc
                position.remote_created = True
                if position.status == DebtPosition.Status.IN_PREPARAZIONE:
                    position.status = DebtPosition.Status.APERTA
        except AdapterUnavailable as exc:
            failure = exc
            position.last_error = str(exc)[:500]
            logger.warning(
                "position %s: pagoPA unavailable (attempt %s): %s", position.iupd, position.attempts, exc
            )
        except AdapterRejected as exc:
            position.sync = DebtPosition.Sync.ERRORE
            position.last_error = str(exc)[:500]
            logger.error("position %s refused by pagoPA: %s", position.iupd, exc)
        else:
            position.sync = DebtPosition.Sync.ALLINEATA
            position.last_error = ""
        position.save()
    return failure


def _invalidation_refused(position: DebtPosition, adapter: PaymentAdapter) -> None:
    """pagoPA answered 409 to the cancellation of `position`: already invalid there, or paid.

    A family may pay a rata at a PSP just before the cancellation reaches
    pagoPA, which then refuses it (the position is partly paid) and keeps the
    other rate payable. The rate paid are recorded at once (the hourly
    reconciliation reads only open positions, so it would never find them),
    and the position is left to staff as refused by pagoPA: refund, or
    restore it.
    """
    remote = adapter.read(position.iupd)
    if remote is None or not any(option.paid for option in remote.instalments):
        return  # already invalid there
    _reconcile_one(position.iupd, remote)
    raise AdapterRejected(
        "pagoPA non ha annullato la posizione: ha rate già pagate (registrate). "
        "Decidi se rimborsarle o ripristinare la posizione."
    )


@dataclass(frozen=True)
class ReceiptOutcome:
    instalment: Instalment
    changed: bool
    # Recorded on a cancelled position: a refund or an allocation is due.
    position_cancelled: bool = False


def receipt_record(
    *,
    iuv: str,
    receipt_id: str,
    amount_cents: int,
    paid_at: datetime,
    channel: str,
    by: Any = None,
    request: HttpRequest | None = None,
) -> ReceiptOutcome:
    """Mark the rata of `iuv` paid. The same receipt twice, or a rata already paid, changes nothing.

    The position is locked before its rata, in the order position_invalidate
    locks them: two receipts for two rate of one position, or a receipt and a
    cancellation by staff, run one after the other. The second receipt then
    sees the first rata paid and closes the position; a cancellation sees the
    rata paid and keeps the position; a receipt after a cancellation finds it
    cancelled.

    A payment of a cancelled position's rata is recorded all the same (the
    money is real, and pagoPA must not send it again), but the position stays
    cancelled and the audit log says a refund or an allocation is due: the
    family may be paying an old avviso after a rejection, or after the
    enrollment was confirmed again with a new position.
    """
    if len(receipt_id) > RECEIPT_ID_MAX:
        raise PaymentError(
            f"Identificativo della ricevuta troppo lungo (al più {RECEIPT_ID_MAX} caratteri).",
            code="receipt_id_too_long",
        )
    with transaction.atomic():
        found = Instalment.objects.filter(iuv=iuv).values_list("pk", "position_id").first()
        if found is None:
            raise PaymentError(f"Nessuna rata con IUV {iuv} in questo comune.", code="unknown_iuv")
        position = DebtPosition.objects.select_for_update().get(pk=found[1])
        instalment = Instalment.objects.select_for_update().get(pk=found[0])
        instalment.position = position
        if instalment.status == Instalment.Status.PAGATA:
            return ReceiptOutcome(instalment, changed=False)
        if amount_cents != instalment.amount_cents:
            raise PaymentError(
                f"Importo pagato {euro_text(amount_cents)} diverso "
                f"dalla rata ({euro_text(instalment.amount_cents)}).",
                code="amount_mismatch",
            )
        if Instalment.objects.filter(receipt_id=receipt_id).exists():
            raise PaymentError(
                f"La ricevuta {receipt_id} è già registrata per un'altra rata.", code="receipt_reused"
            )
        cancelled = position.status == DebtPosition.Status.ANNULLATA
        instalment.status = Instalment.Status.PAGATA
        instalment.paid_at = paid_at
        instalment.paid_amount_cents = amount_cents
        instalment.receipt_id = receipt_id
        instalment.channel = channel[:20]
        instalment.save(update_fields=["status", "paid_at", "paid_amount_cents", "receipt_id", "channel"])
        if not cancelled and not position.instalments.exclude(status=Instalment.Status.PAGATA).exists():
            position.status = DebtPosition.Status.PAGATA
            position.save(update_fields=["status", "updated_at"])
        paid = f"Rata {instalment.number} di {position.description}: pagata {euro_text(amount_cents)}"
        paid += f" ({channel})"
        audit_record(
            action="payments.paid_cancelled" if cancelled else "payments.paid",
            actor=by,
            obj=instalment,
            message=f"{paid}, ma la posizione è annullata: da rimborsare o imputare" if cancelled else paid,
            data={"iuv": iuv, "receipt_id": receipt_id, "channel": channel, "position_cancelled": cancelled},
            request=request,
        )
    return ReceiptOutcome(instalment, changed=True, position_cancelled=cancelled)


def positions_reconcile() -> int:
    """Ask pagoPA the status of each open GPD position; record what was paid. Returns the rate newly paid."""
    config = payments_config()
    if config.adapter != "gpd":
        return 0
    paid = 0
    open_positions = DebtPosition.objects.filter(
        adapter="gpd", status=DebtPosition.Status.APERTA, sync=DebtPosition.Sync.ALLINEATA
    ).values_list("iupd", flat=True)
    # One connection for the whole round; what is read is recorded at once,
    # so an outage halfway keeps what the first reads found.
    with adapter_for(config) as adapter:
        for iupd in list(open_positions):
            paid += _reconcile_one(iupd, adapter.read(iupd))
    return paid


def _reconcile_one(iupd: str, remote: RemotePosition | None) -> int:
    paid = 0
    if remote is None:
        return 0
    for option in remote.instalments:
        if not option.paid:
            continue
        try:
            outcome = receipt_record(
                iuv=option.iuv,
                receipt_id=option.receipt_id or f"gpd-{option.iuv}",
                amount_cents=option.amount_cents,
                paid_at=option.paid_at or timezone.now(),
                channel="pagoPA",
            )
        except PaymentError as exc:
            logger.error("reconcile %s/%s: %s", iupd, option.iuv, exc.message)
            continue
        paid += outcome.changed
    return paid


def gate_exception_grant(
    *,
    codice_fiscale: str,
    service_code: str,
    school_year: str,
    reason: str,
    by: Any,
    request: HttpRequest | None = None,
) -> GateException:
    """Let the family of `codice_fiscale` enrol in the service despite expired debts. Audited."""
    if not reason.strip():
        raise PaymentError("Indica il motivo dell'eccezione: resta nel registro.", code="reason_required")
    with transaction.atomic():
        exception, _ = GateException.objects.update_or_create(
            codice_fiscale=codice_fiscale.upper(),
            service_code=service_code,
            school_year=school_year,
            defaults={"reason": reason.strip()[:500], "granted_by": by},
        )
        audit_record(
            action="payments.gate_exception",
            actor=by,
            obj=exception,
            message=f"Eccezione debiti per {codice_fiscale.upper()} su {service_code} {school_year}: "
            f"{reason}"[:500],
            data={"codice_fiscale": codice_fiscale.upper(), "service": service_code, "reason": reason},
            request=request,
        )
    return exception
