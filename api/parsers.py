"""The API's JSON parser: DRF's, with a bound on nesting.

Python's JSON decoder recurses once per level: `[` repeated a few thousand
times raises RecursionError, which DRF does not catch (a 500, even before
authentication). No body of this API goes deeper than a few levels, so a
deeper one is refused as malformed before any code walks it.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers

MAX_DEPTH = 20


class TooDeep(exceptions.ParseError):
    default_detail = f"Richiesta non valida: il JSON ha più di {MAX_DEPTH} livelli annidati."
    default_code = "parse_error"


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise TooDeep() from None
        if _deeper_than(data, MAX_DEPTH):
            raise TooDeep()
        return data


def _deeper_than(data: Any, limit: int) -> bool:
    """Without recursion: the check must not fail the way the decoder did."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
