"""Input lengths taken from the database columns they end up in.

A form or serializer field that fills a bounded column asks the model for its
`max_length` instead of repeating the number, so a too-long value is refused
with the field's Italian message and never reaches PostgreSQL ("value too
long for type character varying"), and a migration that changes a column
changes the check with it.
"""

from __future__ import annotations

from django.db import models


def column_max_length(model: type[models.Model], field_name: str) -> int:
    field = model._meta.get_field(field_name)
    max_length = field.max_length if isinstance(field, models.Field) else None
    if max_length is None:
        raise ValueError(f"{model.__name__}.{field_name} has no max_length")
    return int(max_length)
