"""Filters of the PDF templates (enrollment/pdf/)."""

from __future__ import annotations

from django import template

register = template.Library()

# Inside a <style> element HTML entities are not decoded: a comune named "Sant'Angelo" came out of
# the HTML escaping as "Sant&#x27;Angelo" in the page footer. So a value in a CSS string is escaped
# for CSS: the backslash, the quote, line breaks, and < > so that no "</style>" can end the element.
_CSS_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\A ", "\r": "", "<": "\\3C ", ">": "\\3E "}


@register.filter
def css_string(value: object) -> str:
    """`value` as the text of a double-quoted CSS string (use it with autoescape off)."""
    return "".join(_CSS_STRING_ESCAPES.get(ch, ch) for ch in str(value))
