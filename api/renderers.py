"""The PDF downloads' renderer, so that `Accept: application/pdf` is honoured."""

from __future__ import annotations

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
        # Never reached with a document (the views return it as it is) nor with
        # an error (always JSON, api.errors): it only lets negotiation accept PDF.
        return bytes(data or b"")
