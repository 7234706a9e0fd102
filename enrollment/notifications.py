"""The e-mails an enrollment sends to the parent: the receipt with the credentials letter, and the outcome.

Queued by enrollment.services inside the transaction that causes them; the
job queue sends them after commit.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from core.models import OutgoingEmail
from core.services import email_enqueue
from enrollment import credentials
from enrollment.models import Enrollment
from enrollment.selectors import comune_current


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


def mail_parent(enrollment: Enrollment, *, template: str, subject: str, purpose: str) -> None:
    """Queue `template` about `enrollment` to its parent, the subject ending with the comune's name."""
    to = recipient(enrollment)
    if not to:
        return
    comune = comune_current()
    email_enqueue(
        to=to,
        subject=f"{subject} - {comune.display_name}",
        body=render_to_string(template, {"enrollment": enrollment, "comune": comune}),
        purpose=purpose,
    )


def notify_outcome(enrollment: Enrollment, purpose: str) -> None:
    mail_parent(
        enrollment,
        template="enrollment/email/outcome.txt",
        subject=f"Iscrizione n. {enrollment.reference} {enrollment.get_status_display().lower()}",
        purpose=purpose,
    )
