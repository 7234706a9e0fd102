"""A parent's answers to a service's questions: cleaning and storage form.

Pure rules, no database. `answers_clean` checks a dict of answers (from the
web form or the API) against the definition's questions
(tenants.service_definition.Question) and returns typed values plus one
Italian message per question id; `answers_to_json` / `answers_from_json`
turn the typed values into what a JSONField stores and back.

A question with `required_if` exists only when its condition holds on an
earlier answer: then it is required, otherwise whatever was sent for it is
dropped, so a hidden answer is never kept. File questions are checked as
present only; storing the file is the upload's work.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from tenants.service_definition import Question, answer_matches

# The same rule as the guardian's phone in enrollment.forms.
PHONE_RE = re.compile(r"^\+?[0-9 ]{6,20}$")
MAX_LENGTH = {"text": 300, "textarea": 2000, "email": 254}
# Beyond a trillion (or below a cent) a number is a typing slip, not an answer.
MAX_NUMBER_DIGITS = 12
TRUE_WORDS = {"true", "1", "on", "si", "sì", "yes"}
FALSE_WORDS = {"false", "0", "off", "no"}


class AnswerProblem(Exception):
    """An answer that cannot be accepted; the message is shown by the field."""


@dataclass(frozen=True)
class CleanedAnswers:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not value
    return False


def _missing_message(question: Question) -> str:
    if question.type in ("boolean", "choice", "choices"):
        return f"Scegli una risposta per «{question.label}»."
    if question.type == "file":
        return f"Allega il documento «{question.label}»."
    return f"Compila il campo «{question.label}»."


def _italian_number(value: Decimal) -> str:
    return str(value).replace(".", ",")


def _text(question: Question, value: Any) -> str:
    if not isinstance(value, str):
        raise AnswerProblem("Risposta non valida: scrivi un testo.")
    text = value.strip()
    limit = MAX_LENGTH[question.type]
    if len(text) > limit:
        raise AnswerProblem(f"Il testo può avere al massimo {limit} caratteri (ne hai scritti {len(text)}).")
    return text


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise AnswerProblem("Rispondi sì o no.")


def _choice(question: Question, value: Any) -> str:
    options = question.options or []
    if not isinstance(value, str) or value.strip() not in options:
        raise AnswerProblem("Scegli una delle opzioni proposte.")
    return value.strip()


def _choices(question: Question, value: Any) -> list[str]:
    options = question.options or []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise AnswerProblem("Scegli una o più delle opzioni proposte.")
    chosen = {v.strip() for v in value}
    if not chosen <= set(options):
        raise AnswerProblem("Scegli solo tra le opzioni proposte.")
    # In the definition's order, each once: the same answer reads the same everywhere.
    return [o for o in options if o in chosen]


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        for parse in (date.fromisoformat, lambda t: datetime.strptime(t, "%d/%m/%Y").date()):  # noqa: DTZ007
            try:
                return parse(text)
            except ValueError:
                continue
    raise AnswerProblem("Inserisci una data valida, ad esempio 31/12/2020.")


def _number(question: Question, value: Any) -> Decimal:
    invalid = AnswerProblem("Inserisci un numero, ad esempio 8000 oppure 7999,99.")
    if isinstance(value, bool):
        raise invalid
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float | str):
        text = str(value).strip().replace(" ", "")
        if "," in text:
            # Italian writing: 8.000,50
            text = text.replace(".", "").replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise invalid from None
    else:
        raise invalid
    if not number.is_finite() or number.adjusted() >= MAX_NUMBER_DIGITS:
        raise invalid
    if question.min is not None and number < question.min:
        raise AnswerProblem(f"Il valore minimo è {_italian_number(question.min)}.")
    if question.max is not None and number > question.max:
        raise AnswerProblem(f"Il valore massimo è {_italian_number(question.max)}.")
    return number


def _email(value: Any) -> str:
    if not isinstance(value, str) or len(value.strip()) > MAX_LENGTH["email"]:
        raise AnswerProblem("Inserisci un indirizzo email valido.")
    try:
        validate_email(value.strip())
    except ValidationError:
        raise AnswerProblem("Inserisci un indirizzo email valido.") from None
    return value.strip()


def _phone(value: Any) -> str:
    if not isinstance(value, str) or not PHONE_RE.match(value.strip()):
        raise AnswerProblem("Inserisci un numero di telefono di sole cifre, ad esempio 035 123456.")
    return " ".join(value.split())


def _clean(question: Question, value: Any) -> Any:
    kind = question.type
    if kind in ("text", "textarea"):
        return _text(question, value)
    if kind == "boolean":
        return _boolean(value)
    if kind == "choice":
        return _choice(question, value)
    if kind == "choices":
        return _choices(question, value)
    if kind == "date":
        return _date(value)
    if kind == "number":
        return _number(question, value)
    if kind == "email":
        return _email(value)
    if kind == "phone":
        return _phone(value)
    # file: present is all that is checked here.
    return value


def _shown(question: Question, values: Mapping[str, Any]) -> bool:
    condition = question.required_if
    if condition is None:
        return True
    return condition.question in values and answer_matches(values[condition.question], condition.equals)


def answers_clean(*, questions: Sequence[Question], answers: Mapping[str, Any]) -> CleanedAnswers:
    """Typed values of the questions answered, and a message for each problem.

    Unanswered optional questions and answers to no question are left out.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in questions:
        # A question staff deactivated is no longer asked.
        if not question.active or not _shown(question, values):
            continue
        raw = answers.get(question.id)
        if _is_empty(raw):
            if question.required or question.required_if is not None:
                errors[question.id] = _missing_message(question)
            continue
        try:
            values[question.id] = _clean(question, raw)
        except AnswerProblem as problem:
            errors[question.id] = str(problem)
    return CleanedAnswers(values=values, errors=errors)


def _to_json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool | str | int) or value is None:
        return value
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    # An uploaded file before storage: its name is what can be kept.
    return str(getattr(value, "name", value))


def answers_to_json(*, values: Mapping[str, Any]) -> dict[str, Any]:
    """Cleaned values as JSON: dates ISO 8601, numbers as decimal strings (no float rounding)."""
    return {qid: _to_json(value) for qid, value in values.items()}


def answers_from_json(*, questions: Sequence[Question], data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored answers back to typed values under the current questions.

    An answer is never dropped or rewritten: one whose question is gone, or
    no longer reads as its type, comes back as stored (the enrollment keeps
    the definition version it was answered under).
    """
    kinds = {q.id: q.type for q in questions}
    out: dict[str, Any] = {}
    for qid, stored in data.items():
        kind = kinds.get(qid)
        try:
            if kind == "date" and isinstance(stored, str):
                out[qid] = date.fromisoformat(stored)
                continue
            if kind == "number" and isinstance(stored, str | int):
                out[qid] = Decimal(stored)
                continue
        except (ValueError, InvalidOperation):
            pass
        out[qid] = stored
    return out
