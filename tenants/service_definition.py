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
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

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


Problem = tuple[Loc, str, Any]


def _details(problems: list[Problem]) -> list[InitErrorDetails]:
    return [
        InitErrorDetails(
            type=PydanticCustomError("definition", "{reason}", {"reason": reason}), loc=loc, input=value
        )
        for loc, reason, value in problems
    ]


def _refuse(problems: list[Problem]) -> None:
    """Raise one error per problem, each at its own field.

    pydantic prefixes the path of the enclosing model (services.0. ...), so
    the message names the exact field rather than the whole service.
    """
    if not problems:
        return
    raise ValidationError.from_exception_data("ServiceDefinition", _details(problems))


def _again(errors: list[ErrorDetails]) -> list[InitErrorDetails]:
    """pydantic's errors as they were raised, to raise them again with more."""
    details = []
    for error in errors:
        ctx = dict(error.get("ctx") or {})
        kind: str | PydanticCustomError = error["type"]
        if kind == "definition":
            kind = PydanticCustomError("definition", "{reason}", ctx)
        details.append(InitErrorDetails(type=kind, loc=error["loc"], input=error["input"], ctx=ctx))
    return details


def _refuse_also(exc: ValidationError, problems: list[Problem]) -> None:
    """Raise `exc`'s errors and `problems` together, so one reading lists every refusal."""
    if not problems:
        raise exc
    raise ValidationError.from_exception_data(
        exc.title, [*_again(exc.errors()), *_details(problems)]
    ) from None


def _failed(errors: list[ErrorDetails], prefix: Loc = ()) -> set[int | str]:
    """The fields under `prefix` that did not even parse (not those a consistency rule refused)."""
    n = len(prefix)
    return {
        e["loc"][n]
        for e in errors
        if len(e["loc"]) > n and tuple(e["loc"][:n]) == prefix and e["type"] != "definition"
    }


def _parsed(model: type[BaseModel], data: dict[str, Any], failed: set[int | str]) -> dict[str, Any]:
    """The fields of `data` that parsed, as given, and the defaults of those left out.

    What the consistency rules may still read when another field of the same
    item is refused: a field that did not parse is absent, never a default.
    """
    known: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name in failed:
            continue
        if name in data:
            known[name] = data[name]
        elif not field.is_required():
            known[name] = field.get_default(call_default_factory=True)
    return known


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
        # When a field does not parse pydantic skips this: `definition_refuse`
        # then runs the same rules on the fields that did.
        _refuse(question_problems(self.__dict__))
        return self


def question_problems(known: dict[str, Any]) -> list[Problem]:
    """A question's own inconsistencies, from the fields that parsed (`_parsed`)."""
    problems: list[Problem] = []
    kind = known.get("type")  # absent when the type itself is refused
    options = known.get("options")
    if kind in CHOICE_TYPES and "options" in known and not options:
        problems.append((("options",), f"a {kind} question needs options", options))
    elif kind is not None and kind not in CHOICE_TYPES and options is not None:
        problems.append((("options",), "options apply only to choice and choices questions", options))
    elif options:
        # Also when the type is refused: the options are meant for a choice.
        seen: set[str] = set()
        for i, option in enumerate(options):
            if option in seen:
                problems.append((("options", i), f"option {option!r} is listed twice", option))
            seen.add(option)
    low, high = known.get("min"), known.get("max")
    if kind is not None and kind != "number":
        for bound, value in (("min", low), ("max", high)):
            if value is not None:
                problems.append(((bound,), f"{bound} applies only to number questions", value))
    elif low is not None and high is not None and Decimal(str(low)) > Decimal(str(high)):
        problems.append((("max",), f"must not be less than min ({low})", high))
    condition = known.get("required_if")
    if condition is not None:
        if known.get("required"):
            problems.append(
                (("required_if",), "a question is either required or required_if, not both", None)
            )
        name = condition.question if isinstance(condition, RequiredIf) else condition.get("question")
        if "id" in known and name == known["id"]:
            problems.append((("required_if", "question"), "a question cannot depend on itself", name))
    return problems


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
    kind = getattr(question, "type", None)  # absent on a question whose type is refused
    if kind == "file":
        return f"question {question.id!r} is a file question: nothing to compare"
    if kind == "boolean" and not isinstance(equals, bool):
        return f"must be true or false: question {question.id!r} is a yes/no question"
    if kind in CHOICE_TYPES and equals not in (question.options or []):
        return f"must be one of the options of question {question.id!r}"
    if kind == "number" and (isinstance(equals, bool) or not isinstance(equals, int | Decimal)):
        return f"must be a number: question {question.id!r} is a number question"
    return None


def definition_check(*, questions: Sequence[Question], ranking: Ranking | None, fees: Fees | None) -> None:
    """Refuse references between parts of a definition that do not hold."""
    _refuse(definition_problems(questions=questions, ranking=ranking, fees=fees))


