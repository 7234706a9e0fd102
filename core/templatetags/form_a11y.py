"""Render a form widget with the accessibility attributes of its state (every app's forms)."""

from __future__ import annotations

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def accessible(field: forms.BoundField, extra_describedby: str = "") -> SafeString:
    """The widget with its Bootstrap Italia class, aria-describedby (extra text,
    help, error), aria-invalid and aria-required."""
    described = [extra_describedby] if extra_describedby else []
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    attrs: dict[str, str | bool] = {}
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
