"""What a service asks and how it ranks and charges: the typed definition.

A comune defines each service in its YAML (`tenant_configs/<slug>.yaml`):
its questions, who may apply, the documents needed, the ranking criteria
(graduatoria) and the fees. `tenants.config.ServiceConfig` carries these
fields; this module holds their models, the cross-field rules that refuse
an inconsistent definition (each refusal names the exact field, e.g.
`services.0.questions.2.options`), and the definition's version.

The enrollment layer derives forms, answers, ranking and fees from these
models; nothing here knows a service by its code.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

SCHOOLS = ("infanzia", "primaria", "secondaria")
QUESTION_TYPES = (
    "text",
    "textarea",
    "boolean",
    "choice",
    "choices",
    "date",
    "number",
    "email",
    "phone",
    "file",
)
CHOICE_TYPES = ("choice", "choices")
AMOUNT_RE = re.compile(r"^\d+\.\d{2}$")

School = Literal["infanzia", "primaria", "secondaria"]
QuestionType = Literal[
    "text", "textarea", "boolean", "choice", "choices", "date", "number", "email", "phone", "file"
]
# Question and criterion ids are the keys answers are stored under and the
# export's column names: short, lower case, stable.
Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# What a condition compares an answer with: a yes/no, an option, a number.
Equals = bool | int | Decimal | str

Loc = tuple[int | str, ...]


def _amount(value: Any) -> Decimal:
    # A float would round (0.1 + 0.2): amounts are written as strings.
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        text = ""
    if not AMOUNT_RE.match(text):
        raise ValueError('must be a string with two decimals, e.g. "120.00"')
    amount = Decimal(text)
    if amount <= 0:
        raise ValueError("must be more than zero")
    return amount


Amount = Annotated[Decimal, BeforeValidator(_amount)]


def _refuse(problems: list[tuple[Loc, str, Any]]) -> None:
    """Raise one error per problem, each at its own field.

    pydantic prefixes the path of the enclosing model (services.0. ...), so
    the message names the exact field rather than the whole service.
    """
    if not problems:
        return
    raise ValidationError.from_exception_data(
        "ServiceDefinition",
        [
            InitErrorDetails(
                type=PydanticCustomError("definition", "{reason}", {"reason": reason}),
                loc=loc,
                input=value,
            )
            for loc, reason, value in problems
        ],
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RequiredIf(_Strict):
    """The question is shown, and required, only when an earlier answer equals a value."""

    question: str
    equals: Equals


class Question(_Strict):
    id: Id
    label: Label
    type: QuestionType
    options: list[Label] | None = None
    required: bool = False
    help: str = Field(default="", max_length=500)
    required_if: RequiredIf | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    # Staff deactivate a question rather than delete it: the form no longer
    # asks it, answers already given keep their label.
    active: bool = True

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> Any:
        if value not in QUESTION_TYPES:
            raise ValueError(f"unknown type {value!r}; use one of {', '.join(QUESTION_TYPES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        problems: list[tuple[Loc, str, Any]] = []
        if self.type in CHOICE_TYPES:
            if not self.options:
                problems.append((("options",), f"a {self.type} question needs options", self.options))
            else:
                seen: set[str] = set()
                for i, option in enumerate(self.options):
                    if option in seen:
                        problems.append((("options", i), f"option {option!r} is listed twice", option))
                    seen.add(option)
        elif self.options is not None:
            problems.append(
                (("options",), "options apply only to choice and choices questions", self.options)
            )
        if self.type != "number":
            for bound in ("min", "max"):
                if getattr(self, bound) is not None:
                    problems.append(
                        ((bound,), f"{bound} applies only to number questions", getattr(self, bound))
                    )
        elif self.min is not None and self.max is not None and self.min > self.max:
            problems.append((("max",), f"must not be less than min ({self.min})", self.max))
        if self.required_if is not None:
            if self.required:
                problems.append(
                    (("required_if",), "a question is either required or required_if, not both", None)
                )
            if self.required_if.question == self.id:
                problems.append((("required_if", "question"), "a question cannot depend on itself", self.id))
        _refuse(problems)
        return self


class Criterion(_Strict):
    """Points a request earns when a fact about it holds.

    The fact is either known to the platform (`source`: the pupil is
    resident, a sibling is already enrolled in the service) or an answer
    (`question` equals `equals`).
    """

    id: Id
    label: Label
    points: Decimal
    source: Literal["residency", "siblings"] | None = None
    question: str | None = None
    equals: Equals | None = None
    # A deactivated criterion earns nothing; it stays so staff can turn it back on.
    active: bool = True

    @field_validator("points")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("must not be negative")
        return value

    @model_validator(mode="after")
    def _one_fact(self) -> Criterion:
        problems: list[tuple[Loc, str, Any]] = []
        if (self.source is None) == (self.question is None):
            problems.append(
                (("source",), "give either source (residency, siblings) or question with equals", None)
            )
        elif self.question is not None and self.equals is None:
            problems.append((("equals",), "a criterion on a question needs equals", None))
        elif self.source is not None and self.equals is not None:
            problems.append((("equals",), "equals applies only with question", self.equals))
        _refuse(problems)
        return self


class Ranking(_Strict):
    criteria: list[Criterion] = Field(min_length=1)
    # Among equal totals the earlier request, or the older child (earlier
    # birth date), comes first; then the lower id, so a rank never varies.
    tie_break: Literal["submitted_at", "birth_date"] = "submitted_at"

    @model_validator(mode="after")
    def _unique_ids(self) -> Ranking:
        seen: set[str] = set()
        problems: list[tuple[Loc, str, Any]] = []
        for i, criterion in enumerate(self.criteria):
            if criterion.id in seen:
                problems.append(
                    (("criteria", i, "id"), f"criterion id {criterion.id!r} is listed twice", criterion.id)
                )
            seen.add(criterion.id)
        _refuse(problems)
        return self


class FeeBand(_Strict):
    """An ISEE band: the fee for an ISEE up to `up_to` euro, inclusive."""

    up_to: Decimal | None = Field(default=None, ge=0)
    amount: Amount | None = None


class FeeInstalment(_Strict):
    """One rata of the annual fee: its due date and its share of the fee, in percent."""

    due_date: date
    share_percent: Decimal = Field(gt=0, le=100)


class Fees(_Strict):
    kind: Literal["flat", "isee_bands"]
    amount: Amount | None = None
    isee_question: str | None = None
    bands: list[FeeBand] = []
    sibling_discount_percent: Decimal = Field(default=Decimal(0), ge=0, le=100)
    # How the fee is paid (payments): rate with due dates, and whether a family
    # with expired unpaid debts may enrol again. No rate: one payment due a
    # month after confirmation.
    instalments: list[FeeInstalment] = []
    block_if_unpaid: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Fees:
        problems: list[tuple[Loc, str, Any]] = []
        if self.kind == "flat":
            if self.amount is None:
                problems.append((("amount",), "a flat fee needs an amount", None))
            if self.bands:
                problems.append((("bands",), "bands apply only to isee_bands fees", None))
            if self.isee_question is not None:
                problems.append(
                    (("isee_question",), "isee_question applies only to isee_bands fees", self.isee_question)
                )
        else:
            if self.amount is not None:
                problems.append((("amount",), "an isee_bands fee takes its amounts from bands", self.amount))
            if self.isee_question is None:
                problems.append(
                    (
                        ("isee_question",),
                        "isee_bands fees need isee_question, the number question asking the ISEE",
                        None,
                    )
                )
            if not self.bands:
                problems.append((("bands",), "isee_bands fees need at least one band", None))
            problems.extend(self._band_problems())
        if self.instalments and sum(i.share_percent for i in self.instalments) != 100:
            problems.append((("instalments",), "the instalments' share_percent must add up to 100", None))
        dates = [i.due_date for i in self.instalments]
        if dates != sorted(set(dates)):
            problems.append((("instalments",), "instalment due dates must be distinct and in order", None))
        _refuse(problems)
        return self

    def _band_problems(self) -> list[tuple[Loc, str, Any]]:
        problems: list[tuple[Loc, str, Any]] = []
        last = len(self.bands) - 1
        previous: Decimal | None = None
        for i, band in enumerate(self.bands):
            if band.amount is None:
                problems.append((("bands", i, "amount"), "a band needs an amount", None))
            if i < last and band.up_to is None:
                problems.append((("bands", i, "up_to"), "only the last band may lack up_to", None))
            if i == last and band.up_to is not None and last > 0:
                problems.append(
                    (
                        ("bands", i, "up_to"),
                        "the last band has no up_to: it applies above the previous band "
                        "and when no ISEE is given",
                        band.up_to,
                    )
                )
            if band.up_to is not None:
                if previous is not None and band.up_to <= previous:
                    problems.append(
                        (
                            ("bands", i, "up_to"),
                            f"bands must increase: {band.up_to} is not above {previous}",
                            band.up_to,
                        )
                    )
                previous = band.up_to
        return problems


def answer_matches(answer: Any, equals: Equals) -> bool:
    """Whether a cleaned answer satisfies a condition (`required_if`, a criterion).

    A `choices` answer (a list) matches when it includes the value; a
    yes/no never matches a number (in Python `True == 1`).
    """
    if isinstance(answer, list):
        return equals in answer
    if isinstance(equals, bool) or isinstance(answer, bool):
        return isinstance(answer, bool) and isinstance(equals, bool) and answer is equals
    if isinstance(answer, Decimal) and isinstance(equals, int | Decimal):
        return answer == Decimal(equals)
    return bool(answer == equals)


def _equals_problem(question: Question, equals: Equals) -> str | None:
    if question.type == "file":
        return f"question {question.id!r} is a file question: nothing to compare"
    if question.type == "boolean" and not isinstance(equals, bool):
        return f"must be true or false: question {question.id!r} is a yes/no question"
    if question.type in CHOICE_TYPES and equals not in (question.options or []):
        return f"must be one of the options of question {question.id!r}"
    if question.type == "number" and (isinstance(equals, bool) or not isinstance(equals, int | Decimal)):
        return f"must be a number: question {question.id!r} is a number question"
    return None


def definition_check(*, questions: Sequence[Question], ranking: Ranking | None, fees: Fees | None) -> None:
    """Refuse references between parts of a definition that do not hold.

    Conditions may name only an earlier question, which also rules out a
    question depending on itself or a cycle, and lets a form be filled top
    to bottom.
    """
    problems: list[tuple[Loc, str, Any]] = []
    earlier: dict[str, Question] = {}
    all_ids = {q.id for q in questions}
    for i, q in enumerate(questions):
        if q.id in earlier:
            problems.append((("questions", i, "id"), f"question id {q.id!r} is listed twice", q.id))
        if q.required_if is not None and q.required_if.question != q.id:
            name = q.required_if.question
            loc: Loc = ("questions", i, "required_if", "question")
            if name in earlier and not earlier[name].active and q.active:
                problems.append((loc, f"names question {name!r}, which is deactivated", name))
            elif name in earlier:
                problem = _equals_problem(earlier[name], q.required_if.equals)
                if problem:
                    problems.append(
                        (("questions", i, "required_if", "equals"), problem, q.required_if.equals)
                    )
            elif name in all_ids:
                problems.append(
                    (loc, f"names question {name!r}, defined after this one: name an earlier one", name)
                )
            else:
                problems.append((loc, f"names question {name!r}, which does not exist", name))
        earlier.setdefault(q.id, q)
    if ranking is not None:
        for i, criterion in enumerate(ranking.criteria):
            if criterion.question is None or criterion.equals is None:
                continue
            asked = earlier.get(criterion.question)
            if asked is None:
                problems.append(
                    (
                        ("ranking", "criteria", i, "question"),
                        f"names question {criterion.question!r}, which does not exist",
                        criterion.question,
                    )
                )
                continue
            if not asked.active and criterion.active:
                problems.append(
                    (
                        ("ranking", "criteria", i, "question"),
                        f"names question {criterion.question!r}, which is deactivated",
                        criterion.question,
                    )
                )
                continue
            problem = _equals_problem(asked, criterion.equals)
            if problem:
                problems.append((("ranking", "criteria", i, "equals"), problem, criterion.equals))
    if fees is not None and fees.isee_question is not None:
        loc = ("fees", "isee_question")
        isee = earlier.get(fees.isee_question)
        if isee is None:
            problems.append((loc, f"names question {fees.isee_question!r}, which does not exist", None))
        elif not isee.active:
            problems.append((loc, f"names question {fees.isee_question!r}, which is deactivated", None))
        elif isee.type != "number":
            problems.append(
                (
                    loc,
                    f"question {isee.id!r} is of type {isee.type}; the ISEE question must be a number",
                    None,
                )
            )
    _refuse(problems)


class ServiceDefinition(_Strict):
    """What a service asks and how it ranks and charges, as one value.

    `ServiceConfig` carries the same keys flat in the YAML; the catalogue
    stores this model's JSON on each service (`enrollment.Service.definition`),
    so staff edits and the YAML meet in one place.
    """

    schools: list[School] | None = None
    questions: list[Question] = []
    documents: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = []
    ranking: Ranking | None = None
    fees: Fees | None = None

    @model_validator(mode="after")
    def _definition(self) -> ServiceDefinition:
        definition_check(questions=self.questions, ranking=self.ranking, fees=self.fees)
        return self

    @property
    def version(self) -> str:
        return definition_version(
            schools=self.schools,
            questions=self.questions,
            documents=self.documents,
            ranking=self.ranking,
            fees=self.fees,
        )

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


def definition_version(
    *,
    schools: Sequence[str] | None,
    questions: Sequence[Question],
    documents: Sequence[str],
    ranking: Ranking | None,
    fees: Fees | None,
) -> str:
    """A short hash of the definition's canonical JSON.

    Fields left at their default are omitted, so writing `required: false`
    or leaving it out gives the same version; any change of meaning gives
    another. Enrollments store it next to their answers.
    """
    canonical = {
        "schools": list(schools) if schools is not None else None,
        "questions": [q.model_dump(mode="json", exclude_defaults=True) for q in questions],
        "documents": list(documents),
        "ranking": ranking.model_dump(mode="json", exclude_defaults=True) if ranking else None,
        "fees": fees.model_dump(mode="json", exclude_defaults=True) if fees else None,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
