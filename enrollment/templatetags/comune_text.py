"""Italian articulated prepositions before a comune's name ("del Comune", "della Città")."""

from __future__ import annotations

from django import template

from tenants.models import Comune

register = template.Library()


@register.filter
def del_comune(comune: Comune) -> str:
    return f"{'della' if comune.kind == Comune.Kind.CITTA else 'del'} {comune.display_name}"


@register.filter
def al_comune(comune: Comune) -> str:
    return f"{'alla' if comune.kind == Comune.Kind.CITTA else 'al'} {comune.display_name}"
