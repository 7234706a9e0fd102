"""Personal data of a family: export (art. 15/20 GDPR), erasure (art. 17) and retention.

What the comune must keep (applications with their reference, service,
dates and outcome) stays, with every personal value replaced by a
pseudonym; everything else of the family is deleted. `PERSONAL_FIELDS` is
the one list of the personal values per model: a new personal field is one
more name there.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from core.models import AuditEntry, OutgoingEmail
from core.services import audit_record
from core.tenancy import current_schema
from enrollment.documents import PdfDocument, Riepilogo
from enrollment.models import Enrollment, Feedback, Guardian, Pupil
from enrollment.selectors import comune_current, family_audit_query, guardian_personal_data
from enrollment.uploads import archive_name, upload_read, uploads_of_family
from identity.models import Account, EmailVerification

# Applications the comune keeps (pseudonymised); drafts are deleted.
KEPT_STATUSES = (
    Enrollment.Status.INVIATA,
    Enrollment.Status.CONFERMATA,
    Enrollment.Status.RESPINTA,
    Enrollment.Status.ANNULLATA,
)
ERASED = "[dati cancellati]"

# Per model, each personal field and what replaces it: "name" (a pseudonym),
# "code" (a 16-character pseudonym that keeps unique columns unique), or a value.
PERSONAL_FIELDS: dict[type[models.Model], dict[str, Any]] = {
    Guardian: {
        "first_name": "name",
        "last_name": "name",
        "codice_fiscale": "code",
        "email": "",
        "phone": "",
        "address": "",
        "cap": "",
        "city": "",
    },
    Pupil: {
        "first_name": "name",
        "last_name": "name",
        "codice_fiscale": "code",
        "birth_date": date(1900, 1, 1),
        "birth_place": "",
        "class_section": "",
    },
    Enrollment: {"extra": {}, "outcome_note": "", "guardian_snapshot": {}},
    Account: {
        "username": "name",
        "codice_fiscale": "",
        "codice_utente": None,
        "first_name": "",
        "last_name": "",
        "email": "",
        "email_verified_at": None,
        "is_active": False,
    },
}


class GdprError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def pseudonym(obj: models.Model) -> str:
    """Stable per record, not reversible without the secret key: CANCELLATO-<hash>."""
    digest = hashlib.sha256(
        f"{settings.SECRET_KEY}|{current_schema()}|{obj._meta.label_lower}|{obj.pk}".encode()
    ).hexdigest()
    return f"CANCELLATO-{digest[:10]}"


def _pseudonymise(obj: models.Model) -> None:
    name = pseudonym(obj)
    for field, replacement in PERSONAL_FIELDS[type(obj)].items():
        if replacement == "name":
            replacement = name
        elif replacement == "code":
            replacement = ("X" + name.removeprefix("CANCELLATO-")).upper().ljust(16, "0")[:16]
        setattr(obj, field, replacement)
    if isinstance(obj, Account):
        obj.set_unusable_password()
    obj.save()


class DatiPersonali(PdfDocument):
    """All the data of a family, for the person who asked (never stored on disk)."""

    template_name = "enrollment/pdf/dati_personali.html"
    title = "Dati personali trattati dal comune"

    def __init__(self, *, comune: Any, data: dict[str, Any]) -> None:
        super().__init__(comune=comune)
        self.data = data

    def filename(self) -> str:
        return "dati-personali.pdf"

    def context(self) -> dict[str, Any]:
        return {"data": self.data}


@dataclass
class FamilyExport:
    json: bytes
    pdf: bytes
    # The family's uploaded files: (name in the archive, bytes), as `allegati` in the JSON lists them.
    files: list[tuple[str, bytes]]

    def archive(self) -> bytes:
        """One ZIP with the JSON, the PDF and the files under allegati/<riferimento>/."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("dati-personali.json", self.json)
            archive.writestr("dati-personali.pdf", self.pdf)
            for name, content in self.files:
                archive.writestr(name, content)
        return buffer.getvalue()


def family_export(*, guardian: Guardian, by: Any = None, actor_label: str = "") -> FamilyExport:
    """The family's data as JSON and PDF, with its uploaded files; the export is audited
    (without the data)."""
    data = guardian_personal_data(guardian=guardian)
    payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    pdf = DatiPersonali(comune=comune_current(), data=data).render()
    files = []
    for upload in uploads_of_family(guardian=guardian):
        content = upload_read(upload)
        if content is not None:  # a row whose file is gone has nothing to hand over but its data
            files.append((archive_name(upload), content))
    with transaction.atomic():
        audit_record(
            action="gdpr.exported",
            actor=by,
            obj=guardian,
            message="Esportazione dei dati personali",
            actor_label=actor_label,
        )
    return FamilyExport(json=payload, pdf=pdf, files=files)


def _stored_riepiloghi(domande: set[Any]) -> list[Path]:
    comune = comune_current()
    paths = []
    for domanda in domande:
        for language, _ in settings.LANGUAGES:  # the English riepilogo is a file of its own
            doc = Riepilogo(comune=comune, domanda=domanda, language=language)
            paths += list(doc.stored_path().parent.glob(f"{doc._stem()}-*.pdf"))
    return paths


