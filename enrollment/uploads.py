"""Files attached to file questions: checking, storing, reading them back.

A file is checked before anything is stored: not empty, not above the
comune's `upload_max_mb`, and a PDF, JPEG or PNG by its first bytes (the
name and the browser's content type prove nothing). The bytes go to
`UPLOADS_DIR/<schema>/<uuid>`: the schema keeps comuni apart, the random id
keeps the parent's file name out of the path. The answer to the question
stores the upload's id; `enrollment.views.upload_download` serves the file
to the parent who uploaded it and to the comune's staff only.

The bytes go with their row: deleting an `Upload` (its enrollment's
retention or erasure, a draft removed, a file replaced by a new one)
removes the file once the transaction commits (`enrollment.signals`), never
before, so a rollback keeps row and file together. Exports name each file
by `archive_name`: the family's (enrollment.gdpr) and the comune's
(superadmin.operations).

A file chosen on a step of the parents' form and carried to another step
before any save (files cannot ride in hidden inputs) is stored the same way,
unattached, and named on the page by `upload_carry_token`: a reference
signed with the site's key that binds the upload to the parent's account,
the comune's schema and the question. `upload_carried` reads it back and
refuses, in Italian, one made for another parent or another comune; the
save attaches the upload to its enrollment.

An API upload, or a carried one, that no enrollment names after
`UPLOADS_UNATTACHED_MAX_HOURS` is removed by `uploads_unattached_sweep`
(the nightly `enrollment.uploads_sweep` job, or `manage.py uploads_sweep`).
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext, gettext_noop

from core.services import audit_record
from core.tenancy import current_schema
from enrollment.models import Enrollment, Guardian, Upload
from tenants.selectors import comune_current

# Magic numbers of the accepted types: what the content is, whatever its name says.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
NAME_MAX = 100
CHUNK = 64 * 1024


class UploadRefused(Exception):
    """A file that is not stored; the message is shown by its field."""


@dataclass(frozen=True)
class CheckedFile:
    file: UploadedFile
    name: str
    content_type: str


def upload_path(upload_id: uuid.UUID | str, *, schema: str | None = None) -> Path:
    return Path(settings.UPLOADS_DIR) / (schema or current_schema()) / str(upload_id)


def upload_max_bytes() -> int:
    comune = comune_current()
    megabytes = comune.settings.upload_max_mb if comune is not None else 10
    return megabytes * 1024 * 1024


def safe_name(original: str, extension: str) -> str:
    """The parent's file name without path, accents or odd characters, with the real extension."""
    base = os.path.basename(original.replace("\\", "/"))
    stem = os.path.splitext(base)[0]
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = get_valid_filename(ascii_stem.strip() or "documento").strip("._-") or "documento"
    return f"{stem[:NAME_MAX]}.{extension}"


def upload_check(*, file: UploadedFile, max_bytes: int) -> CheckedFile:
    """The file if it may be stored, else UploadRefused with the Italian reason."""
    size = file.size or 0
    if size == 0:
        raise UploadRefused("Il file è vuoto: allega un file PDF, JPEG o PNG.")
    if size > max_bytes:
        limit = max_bytes // (1024 * 1024)
        raise UploadRefused(
            f"Il file è troppo grande ({size / (1024 * 1024):.1f} MB): il massimo è {limit} MB.".replace(
                ".", ",", 1
            )
        )
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    for signature, content_type, extension in SIGNATURES:
        if head.startswith(signature):
            return CheckedFile(
                file=file, name=safe_name(file.name or "", extension), content_type=content_type
            )
    raise UploadRefused(
        "Il file non è un PDF, un'immagine JPEG o PNG: allega un documento in uno di questi formati."
    )


