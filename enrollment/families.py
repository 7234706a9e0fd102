"""Writes on a family's records: the guardian, the pupils and the privacy consent.

Called inside the enrollment services' transactions (enrollment.services for
the parents, enrollment.backoffice.services at the counter), which hold the
locks and decide when these records change.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from core.services import audit_record
from enrollment.errors import EnrollmentError
from enrollment.models import Guardian, PrivacyConsent, Pupil
from enrollment.rules import GUARDIAN_FIELDS, PRIVACY_TEXT, PRIVACY_VERSION, PUPIL_FIELDS
from identity.models import Account

# Worded so that it does not confirm that another family enrolled this child.
PUPIL_TAKEN = (
    "Non è possibile salvare l'iscrizione per questo codice fiscale dell'alunno da questo "
    "accesso. Verificare il codice fiscale; se è corretto, contattare l'ufficio."
)


def guardian_values(data: dict[str, Any]) -> dict[str, Any]:
    """The guardian's fields out of `data`, with the codice fiscale as stored."""
    values = {f: data[f] for f in GUARDIAN_FIELDS}
    values["codice_fiscale"] = values["codice_fiscale"].strip().upper()
    return values


def guardian_apply(
    *, guardian: Guardian, values: dict[str, Any], by: Any, request: HttpRequest | None = None
) -> list[str]:
    """Write `values` on `guardian` and audit which fields changed and who changed them.

    The caller holds the row lock. Returns the names of the changed fields.
    """
    changed = [f for f, v in values.items() if getattr(guardian, f) != v]
    if not changed:
        return changed
    for f in changed:
        setattr(guardian, f, values[f])
    guardian.save()
    audit_record(
        action="guardian.updated",
        actor=by,
        obj=guardian,
        message=f"Dati del genitore/tutore modificati: {', '.join(changed)}",
        data={"fields": changed},
        request=request,
    )
    return changed


def guardian_write(
    *,
    guardian: Guardian | None,
    values: dict[str, Any],
    account: Account | None,
    by: Any,
    request: HttpRequest | None = None,
) -> Guardian:
    """Create the guardian (owned by `account`, or by no account) or update the locked `guardian`."""
    if guardian is not None:
        guardian_apply(guardian=guardian, values=values, by=by, request=request)
        return guardian
    guardian = Guardian.objects.create(account=account, **values)
    audit_record(
        action="guardian.created",
        actor=by,
        obj=guardian,
        message="Dati del genitore/tutore inseriti",
        data={"fields": list(values)},
        request=request,
    )
    return guardian


def guardian_save(*, account: Account, data: dict[str, Any], request: HttpRequest | None = None) -> Guardian:
    """Create or update the guardian anagrafica owned by `account`.

    Enrollments already submitted keep their own copy of these data
    (Enrollment.guardian_snapshot); only drafts follow the change.
    """
    with transaction.atomic():
        guardian = Guardian.objects.select_for_update().filter(account=account).first()
        return guardian_write(
            guardian=guardian, values=guardian_values(data), account=account, by=account, request=request
        )


def pupil_save(
    *, guardian: Guardian, data: dict[str, Any], pupil: Pupil | None, taken_message: str = PUPIL_TAKEN
) -> Pupil:
    """Create or update the pupil of `guardian` (`pupil`, or the one with this codice fiscale).

    A codice fiscale that belongs to another family's pupil, or to another
    pupil of a saved form, is refused with `taken_message`.
    """
    values = {f: data[f] for f in PUPIL_FIELDS}
    values["codice_fiscale"] = values["codice_fiscale"].strip().upper()
    same_cf = Pupil.objects.select_for_update().filter(codice_fiscale=values["codice_fiscale"])
    other = (same_cf.exclude(pk=pupil.pk) if pupil else same_cf).first()
    if other is not None:
        if other.guardian_id != guardian.pk or pupil is not None:
            raise EnrollmentError(taken_message, code="pupil_taken")
        pupil = other
    if pupil is None:
        return Pupil.objects.create(guardian=guardian, **values)
    for f, v in values.items():
        setattr(pupil, f, v)
    pupil.save()
    return pupil


def consent_record(
    *, account: Account | None, guardian: Guardian, domanda: uuid.UUID | None
) -> PrivacyConsent:
    """Keep evidence of the consent to the current privacy text, once per form."""
    consent, _ = PrivacyConsent.objects.get_or_create(
        guardian=guardian,
        domanda=domanda,
        text_version=PRIVACY_VERSION,
        defaults={"account": account, "text": PRIVACY_TEXT},
    )
    return consent
