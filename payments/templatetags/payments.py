"""Template filters for amounts in cents and codici avviso."""

from __future__ import annotations

from django import template

from payments.codes import codice_avviso_display
from payments.money import euro_text

register = template.Library()


@register.filter
def euro_cents(cents: int) -> str:
    return euro_text(int(cents))


@register.filter
def avviso_grouped(value: str) -> str:
    return codice_avviso_display(value)