def upload_store(
    *, checked: CheckedFile, account: Any, enrollment: Enrollment | None, question_id: str
) -> Upload:
    """Write the checked file and its row: inside the form's save transaction, or ahead of it
    (the API's upload, linked to its enrollment when an answer names it)."""
    upload = Upload(
        account=account,
        enrollment=enrollment,
        question_id=question_id,
        name=checked.name,
        content_type=checked.content_type,
        size=checked.file.size or 0,
    )
    path = upload_path(upload.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    checked.file.seek(0)
    with path.open("xb") as out:
        for chunk in checked.file.chunks(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    upload.sha256 = digest.hexdigest()
    upload.save()
    return upload


CARRY_SALT = "enrollment.uploads.carried"
CARRIED_GONE = gettext_noop(
    "Il file allegato in un passo precedente non è più disponibile: allegalo di nuovo."
)


def upload_carry(*, checked: CheckedFile, account: Any, question_id: str) -> tuple[Upload, str]:
    """Store a file chosen on a form step before any save, unattached, and the reference
    the page carries to the next steps (`upload_carried` reads it back)."""
    upload = upload_store(checked=checked, account=account, enrollment=None, question_id=question_id)
    return upload, upload_carry_token(upload=upload)


def upload_carry_token(*, upload: Upload) -> str:
    """The signed reference to an unattached upload: whose it is, on which comune, for which question.

    Unforgeable without the site's key, so it cannot be guessed or altered;
    it expires with the unattached uploads' sweep."""
    payload = {"u": str(upload.id), "a": upload.account_id, "c": current_schema(), "q": upload.question_id}
    return signing.dumps(payload, salt=CARRY_SALT)


def upload_carried(*, token: str, account: Any, question_id: str) -> Upload:
    """The upload a form step's reference names, for this parent on this comune; else UploadRefused."""
    gone = gettext(CARRIED_GONE)
    try:
        ref = signing.loads(
            token, salt=CARRY_SALT, max_age=timedelta(hours=settings.UPLOADS_UNATTACHED_MAX_HOURS)
        )
    except signing.BadSignature:  # altered, made up, or expired
        raise UploadRefused(gone) from None
    if not isinstance(ref, dict):
        raise UploadRefused(gone)
    if ref.get("c") != current_schema():
        raise UploadRefused(
            gettext(
                "Il file allegato in un passo precedente è stato caricato sul portale di un altro comune "
                "e qui non può essere usato: allegalo di nuovo."
            )
        )
    if account is None or ref.get("a") != account.pk:
        raise UploadRefused(
            gettext(
                "Il file allegato in un passo precedente è stato caricato da un altro utente "
                "e non può essere usato: allega il tuo file."
            )
        )
    upload = uploads_by_id([str(ref.get("u"))]).get(str(ref.get("u")))
    if upload is None or upload.account_id != account.pk or ref.get("q") != question_id:
        raise UploadRefused(gone)
    return upload


def uploads_by_id(ids: list[str]) -> dict[str, Upload]:
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return {str(u.id): u for u in Upload.objects.filter(id__in=valid)}


def upload_read(upload: Upload) -> bytes | None:
    try:
        return upload_path(upload.id).read_bytes()
    except FileNotFoundError:
        return None


def uploads_delete_files(*, ids: list[uuid.UUID], schema: str | None = None) -> None:
    """Remove stored bytes of uploads whose rows are gone (erasure, retention)."""
    for upload_id in ids:
        upload_path(upload_id, schema=schema).unlink(missing_ok=True)


def upload_file_forget(*, upload_id: uuid.UUID) -> None:
    """Remove the upload's bytes when the transaction deleting its row commits.

    The schema is read now: the callback may run after the caller has left
    the comune's schema (a command, a job looping over comuni).
    """
    schema = current_schema()
    transaction.on_commit(lambda: uploads_delete_files(ids=[upload_id], schema=schema))


def uploads_unattached_sweep(*, older_than: timedelta | None = None) -> int:
    """Remove the current comune's API uploads that no enrollment took up in time.

    An upload sent through the API waits for the answer that names it; one
    still without an enrollment after `older_than` (default
    `settings.UPLOADS_UNATTACHED_MAX_HOURS`) never will be. Rows go in one
    transaction and their files after it commits (`enrollment.signals`);
    only the current schema's rows are looked at. Returns how many went.
    """
    if older_than is None:
        older_than = timedelta(hours=settings.UPLOADS_UNATTACHED_MAX_HOURS)
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        stale = Upload.objects.filter(enrollment__isnull=True, created_at__lt=cutoff)
        count = stale.count()
        if count:
            stale.delete()
            audit_record(
                action="uploads.swept",
                message=f"Rimossi {count} allegati caricati e mai collegati a una domanda",
                data={"allegati_rimossi": count, "piu_vecchi_di_ore": older_than.total_seconds() / 3600},
            )
    return count


def uploads_of_family(*, guardian: Guardian) -> QuerySet[Upload]:
    """The family's files: those on its enrollments, and those its account uploaded
    through the API that no enrollment names yet."""
    query = Q(enrollment__guardian=guardian)
    if guardian.account_id is not None:
        query |= Q(enrollment__isnull=True, account_id=guardian.account_id)
    return Upload.objects.filter(query).select_related("enrollment").order_by("created_at", "id")


def archive_name(upload: Upload) -> str:
    """Where an export puts the file: one folder per enrollment (its reference number),
    the question and the upload's id in the name so two files never collide."""
    folder = upload.enrollment.reference if upload.enrollment is not None else "senza-iscrizione"
    return f"allegati/{folder}/{upload.question_id}-{upload.id}-{upload.name}"
