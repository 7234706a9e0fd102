"""Writes on renewals: last year's confirmed enrollment renewed in this year's service."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest

from enrollment.errors import EnrollmentError
from enrollment.models import Enrollment
from enrollment.selectors import domanda_enrollments, renewal_target
from enrollment.services import domanda_save
from identity.models import Account


def renewal_save(
    *,
    account: Account,
    previous: Enrollment,
    guardian_data: dict[str, Any],
    pupil_data: dict[str, Any],
    extra: dict[str, dict[str, str]] | None = None,
    consent: bool,
    domanda: uuid.UUID | None = None,
    request: HttpRequest | None = None,
) -> list[Enrollment]:
    """Save the renewal of last year's `previous` enrollment (prefilled form)."""
    if domanda is None:
        if previous.guardian.account_id != account.pk:
            raise EnrollmentError("Iscrizione non trovata.", code="not_found")
        target = renewal_target(enrollment=previous)
        if target is None:
            raise EnrollmentError(
                f"Il rinnovo di {previous.service.name} non è disponibile.", code="renewal_unavailable"
            )
        services = [target]
    else:
        services = [e.service for e in domanda_enrollments(domanda=domanda, guardian=previous.guardian)]
    return domanda_save(
        account=account,
        guardian_data=guardian_data,
        pupil_data=pupil_data,
        services=services,
        extra=extra,
        consent=consent,
        domanda=domanda,
        kind=Enrollment.Kind.RINNOVO,
        renewal_of=previous,
        request=request,
    )
