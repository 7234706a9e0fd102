"""The PDF downloads' renderer, so that `Accept: application/pdf` is honoured."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.renderers import BaseRenderer


class PdfRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        # Only errors come here (the documents are returned as they are): the
        # exception handler marks them application/json.
        return data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
