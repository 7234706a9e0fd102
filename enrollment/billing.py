"""What an enrollment owes: the payments app called with plain data.

On confirmation an enrollment with a fee becomes a debt position of the
comune (payments.services.positions_create), in the rate of the service's
`fees.instalments`; a rejection or a withdrawal cancels the position if
nothing was paid. Reopening a decision keeps the position, so confirming
again does not print new avvisi. Comuni without a `payments:` block in their
YAML, and free services, get no position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest

from enrollment.definitions import service_definition
from enrollment.errors import EnrollmentError
from enrollment.models import Enrollment
from enrollment.selectors import comune_current, enrollment_fees
from payments.errors import PaymentError
from payments.models import DebtPosition
from payments.money import euro_text
from payments.selectors import debts_blocking
from payments.services import PositionRequest, position_invalidate, positions_batched, positions_create


def enrollment_source(enrollment: Enrollment) -> str:
    """The payments' `source` of the enrollment's position."""
    return f"enrollment:{enrollment.reference}"


def enrollment_debt_open(
    *, enrollment: Enrollment, by: Any, request: HttpRequest | None = None
) -> DebtPosition | None:
    """The debt position of a confirmed enrollment, created once; None when nothing is owed."""
    return enrollments_debt_open(enrollments=[enrollment], by=by, request=request).get(enrollment.pk)


def enrollments_debt_open(
    *, enrollments: Sequence[Enrollment], by: Any, request: HttpRequest | None = None
) -> dict[int, DebtPosition]:
    """The debt positions of confirmed enrollments by enrollment id, created together
    (`positions_create`: a few statements for any number); those that owe nothing are absent.

    A position refused (e.g. no codice fiscale to charge) is an EnrollmentError
    naming the service and the pupil, and refuses the whole batch.
    """
    if not enrollments or comune_current().settings.payments is None:
        return {}
    fees = enrollment_fees(enrollments=enrollments)
    owing = [(e, fee) for e in enrollments if (fee := fees[e.pk])]
    wanted = []
    for enrollment, fee in owing:
        guardian = enrollment.guardian_shown
        service = enrollment.service
        definition = service_definition(service)
        account = enrollment.guardian.account
        wanted.append(
            PositionRequest(
                source=enrollment_source(enrollment),
                payer_account=account,
                payer_codice_fiscale=guardian.codice_fiscale,
                payer_name=guardian.full_name,
                payer_email=guardian.email or (account.email if account else ""),
                description=f"{service.name} {enrollment.school_year} – {enrollment.pupil.full_name}",
                amount=fee,
                instalments=definition.fees.instalments if definition.fees else (),
                service_code=service.code,
                school_year=enrollment.school_year,
                language=enrollment.language,
            )
        )
    try:
        positions = positions_create(wanted=wanted, by=by, request=request)
    except PaymentError as exc:
        raise EnrollmentError(exc.message, code=exc.code) from exc
    return {e.pk: p for (e, _), p in zip(owing, positions, strict=True)}


# Around a bulk decision: its positions are sent by one job per batch.
debts_batched = positions_batched


def enrollment_debt_cancel(
    *, enrollment: Enrollment, reason: str, by: Any, request: HttpRequest | None = None
) -> None:
    position_invalidate(source=enrollment_source(enrollment), reason=reason, by=by, request=request)


def debts_gate_check(*, enrollments: Sequence[Enrollment]) -> None:
    """Refuse to submit when a service says `block_if_unpaid` and the family owes expired rate.

    The message names each debt and how to pay it; staff may grant an
    exception (payments.services.gate_exception_grant).
    """
    comune = comune_current()
    if comune.settings.payments is None:
        return
    for enrollment in enrollments:
        definition = service_definition(enrollment.service)
        if definition.fees is None or not definition.fees.block_if_unpaid:
            continue
        owed = debts_blocking(
            codice_fiscale=enrollment.guardian.codice_fiscale,
            service_code=enrollment.service.code,
            school_year=enrollment.school_year,
        )
        if not owed:
            continue
        total = sum(i.amount_cents for i in owed)
        items = "; ".join(
            f"{i.position.description} (rata {i.number}, {euro_text(i.amount_cents)}, scaduta il "
            f"{i.due_date:%d/%m/%Y}, codice avviso {i.codice_avviso})"
            for i in owed
        )
        contacts = comune.settings.contacts
        office = (
            f" ({contacts.office}{', tel. ' + contacts.phone if contacts.phone else ''})"
            if contacts.office
            else ""
        )
        raise EnrollmentError(
            f"Non è possibile inviare l'iscrizione a {enrollment.service.name} {enrollment.school_year}: "
            f"risultano pagamenti scaduti per {euro_text(total)}: {items}. "
            "Puoi pagarli online dalla pagina Pagamenti dell'area personale o con l'avviso pagoPA "
            "in banca, in ricevitoria o dal tabaccaio; poi invia di nuovo l'iscrizione. "
            f"Se hai già pagato o hai bisogno di un'eccezione, contatta l'ufficio{office}.",
            code="unpaid_debts",
        )
