"""Renders a form field with the ARIA links to its help text and error."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def accessible(field: BoundField, extra_describedby: str = "") -> SafeString:
    """The widget with class, aria-describedby (help, requirements, error) and aria-invalid."""
    described = [extra_describedby] if extra_describedby else []
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    attrs = {"class": "form-control"}
    if field.errors:
        described.append(f"{field.auto_id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.field.required:
        attrs["aria-required"] = "true"
    return field.as_widget(attrs=attrs)
