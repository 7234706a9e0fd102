"""Validation of tenant configs: every error names file, field and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from tenants.config import ConfigError, config_dump, config_load_files, config_parse, contrast_ratio

VALID = """
slug: testville
name: Testville
province: Bergamo
hosts: [testville.localhost]
identity: {backends: [credentials]}
services:
  - code: MENSA
    name: MENSA
    school_year: 2025/2026
    opens_at: 2025-04-01T09:00:00
    closes_at: 2025-06-30T23:59:59
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        config_parse(text, source="testville.yaml")
    return exc.value.problems


def test_shipped_configs_are_valid() -> None:
    paths = sorted(Path(settings.TENANT_CONFIG_DIR).glob("*.yaml"))
    loaded = config_load_files(paths)
    assert {cfg.slug for _, cfg in loaded} == {"palosco", "romanodilombardia"}


def test_valid_config_parses_with_local_times() -> None:
    cfg = config_parse(VALID, source="testville.yaml")
    assert cfg.display_name == "Comune di Testville"
    assert str(cfg.services[0].opens_at.tzinfo) == "Europe/Rome"


def test_window_closing_before_opening_is_refused() -> None:
    text = VALID.replace("closes_at: 2025-06-30T23:59:59", "closes_at: 2025-03-01T00:00:00")
    assert _problems(text) == [
        "testville.yaml: services.0 (servizio MENSA): closes_at deve essere dopo opens_at"
    ]


def test_unknown_login_method_names_the_field() -> None:
    problems = _problems(VALID.replace("[credentials]", "[password_magica]"))
    assert len(problems) == 1
    assert problems[0].startswith("testville.yaml: identity.backends.0:")


def test_low_contrast_colour_is_refused() -> None:
    problems = _problems(VALID + "branding: {primary_color: '#ffcc00'}\n")
    assert problems[0].startswith("testville.yaml: branding.primary_color:")
    assert "WCAG" in problems[0]
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)


def test_unknown_field_is_refused() -> None:
    problems = _problems(VALID + "colour: red\n")
    assert problems == ["testville.yaml: colour: campo non previsto (controlla il nome)"]


def test_bad_ente_codice_fiscale_is_refused() -> None:
    problems = _problems(VALID + "codice_fiscale: '00622580166'\n")
    assert problems[0].startswith("testville.yaml: codice_fiscale:")


def test_not_yaml_mapping() -> None:
    assert _problems("- a\n- b\n") == [
        "testville.yaml: (file): deve essere un elenco di campi (chiave: valore)"
    ]


def test_files_sharing_a_host_are_refused(tmp_path: Path) -> None:
    (tmp_path / "testville.yaml").write_text(VALID)
    (tmp_path / "otherville.yaml").write_text(VALID.replace("slug: testville", "slug: otherville"))
    with pytest.raises(ConfigError) as exc:
        config_load_files(sorted(tmp_path.glob("*.yaml")))
    assert any("'testville.localhost' è già usato da" in p for p in exc.value.problems)


def test_slug_must_match_file_name(tmp_path: Path) -> None:
    (tmp_path / "wrong.yaml").write_text(VALID)
    with pytest.raises(ConfigError) as exc:
        config_load_files([tmp_path / "wrong.yaml"])
    assert exc.value.problems == [
        "wrong.yaml: slug: 'testville' deve coincidere con il nome del file 'wrong'"
    ]


def test_dump_round_trips() -> None:
    cfg = config_parse(VALID, source="testville.yaml")
    assert config_parse(config_dump(cfg), source="again.yaml") == cfg


def _many(tmp_path: Path, count: int) -> list[Path]:
    """`count` valid files, each its own comune, and three refused ones among them."""
    paths = []
    for n in range(count):
        slug = f"paese{n:03d}"
        text = VALID.replace("testville", slug)
        if n == 5:
            text = text.replace("[credentials]", "[password_magica]")
        if n == 17:
            text = text.replace(f"slug: {slug}", "slug: altrove")
        if n == 40:
            text = text.replace(f"{slug}.localhost", "paese001.localhost")
        path = tmp_path / f"{slug}.yaml"
        path.write_text(text)
        paths.append(path)
    return paths


def _outcome(paths: list[Path]) -> list[str] | list[tuple[Path, str]]:
    try:
        return [(path, config_dump(cfg)) for path, cfg in config_load_files(paths)]
    except ConfigError as exc:
        return exc.problems


def test_many_files_on_every_core_give_the_same_result(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tenants import config

    paths = _many(tmp_path, config.PARALLEL_MIN_FILES + 6)
    pools = []
    real_pool = config.ProcessPoolExecutor

    def counting_pool(*args, **kwargs):  # type: ignore[no-untyped-def]
        pools.append(kwargs["max_workers"])
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(config, "ProcessPoolExecutor", counting_pool)
    monkeypatch.setattr(config, "PARALLEL_MIN_BYTES", 1)
    parallel = _outcome(paths)
    assert pools == ([2] if config._cores() >= 2 else [])
    monkeypatch.setattr(config, "PARALLEL_MIN_FILES", 10**9)
    serial = _outcome(paths)
    assert len(pools) <= 1
    assert parallel == serial
    assert [p.split(":")[0] for p in parallel] == ["paese005.yaml", "paese017.yaml", "paese040.yaml"]
    # The valid files, alone, load the same way too, in the order given.
    valid = [p for p in paths if p.stem not in {"paese005", "paese017", "paese040"}]
    monkeypatch.setattr(config, "PARALLEL_MIN_FILES", 64)
    loaded = _outcome(valid)
    assert [path for path, _ in loaded] == valid
    monkeypatch.setattr(config, "PARALLEL_MIN_FILES", 10**9)
    assert _outcome(valid) == loaded
