"""The e-mails an enrollment sends to the parent: the receipt with the credentials letter, and the outcome.

Queued by enrollment.services inside the transaction that causes them; the
job queue sends them after commit.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from core.models import OutgoingEmail
from core.services import email_enqueue
from enrollment import credentials
from enrollment.models import Enrollment
from enrollment.selectors import comune_current
from payments.appio import io_message_enqueue
from payments.models import DebtPosition
from payments.money import euro_text


def recipient(enrollment: Enrollment) -> list[str]:
    """Where the parent's e-mails about `enrollment` go: the address it was submitted with."""
    account = enrollment.guardian.account
    email = enrollment.guardian_shown.email or (account.email if account else "")
    return [email] if email else []


def notify_submitted(rows: list[Enrollment]) -> None:
    """The receipt of a submitted form, with its riepilogo attached.

    The mail job renders the riepilogo when it attaches it, and the parent's
    download then finds it stored; only a form with no address to mail gets
    a job of its own for it. The manuale is the same for the whole comune:
    its first download queues it (a queueing lock shared by every submission
    of the comune made them wait for each other at a window's opening).
    """
    from enrollment.documents import document_prepare_defer

    first = rows[0]
    riepilogo = {"document": "enrollment.riepilogo", "params": {"domanda": str(first.domanda)}}
    to = recipient(first)
    if not to:
        document_prepare_defer(spec=riepilogo)
        return
    comune = comune_current()
    context = {"enrollments": rows, "pupil": first.pupil, "guardian": first.guardian_shown, "comune": comune}
    email_enqueue(
        to=to,
        subject=f"Ricevuta iscrizione {first.pupil.full_name} - {comune.display_name}",
        body=render_to_string("enrollment/email/submitted.txt", context),
        attachments=[riepilogo],
        purpose="enrollment_submitted",
    )


def notify_credentials(rows: list[Enrollment]) -> None:
    """The credentials letter that goes with a submission (with the password if one was just issued)."""
    first = rows[0]
    account = first.guardian.account
    to = recipient(first)
    if account is None or not to or _credentials_letter_sent(account.pk):
        return
    comune = comune_current()
    letter = credentials.letter_credentials(account=account)
    email_enqueue(
        to=to,
        subject=f"Credenziali di accesso al portale - {comune.display_name}",
        body=render_to_string("enrollment/email/credentials.txt", {"comune": comune, "credentials": letter}),
        attachments=[{"document": "enrollment.lettera_credenziali", "params": {"account_id": account.pk}}],
        purpose="credentials_letter",
    )


def _credentials_letter_sent(account_id: int) -> bool:
    """Whether the lettera credenziali of the account is on its way: only the first submission sends it."""
    letter = [{"document": "enrollment.lettera_credenziali", "params": {"account_id": account_id}}]
    return OutgoingEmail.objects.filter(purpose="credentials_letter", attachments__contains=letter).exists()


def mail_parent(
    enrollment: Enrollment,
    *,
    template: str,
    subject: str,
    purpose: str,
    context: dict[str, Any] | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> None:
    """Queue `template` about `enrollment` to its parent, the subject ending with the comune's name."""
    to = recipient(enrollment)
    if not to:
        return
    comune = comune_current()
    email_enqueue(
        to=to,
        subject=f"{subject} - {comune.display_name}",
        body=render_to_string(template, {"enrollment": enrollment, "comune": comune, **(context or {})}),
        purpose=purpose,
        attachments=attachments,
    )


def notify_outcome(enrollment: Enrollment, purpose: str, *, position: DebtPosition | None = None) -> None:
    """The decision's mail; with the debt position of a confirmation, its avviso attached."""
    mail_parent(
        enrollment,
        template="enrollment/email/outcome.txt",
        subject=f"Iscrizione n. {enrollment.reference} {enrollment.get_status_display().lower()}",
        purpose=purpose,
        context={"position": position, "rate": list(position.instalments.all()) if position else []},
        attachments=[{"document": "payments.avviso", "params": {"position_id": position.pk}}]
        if position
        else None,
    )
    _notify_io(enrollment, position)


def _notify_io(enrollment: Enrollment, position: DebtPosition | None) -> None:
    """The same outcome, and each new avviso, in the parent's App IO inbox (when the comune uses IO)."""
    status = enrollment.get_status_display().lower()
    decided = enrollment.decided_at.isoformat() if enrollment.decided_at else ""
    note = f"\n\nNote dell'ufficio: {enrollment.outcome_note}" if enrollment.outcome_note else ""
    io_message_enqueue(
        key=f"{enrollment.status}:{enrollment.reference}:{decided}",
        fiscal_code=enrollment.guardian_shown.codice_fiscale,
        subject=f"Iscrizione {enrollment.service.name} {status}",
        markdown=(
            f"L'iscrizione n. **{enrollment.reference}** di {enrollment.pupil.full_name} a "
            f"{enrollment.service.name} {enrollment.school_year} è stata **{status}**.{note}\n\n"
            'Puoi vedere lo stato dell\'iscrizione nel portale del comune, nel box "Stato Iscrizione".'
        ),
    )
    if position is None:
        return
    for rata in position.instalments.all():
        io_message_enqueue(
            key=f"notice:{rata.iuv}",
            fiscal_code=position.payer_codice_fiscale,
            subject=f"Avviso di pagamento: {enrollment.service.name} {enrollment.school_year}",
            markdown=(
                f"È disponibile l'avviso di pagamento per **{position.description}**, rata {rata.number}: "
                f"**{euro_text(rata.amount_cents)}** entro il {rata.due_date:%d/%m/%Y}.\n\n"
                f"Codice avviso {rata.codice_avviso}: puoi pagarlo in app IO o con ogni canale pagoPA."
            ),
            notice_number=rata.codice_avviso,
            amount_cents=rata.amount_cents,
        )
