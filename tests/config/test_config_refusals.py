"""A comune's YAML: every refusal at once, and a file that cannot be read named in Italian."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from tenants.config import ConfigError, config_load_files, config_parse
from tenants.models import Comune


def _config(*questions: dict[str, Any], **service: Any) -> dict[str, Any]:
    return {
        "slug": "testville",
        "name": "Testville",
        "province": "Bergamo",
        "hosts": ["testville.localhost"],
        "identity": {"backends": ["credentials"]},
        "services": [
            {
                "code": "MENSA",
                "name": "MENSA",
                "school_year": "2025/2026",
                "opens_at": "2026-03-01T09:00:00",
                "closes_at": "2026-04-30T23:59:59",
                "questions": list(questions),
                **service,
            }
        ],
    }


DIETA = {"id": "dieta", "label": "Dieta speciale", "type": "boolean"}
# One question, three problems: an unknown type, a repeated option and a
# condition on a question that does not exist. Each used to hide the next.
MENU = {
    "id": "menu",
    "label": "Menù",
    "type": "scelta",
    "options": ["Carne", "Carne"],
    "required_if": {"question": "allergia", "equals": True},
}
# A known type, with its own problems and a condition that does not hold.
TURNO = {
    "id": "turno",
    "label": "Turno",
    "type": "choice",
    "required": True,
    "required_if": {"question": "dieta", "equals": "sì"},
}
EVERY_REFUSAL = [
    "testville.yaml: services.0.questions.1.type (servizio MENSA, domanda «menu»): tipo «scelta» "
    "sconosciuto: usa uno tra text, textarea, boolean, choice, choices, date, number, email, phone, file",
    "testville.yaml: services.0.questions.1.options.1 (servizio MENSA, domanda «menu»): l'opzione «Carne» "
    "compare due volte",
    "testville.yaml: services.0.questions.1.required_if.question (servizio MENSA, domanda «menu»): indica "
    "la domanda «allergia», che non esiste",
    "testville.yaml: services.0.questions.2.options (servizio MENSA, domanda «turno»): una domanda a scelta "
    "ha bisogno delle opzioni",
    "testville.yaml: services.0.questions.2.required_if (servizio MENSA, domanda «turno»): una domanda è "
    "obbligatoria oppure condizionata (required_if), non entrambe",
    "testville.yaml: services.0.questions.2.required_if.equals (servizio MENSA, domanda «turno»): deve "
    "essere true o false: la domanda «dieta» è sì/no",
]


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        config_parse(yaml.safe_dump(data, allow_unicode=True), source="testville.yaml")
    return exc.value.problems


def test_every_problem_of_a_question_is_listed_at_once() -> None:
    assert _problems(_config(DIETA, MENU, TURNO)) == EVERY_REFUSAL


def test_a_refused_service_field_does_not_hide_the_definition() -> None:
    # The school year is wrong too: the questions' refusals are still all there.
    problems = _problems(_config(DIETA, MENU, TURNO, school_year="2025/26"))
    assert problems[:-1] == EVERY_REFUSAL
    assert problems[-1] == (
        "testville.yaml: services.0.school_year (servizio MENSA): deve essere come 2025/2026 (due anni "
        "consecutivi)"
    )


def test_references_of_a_question_that_did_not_parse_still_count() -> None:
    # «menu» has no valid type, yet it exists: a criterion and a later
    # question naming it are not told it does not exist.
    later = {
        "id": "note",
        "label": "Note",
        "type": "text",
        "required_if": {"question": "menu", "equals": "x"},
    }
    ranking = {
        "criteria": [{"id": "carne", "label": "Carne", "points": 2, "question": "menu", "equals": "x"}]
    }
    problems = _problems(_config(DIETA, MENU, later, ranking=ranking))
    assert not [p for p in problems if "«menu», che non esiste" in p]
    assert [p.split(" (")[0] for p in problems] == [
        "testville.yaml: services.0.questions.1.type",
        "testville.yaml: services.0.questions.1.options.1",
        "testville.yaml: services.0.questions.1.required_if.question",
    ]


def test_sync_tenants_lists_every_problem_and_writes_nothing(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "testville.yaml"
    path.write_text(yaml.safe_dump(_config(DIETA, MENU, TURNO), allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("sync_tenants", str(path))
    message = str(exc.value)
    assert message.startswith("Configurazione non valida, non è stato scritto nulla:")
    assert message.splitlines()[1:] == [f"  {line}" for line in EVERY_REFUSAL]


def _read_problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        config_load_files([path])
    return exc.value.problems


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nonesiste.yaml"
    assert _read_problems(path) == [f"{path}: (file): il file non esiste (controlla il percorso)"]


def test_a_directory_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cartella.yaml"
    path.mkdir()
    assert _read_problems(path) == [f"{path}: (file): è una cartella, non un file YAML"]


def test_a_file_not_in_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "testville.yaml"
    path.write_bytes("name: Comunità\n".encode("latin-1"))
    assert _read_problems(path) == [
        f"{path}: (file): il file non è testo UTF-8 (byte non valido alla posizione 13): salvalo con la "
        "codifica UTF-8"
    ]


def test_sync_tenants_names_each_unreadable_file_and_writes_nothing(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "testville.yaml"
    good.write_text(yaml.safe_dump(_config(DIETA), allow_unicode=True), encoding="utf-8")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: Comunità\n".encode("latin-1"))
    missing = tmp_path / "manca.yaml"
    with pytest.raises(CommandError) as exc:
        call_command("sync_tenants", str(good), str(latin), str(missing))
    lines = str(exc.value).splitlines()
    assert lines[1].startswith(f"  {latin}: (file): il file non è testo UTF-8")
    assert lines[2] == f"  {missing}: (file): il file non esiste (controlla il percorso)"
    assert not Comune.objects.filter(slug="testville").exists()
