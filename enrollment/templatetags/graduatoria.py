"""`{% graduatoria_status e as g %}`: a request's place in its graduatoria, for the
status box (enrollment/_graduatoria_status.html) wherever the box is shown."""

from __future__ import annotations

from django import template

from enrollment.graduatorie import GraduatoriaStatus, graduatoria_status
from enrollment.models import Enrollment

register = template.Library()


@register.simple_tag
def graduatoria_status_of(enrollment: Enrollment) -> GraduatoriaStatus | None:
    return graduatoria_status(enrollment=enrollment)