def definition_problems(
    *, questions: Sequence[Question], ranking: Ranking | None, fees: Fees | None
) -> list[Problem]:
    """The references between parts of a definition that do not hold.

    Conditions may name only an earlier question, which also rules out a
    question depending on itself or a cycle, and lets a form be filled top
    to bottom. The parts may be partial (`definition_refuse`): a field that
    did not parse is absent and the rules that need it are skipped.
    """
    problems: list[Problem] = []
    earlier: dict[str, Question] = {}
    all_ids = {getattr(q, "id", None) for q in questions}
    for i, q in enumerate(questions):
        qid = getattr(q, "id", None)
        if qid is not None and qid in earlier:
            problems.append((("questions", i, "id"), f"question id {qid!r} is listed twice", qid))
        if q.required_if is not None and q.required_if.question != qid:
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
        if qid is not None:
            earlier.setdefault(qid, q)
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
        kind = getattr(isee, "type", None)
        if isee is None:
            problems.append((loc, f"names question {fees.isee_question!r}, which does not exist", None))
        elif not isee.active:
            problems.append((loc, f"names question {fees.isee_question!r}, which is deactivated", None))
        elif kind is not None and kind != "number":
            problems.append(
                (loc, f"question {isee.id!r} is of type {kind}; the ISEE question must be a number", None)
            )
    return problems


_EQUALS: TypeAdapter[Equals] = TypeAdapter(Equals)


def _partial_question(raw: Any, errors: list[ErrorDetails], prefix: Loc) -> Question:
    """What parsed of one question: enough for the references between questions."""
    if not isinstance(raw, dict):
        return Question.model_construct()
    known = _parsed(Question, raw, _failed(errors, prefix))
    if "options" not in known:
        known.pop("type", None)  # nothing to compare an answer with
    if isinstance(known.get("required_if"), dict):
        known["required_if"] = RequiredIf.model_validate(known["required_if"])
    return Question.model_construct(**known)


def _partial_criterion(raw: Any, errors: list[ErrorDetails], prefix: Loc) -> Criterion:
    if not isinstance(raw, dict):
        return Criterion.model_construct(question=None, equals=None)
    known = _parsed(Criterion, raw, _failed(errors, prefix))
    if known.get("equals") is not None:
        known["equals"] = _EQUALS.validate_python(known["equals"])
    return Criterion.model_construct(**{"question": None, "equals": None, **known})


class _Defining(Protocol):
    """What holds a definition: the service's config, or the definition itself."""

    @property
    def questions(self) -> Sequence[Question]: ...
    @property
    def ranking(self) -> Ranking | None: ...
    @property
    def fees(self) -> Fees | None: ...


_D = TypeVar("_D", bound=_Defining)


def definition_validated(data: Any, handler: Callable[[Any], _D]) -> _D:
    """A model holding a definition (questions, ranking, fees), parsed by pydantic's `handler`
    then checked across its parts; a refused field does not hide the broken references
    among those that parsed (`definition_refuse`)."""
    try:
        parsed = handler(data)
    except ValidationError as exc:
        definition_refuse(exc, data)
        raise
    definition_check(questions=parsed.questions, ranking=parsed.ranking, fees=parsed.fees)
    return parsed


def definition_refuse(exc: ValidationError, data: Any) -> None:
    """Raise `exc` with also the references that do not hold among the parts that did parse.

    pydantic runs a model's own rules only when all its fields parse: without
    this, a question with an unknown type would hide that its required_if
    names a question that does not exist, to be found only on the next try.
    """
    if not isinstance(data, dict):
        raise exc
    errors = exc.errors()
    raw_questions = data.get("questions") or []
    if not isinstance(raw_questions, list):
        raise exc
    problems: list[Problem] = []
    for i, raw in enumerate(raw_questions):
        failed = _failed(errors, ("questions", i))
        if failed and isinstance(raw, dict):
            problems.extend(
                (("questions", i, *loc), reason, value)
                for loc, reason, value in question_problems(_parsed(Question, raw, failed))
            )
    questions = [_partial_question(q, errors, ("questions", i)) for i, q in enumerate(raw_questions)]
    ranking = None
    raw_ranking = data.get("ranking")
    if isinstance(raw_ranking, dict) and isinstance(raw_ranking.get("criteria"), list):
        criteria = [
            _partial_criterion(c, errors, ("ranking", "criteria", i))
            for i, c in enumerate(raw_ranking["criteria"])
        ]
        ranking = Ranking.model_construct(criteria=criteria)
    fees = None
    raw_fees = data.get("fees")
    if isinstance(raw_fees, dict) and "isee_question" not in _failed(errors, ("fees",)):
        fees = Fees.model_construct(isee_question=raw_fees.get("isee_question"))
    problems.extend(definition_problems(questions=questions, ranking=ranking, fees=fees))
    # A question whose fields all parsed had its own rules run (`Question._consistent`): each refusal once.
    already = {tuple(e["loc"]) for e in errors}
    _refuse_also(exc, [p for p in problems if p[0] not in already])


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

    @model_validator(mode="wrap")
    @classmethod
    def _definition(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> ServiceDefinition:
        return definition_validated(data, handler)

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
