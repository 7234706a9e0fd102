"""Answers against a service's questions: each type, required, conditions, storage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from enrollment.answers import answers_clean, answers_from_json, answers_to_json
from tenants.service_definition import Question

WEEKS = ["1ª settimana", "2ª settimana", "3ª settimana"]


def _q(type: str, **fields: Any) -> Question:
    return Question.model_validate({"id": "q", "label": "Domanda", "type": type, **fields})


def _one(question: Question, value: Any) -> tuple[Any, str | None]:
    result = answers_clean(questions=[question], answers={"q": value})
    return result.values.get("q"), result.errors.get("q")


@pytest.mark.parametrize(
    ("question", "value", "cleaned"),
    [
        (_q("text"), "  Orario di lavoro ", "Orario di lavoro"),
        (_q("textarea"), "riga uno\nriga due", "riga uno\nriga due"),
        (_q("boolean"), True, True),
        (_q("boolean"), "sì", True),
        (_q("boolean"), "no", False),
        (_q("boolean"), False, False),
        (_q("choice", options=WEEKS), "2ª settimana", "2ª settimana"),
        (
            _q("choices", options=WEEKS),
            ["3ª settimana", "1ª settimana", "3ª settimana"],
            [WEEKS[0], WEEKS[2]],
        ),
        (_q("date"), "2019-04-30", date(2019, 4, 30)),
        (_q("date"), "30/04/2019", date(2019, 4, 30)),
        (_q("date"), date(2019, 4, 30), date(2019, 4, 30)),
        (_q("number"), "7999,99", Decimal("7999.99")),
        (_q("number"), "8.000,50", Decimal("8000.50")),
        (_q("number"), "8000.01", Decimal("8000.01")),
        (_q("number"), 12, Decimal(12)),
        (_q("email"), " genitore@example.org ", "genitore@example.org"),
        (_q("phone"), "035  123456", "035 123456"),
        (_q("phone"), "+39 333 1234567", "+39 333 1234567"),
        (_q("file"), "certificato.pdf", "certificato.pdf"),
    ],
)
def test_each_type_cleans_a_good_answer(question: Question, value: Any, cleaned: Any) -> None:
    assert _one(question, value) == (cleaned, None)


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        (_q("text"), "x" * 301, "Il testo può avere al massimo 300 caratteri (ne hai scritti 301)."),
        (_q("text"), 42, "Risposta non valida: scrivi un testo."),
        (_q("textarea"), "x" * 2001, "Il testo può avere al massimo 2000 caratteri (ne hai scritti 2001)."),
        (_q("boolean"), "forse", "Rispondi sì o no."),
        (_q("choice", options=WEEKS), "4ª settimana", "Scegli una delle opzioni proposte."),
        (
            _q("choices", options=WEEKS),
            ["1ª settimana", "4ª settimana"],
            "Scegli solo tra le opzioni proposte.",
        ),
        (_q("choices", options=WEEKS), "1ª settimana", "Scegli una o più delle opzioni proposte."),
        (_q("date"), "31/02/2019", "Inserisci una data valida, ad esempio 31/12/2020."),
        (_q("number"), "ottomila", "Inserisci un numero, ad esempio 8000 oppure 7999,99."),
        (_q("number"), True, "Inserisci un numero, ad esempio 8000 oppure 7999,99."),
        (_q("number"), "1e400", "Inserisci un numero, ad esempio 8000 oppure 7999,99."),
        (_q("number"), "NaN", "Inserisci un numero, ad esempio 8000 oppure 7999,99."),
        (_q("number", min=0), "-1", "Il valore minimo è 0."),
        (_q("number", max="99.5"), "100", "Il valore massimo è 99,5."),
        (_q("email"), "non-una-email", "Inserisci un indirizzo email valido."),
        (_q("phone"), "035-123456", "Inserisci un numero di telefono di sole cifre, ad esempio 035 123456."),
    ],
)
def test_each_type_refuses_a_bad_answer_in_italian(question: Question, value: Any, message: str) -> None:
    assert _one(question, value) == (None, message)


@pytest.mark.parametrize(
    ("type", "extra", "message"),
    [
        ("text", {}, "Compila il campo «Domanda»."),
        ("number", {}, "Compila il campo «Domanda»."),
        ("boolean", {}, "Scegli una risposta per «Domanda»."),
        ("choices", {"options": WEEKS}, "Scegli una risposta per «Domanda»."),
        ("file", {}, "Allega il documento «Domanda»."),
    ],
)
def test_a_required_question_left_empty(type: str, extra: dict[str, Any], message: str) -> None:
    question = _q(type, required=True, **extra)
    for empty in (None, "", "   ", []):
        assert _one(question, empty) == (None, message)


def test_optional_questions_left_empty_are_not_answers() -> None:
    result = answers_clean(questions=[_q("number"), _q("text")], answers={"q": ""})
    assert result.is_valid and result.values == {}


def test_answers_to_no_question_are_left_out() -> None:
    result = answers_clean(questions=[_q("text")], answers={"q": "sì", "altro": "x"})
    assert result.values == {"q": "sì"}


CRE = [
    Question.model_validate(q)
    for q in (
        {"id": "dieta", "label": "Dieta speciale", "type": "boolean"},
        {
            "id": "certificato",
            "label": "Certificato medico della dieta",
            "type": "file",
            "required_if": {"question": "dieta", "equals": True},
        },
        {"id": "settimane", "label": "Settimane", "type": "choices", "options": WEEKS},
        {
            "id": "pasto",
            "label": "Pasto alla terza settimana",
            "type": "boolean",
            "required_if": {"question": "settimane", "equals": "3ª settimana"},
        },
    )
]


def test_a_conditional_question_is_required_when_its_condition_holds() -> None:
    result = answers_clean(questions=CRE, answers={"dieta": True, "settimane": ["3ª settimana"]})
    assert result.errors == {
        "certificato": "Allega il documento «Certificato medico della dieta».",
        "pasto": "Scegli una risposta per «Pasto alla terza settimana».",
    }
    done = answers_clean(
        questions=CRE,
        answers={"dieta": True, "certificato": "dieta.pdf", "settimane": ["3ª settimana"], "pasto": "no"},
    )
    assert done.is_valid
    assert done.values == {
        "dieta": True,
        "certificato": "dieta.pdf",
        "settimane": ["3ª settimana"],
        "pasto": False,
    }


def test_a_hidden_conditional_answer_is_dropped() -> None:
    result = answers_clean(
        questions=CRE, answers={"dieta": False, "certificato": "vecchio.pdf", "settimane": ["1ª settimana"]}
    )
    assert result.is_valid
    assert result.values == {"dieta": False, "settimane": ["1ª settimana"]}
    # An unanswered or invalid controlling question hides it too.
    assert answers_clean(questions=CRE, answers={"certificato": "x.pdf"}).values == {}
    invalid = answers_clean(questions=CRE, answers={"dieta": "forse", "certificato": "x.pdf"})
    assert invalid.errors == {"dieta": "Rispondi sì o no."}


def test_answers_survive_json_and_back() -> None:
    questions = [
        Question.model_validate(q)
        for q in (
            {"id": "nascita", "label": "Data", "type": "date"},
            {"id": "isee", "label": "ISEE", "type": "number"},
            {"id": "dieta", "label": "Dieta", "type": "boolean"},
            {"id": "settimane", "label": "Settimane", "type": "choices", "options": WEEKS},
            {"id": "note", "label": "Note", "type": "text"},
        )
    ]
    values = answers_clean(
        questions=questions,
        answers={
            "nascita": "30/04/2019",
            "isee": "7999,99",
            "dieta": "sì",
            "settimane": WEEKS[:2],
            "note": "x",
        },
    ).values
    stored = answers_to_json(values=values)
    assert stored == {
        "nascita": "2019-04-30",
        "isee": "7999.99",
        "dieta": True,
        "settimane": WEEKS[:2],
        "note": "x",
    }
    assert answers_from_json(questions=questions, data=stored) == values


def test_stored_answers_are_never_dropped_when_the_definition_changes() -> None:
    now = [Question.model_validate({"id": "isee", "label": "ISEE", "type": "number"})]
    stored = {"isee": "non dichiarato", "fermata": "Via Roma"}
    assert answers_from_json(questions=now, data=stored) == stored
