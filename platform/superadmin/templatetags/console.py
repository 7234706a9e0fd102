"""Form rendering helpers: a field's widget tied to its error and help text."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def described(field: BoundField, css_class: str = "") -> SafeString:
    """The widget with aria-describedby naming its errors and help, and aria-invalid when wrong."""
    ids = []
    attrs: dict[str, str | bool] = {}
    if field.errors:
        ids.append(f"{field.auto_id}_errori")
        attrs["aria-invalid"] = "true"
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    if css_class:
        attrs["class"] = css_class
    return field.as_widget(attrs=attrs)
