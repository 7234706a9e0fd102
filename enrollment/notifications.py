"""The e-mails an enrollment sends to the parent: the receipt, the credentials letter, and the outcome.

Queued by enrollment.services inside the transaction that causes them; the
job queue sends them after commit. Each speaks the parent's language: the
portal's at the submission (the parent's own request), then the one stored on
the enrollment for what staff cause later. The PDFs they attach carry that
language in their spec, since the mail job renders them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from core.languages import language_params, language_supported
from core.services import Email, email_enqueue
from enrollment import credentials
from enrollment.models import Enrollment
from enrollment.selectors import comune_current
from identity.services import credentials_letter_claim
from payments.appio import io_message_enqueue
from payments.models import DebtPosition
from payments.money import euro_text


def recipient(enrollment: Enrollment) -> list[str]:
    """Where the parent's e-mails about `enrollment` go: the address it was submitted with."""
    account = enrollment.guardian.account
    email = enrollment.guardian_shown.email or (account.email if account else "")
    return [email] if email else []


def parent_language(enrollment: Enrollment) -> str:
    """The language the parent used when submitting `enrollment` (Italian unless they chose another)."""
    return language_supported(enrollment.language)


def receipt_email(rows: list[Enrollment]) -> Email | None:
    """The receipt of a submitted form: what was sent, and where to download its riepilogo.

    None when the parent has no address. Queued by the submission together
    with the credentials letter (core.services.emails_enqueue).

    The riepilogo PDF is not attached: it is rendered when first downloaded
    (enrollment.views.pdf_download prepares and stores it). At a window's
    opening every parent submits at once, and rendering a PDF for each
    receipt kept the worker busy for minutes after the burst while few
    parents ever open it; the receipt itself, a plain message, leaves at
    once. The credentials letter, which the comune's guide promises in the
    mail, stays attached (credentials_email).
    """
    first = rows[0]
    to = recipient(first)
    if not to:
        return None
    comune = comune_current()
    riepilogo_url = settings.COMUNE_URL_TEMPLATE.format(host=comune.settings.hosts[0]) + reverse(
        "enrollment:riepilogo_pdf", args=[first.domanda]
    )
    context = {
        "enrollments": rows,
        "pupil": first.pupil,
        "guardian": first.guardian_shown,
        "comune": comune,
        "riepilogo_url": riepilogo_url,
    }
    with translation.override(parent_language(first)):
        subject = gettext("Ricevuta iscrizione %(pupil)s - %(comune)s") % {
            "pupil": first.pupil.full_name,
            "comune": comune.display_name,
        }
        body = render_to_string("enrollment/email/submitted.txt", context)
    return Email(to=to, subject=subject, body=body, purpose="enrollment_submitted")


def credentials_email(rows: list[Enrollment]) -> Email | None:
    """The credentials letter that goes with a submission (with the password if one was just issued).

    None when none is due: no account or address, or the account's letter is
    already on its way (only the first submission sends it). Built before the
    submission locks its services, queued with the receipt inside the lock.
    """
    first = rows[0]
    account = first.guardian.account
    to = recipient(first)
    if account is None or not to or not credentials_letter_claim(account=account):
        return None
    comune = comune_current()
    letter = credentials.letter_credentials(account=account)
    # Sent before the rows record their language: the portal's language of this very request.
    language = language_supported(translation.get_language())
    with translation.override(language):
        subject = gettext("Credenziali di accesso al portale - %(comune)s") % {"comune": comune.display_name}
        body = render_to_string("enrollment/email/credentials.txt", {"comune": comune, "credentials": letter})
    params = {"account_id": account.pk} | language_params(language)
    return Email(
        to=to,
        subject=subject,
        body=body,
        attachments=[{"document": "enrollment.lettera_credenziali", "params": params}],
        purpose="credentials_letter",
    )


def mail_parent(
    enrollment: Enrollment,
    *,
    template: str,
    subject: str,
    purpose: str,
    context: dict[str, Any] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    subject_params: dict[str, Any] | None = None,
) -> None:
    """Queue `template` about `enrollment` to its parent, the subject ending with the comune's name.

    Body and subject are in the parent's language: with `subject_params`, `subject` is an
    Italian msgid (gettext_noop) translated here and filled with them; without, it is taken
    as the caller wrote it."""
    to = recipient(enrollment)
    if not to:
        return
    comune = comune_current()
    with translation.override(parent_language(enrollment)):
        body = render_to_string(template, {"enrollment": enrollment, "comune": comune, **(context or {})})
        if subject_params is not None:
            subject = gettext(subject) % subject_params
    email_enqueue(
        to=to,
        subject=f"{subject} - {comune.display_name}",
        body=body,
        purpose=purpose,
        attachments=attachments,
    )


def notify_outcome(enrollment: Enrollment, purpose: str, *, position: DebtPosition | None = None) -> None:
    """The decision's mail; with the debt position of a confirmation, its avviso attached."""
    with translation.override(parent_language(enrollment)):
        subject = gettext("Iscrizione n. %(reference)s %(status)s") % {
            "reference": enrollment.reference,
            "status": gettext(enrollment.get_status_display()).lower(),
        }
    mail_parent(
        enrollment,
        template="enrollment/email/outcome.txt",
        subject=subject,
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
