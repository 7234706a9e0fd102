"""Render a form widget with the accessibility attributes of its state."""

from __future__ import annotations

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def widget_a11y(field: forms.BoundField) -> SafeString:
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    attrs: dict[str, str] = {}
    if field.errors:
        described.append(f"{field.auto_id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.field.required:
        attrs["aria-required"] = "true"
    widget = field.field.widget
    if isinstance(widget, forms.Select):
        attrs["class"] = "form-select"
    elif not isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
        attrs["class"] = "form-control" + (" is-invalid" if field.errors else "")
    return field.as_widget(attrs=attrs)
