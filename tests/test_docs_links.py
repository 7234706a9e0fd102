"""Every relative link of README.md and docs/*.md reaches a file and, with #anchor, a heading.

`mkdocs build --strict` checks the links between the pages of docs/; the
README lives outside the MkDocs tree, so its links into docs/ are checked
here. Anchors are computed as MkDocs computes them: Python-Markdown with the
extensions listed in mkdocs.yml.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import markdown  # type: ignore[import-untyped]  # no stubs are pinned
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def _extensions() -> tuple[list[str], dict[str, Any]]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    names: list[str] = []
    configs: dict[str, Any] = {}
    for item in config.get("markdown_extensions", []):
        if isinstance(item, dict):
            ((name, options),) = item.items()
            names.append(name)
            configs[name] = options or {}
        else:
            names.append(item)
    return names, configs


@cache
def anchors(page: Path) -> frozenset[str]:
    names, configs = _extensions()
    md = markdown.Markdown(extensions=names, extension_configs=configs)
    md.convert(page.read_text(encoding="utf-8"))

    found: set[str] = set()

    def walk(tokens: list[dict[str, Any]]) -> None:
        for token in tokens:
            found.add(token["id"])
            walk(token["children"])

    walk(md.toc_tokens)
    return frozenset(found)


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    text = INLINE_CODE.sub("", text)
    return [target for target in LINK.findall(text) if not EXTERNAL.match(target)]


def test_the_pages_have_links_to_check() -> None:
    # Guards the regex: a pattern that matched nothing would pass every page.
    readme = relative_links(ROOT / "README.md")
    assert "docs/index.md" in readme
    assert any("#" in target for target in readme)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    problems = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            problems.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            problems.append(f"{target}: no heading with anchor #{anchor} in {destination.name}")
    assert not problems, f"{page.relative_to(ROOT)}: " + "; ".join(problems)


def test_a_broken_anchor_is_reported(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Titolo\n\n## Lista d'attesa\n", encoding="utf-8")
    assert anchors(page) == {"titolo", "lista-dattesa"}
