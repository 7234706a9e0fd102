"""The message catalogues: what a translator wrote in a .po is what the compiled .mo serves.

The .mo files are committed (Django reads only them): a .po edited without
recompiling, or an entry whose translation names a placeholder its source
lacks, would show the wrong text, or "%(name)s" itself, to the reader.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def _entries(po: Path) -> list[tuple[str | None, str, str]]:
    """(msgctxt, msgid, msgstr) of every singular, non-fuzzy, translated entry."""
    entries: list[tuple[str | None, str, str]] = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if any(line.startswith("#,") and "fuzzy" in line for line in lines):
            continue
        fields: dict[str, str] = {}
        key = ""
        for line in lines:
            if line.startswith("#"):
                continue
            if line.startswith('"'):
                fields[key] += ast.literal_eval(line)
                continue
            key, _, value = line.partition(" ")
            fields[key] = ast.literal_eval(value)
        if fields.get("msgid") and "msgid_plural" not in fields and fields.get("msgstr"):
            entries.append((fields.get("msgctxt"), fields["msgid"], fields["msgstr"]))
    return entries


@pytest.mark.parametrize("language", ["en", "it"])
def test_the_compiled_catalogue_serves_every_translation(language: str) -> None:
    entries = _entries(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert entries
    with translation.override(language):
        stale = [
            msgid
            for context, msgid, msgstr in entries
            if (translation.pgettext(context, msgid) if context else translation.gettext(msgid)) != msgstr
        ]
    assert stale == [], "recompile: msgfmt -o django.mo django.po"


@pytest.mark.parametrize("language", ["en", "it"])
def test_translations_keep_the_placeholders_of_their_source(language: str) -> None:
    wrong = [
        (msgid, msgstr)
        for _, msgid, msgstr in _entries(LOCALE / language / "LC_MESSAGES" / "django.po")
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))
    ]
    assert wrong == []


def test_the_comune_is_named_in_the_reader_s_language(db) -> None:  # type: ignore[no-untyped-def]
    from tenants.models import Comune

    palosco = Comune(name="Palosco", kind=Comune.Kind.COMUNE)
    romano = Comune(name="Romano di Lombardia", kind=Comune.Kind.CITTA)
    with translation.override("it"):
        assert palosco.name_of_translated == palosco.display_name_with_article
        assert romano.name_the_translated == romano.display_name_the
    with translation.override("en"):
        assert palosco.name_of_translated == f"of {palosco.display_name}"
        assert romano.name_the_translated == romano.display_name