def _identifying_values(guardian: Guardian) -> set[str]:
    """Values that single out this family in free text (audit messages, e-mails).

    First names alone or a CAP would also match other families, so only
    full names, codici, contacts and the address are searched.
    """
    values: set[str] = set()
    people: list[Guardian | Pupil] = [guardian, *guardian.pupils.all()]
    for person in people:
        values |= {person.full_name, f"{person.last_name} {person.first_name}", person.codice_fiscale}
    values |= {guardian.email, guardian.phone, guardian.address}
    if guardian.account is not None:
        values |= {guardian.account.username, guardian.account.codice_utente or "", guardian.account.email}
    return {v for v in values if len(v.strip()) >= 4}


def _family_erase(*, guardian: Guardian, keep: Q) -> dict[str, int]:
    """Delete the family's records not matched by `keep`, pseudonymise the rest."""
    account = guardian.account
    values = _identifying_values(guardian)
    enrollments = guardian.enrollments.all()
    domande = set(enrollments.values_list("domanda", flat=True))
    files = _stored_riepiloghi(domande)
    audit_query = family_audit_query(guardian=guardian)
    # Every file of the family goes, also those of the applications kept: they
    # keep no answers (`extra` is emptied), so a certificate has nothing left to
    # document. Each file is removed from disk after the commit (enrollment.signals).
    uploads = list(uploads_of_family(guardian=guardian))
    for upload in uploads:
        upload.delete()
    counts = {"allegati_cancellati": len(uploads)}
    counts["iscrizioni_cancellate"] = enrollments.exclude(keep).delete()[0]
    kept = list(guardian.enrollments.all())
    for enrollment in kept:
        _pseudonymise(enrollment)
    counts["iscrizioni_pseudonimizzate"] = len(kept)
    kept_pupils = {e.pupil_id for e in kept}
    for pupil in guardian.pupils.all():
        if pupil.pk in kept_pupils:
            _pseudonymise(pupil)
        else:
            pupil.delete()
    if account is not None:
        EmailVerification.objects.filter(account=account).delete()
        # The stars stay in the comune's average; the parent's own words go.
        Feedback.objects.filter(account=account).update(account=None, details="")
        _pseudonymise(account)
    if kept:
        _pseudonymise(guardian)
        guardian.consents.update(account=None)
    else:
        guardian.consents.all().delete()
        guardian.delete()
    # Audit entries and e-mails keep their facts, not the family's values.
    mentions = Q()
    for value in values:
        mentions |= Q(message__icontains=value) | Q(actor_label__icontains=value) | Q(data__icontains=value)
    AuditEntry.objects.filter(audit_query | mentions).update(message=ERASED, data={}, actor_label=ERASED)
    mail_mentions = Q()
    for value in values:
        mail_mentions |= Q(to__icontains=value) | Q(subject__icontains=value) | Q(body__icontains=value)
    counts["email_cancellate"] = OutgoingEmail.objects.filter(mail_mentions).delete()[0] if values else 0
    transaction.on_commit(lambda: _files_delete(files))
    return counts


def _files_delete(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def family_erase(
    *, guardian: Guardian, confirmation: str, by: Any = None, actor_label: str = ""
) -> dict[str, int]:
    """Erase a family (art. 17 GDPR); irreversible, so `confirmation` is the guardian's codice fiscale."""
    if confirmation.strip().upper() != guardian.codice_fiscale.upper():
        raise GdprError(
            "Conferma non valida: per cancellare i dati scrivi esattamente il codice fiscale del genitore "
            f"({guardian.codice_fiscale})."
        )
    with transaction.atomic():
        guardian_id = guardian.pk
        counts = _family_erase(guardian=guardian, keep=Q(status__in=KEPT_STATUSES))
        audit_record(
            action="gdpr.erased",
            actor=by,
            message=f"Cancellazione dei dati personali del genitore n. {guardian_id}",
            data=counts,
            actor_label=actor_label,
        )
    return counts


def school_year_end(school_year: str) -> date:
    """A school year `2024/2025` ends on 31 August 2025."""
    return date(int(school_year[5:9]), 8, 31)


def retention_apply(*, years: int, today: date | None = None) -> dict[str, int]:
    """In the current comune, erase what is older than `years` after its school year ended."""
    today = today or timezone.localdate()
    cutoff_year = today.year - years - (1 if (today.month, today.day) <= (8, 31) else 0)
    # School years ending in `cutoff_year` or before have ended more than `years` ago.
    expired = [
        y
        for y in Enrollment.objects.values_list("school_year", flat=True).distinct()
        if school_year_end(y).year <= cutoff_year
    ]
    totals = {"iscrizioni_cancellate": 0, "famiglie_cancellate": 0}
    if not expired:
        return totals
    with transaction.atomic():
        families = Guardian.objects.filter(enrollments__school_year__in=expired).distinct()
        for guardian in families.select_related("account"):
            old = Q(school_year__in=expired)
            totals["iscrizioni_cancellate"] += guardian.enrollments.filter(old).count()
            if guardian.enrollments.exclude(old).exists():
                pupils = set(guardian.enrollments.filter(old).values_list("pupil_id", flat=True))
                guardian.enrollments.filter(old).delete()
                Pupil.objects.filter(pk__in=pupils, enrollments__isnull=True).delete()
            else:
                _family_erase(guardian=guardian, keep=Q(pk__in=[]))
                totals["famiglie_cancellate"] += 1
        audit_record(
            action="gdpr.retention",
            message=f"Conservazione: cancellati i dati degli anni scolastici {', '.join(sorted(expired))}",
            data=totals,
            actor_label="conservazione automatica",
        )
    return totals
