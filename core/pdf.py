"""What every stored PDF shares: WeasyPrint's font configuration and the atomic file store."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from weasyprint.text.fonts import FontConfiguration

_fonts = threading.local()


def font_configuration() -> FontConfiguration:
    """This thread's WeasyPrint font configuration, made once.

    Without one, WeasyPrint builds a fresh fontconfig configuration and Pango
    font map for every PDF (bench/pdf.py). Our documents declare no
    @font-face, so nothing accumulates in it; one per thread because Pango's
    font map is not shared between threads.
    """
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def pdf_store(path: Path, content: bytes, *, stem: str) -> None:
    """Write `path` atomically and delete the other versions of the same document.

    A reader in another process sees the old state or the whole new file;
    `stem` names the document, `path` is `<stem>-<version>.pdf`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    Path(tmp).replace(path)
    for older in path.parent.glob(f"{stem}-*.pdf"):
        if older != path:
            older.unlink(missing_ok=True)
