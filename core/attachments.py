"""Registry of documents that can be attached to an outgoing e-mail.

Apps register a renderer under a name; the mail job renders the attachment at
send time from ids, so the queue never stores large blobs or stale copies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# name -> callable(**params) -> (filename, content bytes, mimetype)
Renderer = Callable[..., tuple[str, bytes, str]]
_renderers: dict[str, Renderer] = {}


def register(name: str) -> Callable[[Renderer], Renderer]:
    def decorator(func: Renderer) -> Renderer:
        _renderers[name] = func
        return func

    return decorator


def render(spec: dict[str, Any]) -> tuple[str, bytes, str]:
    try:
        renderer = _renderers[spec["document"]]
    except KeyError as exc:
        raise LookupError(f"No attachment renderer named {spec.get('document')!r}") from exc
    return renderer(**spec.get("params", {}))
