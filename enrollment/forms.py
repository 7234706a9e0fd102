"""The enrollment form: pupil, guardian, services, service questions, privacy.

The questions of each service come from its definition
(enrollment.definitions.service_definition): one field per question, named
`extra_<service code>_<question id>`, whose value is checked by
enrollment.answers.answers_clean, the same rules the API uses. Nothing here
knows a service by its code.
"""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from stdnum.it import codicefiscale

from core.limits import column_max_length
from enrollment.answers import answers_clean, answers_to_json
from enrollment.birth import birth_from_codice_fiscale, birth_place_matches
from enrollment.definitions import service_definition
from enrollment.models import Guardian, Pupil, Service
from enrollment.rules import (
    GUARDIAN_FIELDS,
    PRIVACY_TEXT,
    PUPIL_FIELDS,
    birth_date_problem,
    codice_fiscale_clean,
)
from enrollment.uploads import (
    CARRIED_GONE,
    CheckedFile,
    UploadRefused,
    upload_carried,
    upload_carry,
    upload_check,
    upload_max_bytes,
    uploads_by_id,
)
from tenants.service_definition import Question

PHONE_RE = re.compile(r"^\+?[0-9 ]{6,20}$")
CAP_RE = re.compile(r"^\d{5}$")


def _text(
    label: StrOrPromise, *, max_length: int, field: type[forms.CharField] = forms.CharField, **kwargs: Any
) -> forms.CharField:
    messages = {
        "required": format_lazy(_("Compila il campo «{label}»."), label=label),
        "max_length": format_lazy(
            _("«{label}» può avere al massimo {max} caratteri."), label=label, max=max_length
        ),
    }
    messages.update(kwargs.pop("error_messages", {}))
    return field(label=label, max_length=max_length, error_messages=messages, **kwargs)


def _column(label: StrOrPromise, model: type[Guardian | Pupil], name: str, **kwargs: Any) -> forms.CharField:
    """A text field as long as the column it is stored in."""
    return _text(label, max_length=column_max_length(model, name), **kwargs)


# Up to this many options a choice is a group of radio buttons, beyond it a select.
RADIO_MAX_OPTIONS = 5
SCHOOL_LABELS = dict(Pupil.School.choices)


def question_field_name(service: Service, question_id: str) -> str:
    return f"extra_{service.code}_{question_id}"


# The hidden input that carries, from step to step, the reference to a file
# chosen before any save (enrollment.uploads.upload_carry): `<field>__allegato`.
CARRIED_SUFFIX = "__allegato"


def _question_field(question: Question) -> forms.Field:
    """A field that only carries the raw value: answers_clean judges it, for web and API alike."""
    kind = question.type
    field: forms.Field
    if kind == "boolean":
        field = forms.BooleanField(required=False)
    elif kind == "choices":
        field = forms.MultipleChoiceField(
            required=False,
            choices=[(o, o) for o in question.options or []],
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "invalid_choice": _("Scegli solo tra le opzioni proposte."),
                "invalid_list": _("Scegli una o più delle opzioni proposte."),
            },
        )
    elif kind == "file":
        field = forms.FileField(
            required=False,
            error_messages={
                "empty": _("Il file è vuoto: allega un file PDF, JPEG o PNG."),
                "invalid": _("Il file non è stato ricevuto: riprova ad allegarlo."),
                "missing": _("Il file non è stato ricevuto: riprova ad allegarlo."),
            },
        )
    elif kind == "textarea":
        field = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3}))
    else:
        field = forms.CharField(required=False, strip=False)
    field.label = question.label
    field.help_text = question.help
    return field


class ServiceQuestions:
    """One service's questions on the form, with the names of their fields."""

    def __init__(self, form: EnrollmentForm, service: Service) -> None:
        self.form = form
        self.service = service
        self.definition = service_definition(service)
        self.names = {q.id: question_field_name(service, q.id) for q in self.definition.questions}

    @property
    def items(self) -> list[dict[str, Any]]:
        """What the template needs for each question: the question, its bound field, its state."""
        dependants: dict[str, list[str]] = {}
        for q in self.definition.questions:
            if q.required_if is not None:
                dependants.setdefault(q.required_if.question, []).append(f"id_{self.names[q.id]}-block")
        out = []
        for q in self.definition.questions:
            bound = self.form[self.names[q.id]]
            value = bound.value()
            condition = q.required_if
            fid = bound.auto_id
            described = [f"{fid}-help"] if q.help else []
            if condition is not None:
                described.append(f"{fid}-when")
            if bound.errors:
                described.append(f"{fid}-error")
            out.append(
                {
                    "q": q,
                    "field": bound,
                    "value": value,
                    "values": value if isinstance(value, list) else [],
                    "radio": q.type == "choice" and len(q.options or []) <= RADIO_MAX_OPTIONS,
                    "required": q.required or condition is not None,
                    "describedby": " ".join(described),
                    "controls": " ".join(dependants.get(q.id, [])),
                    "depends_on": self.names[condition.question] if condition else "",
                    "depends_value": _condition_text(condition.equals) if condition else "",
                    "when": self._when(q) if condition else "",
                    "file": self.form.stored_file(self.names[q.id]) if q.type == "file" else None,
                    "max_mb": upload_max_bytes() // (1024 * 1024) if q.type == "file" else None,
                }
            )
        return out

    def _when(self, question: Question) -> str:
        condition = question.required_if
        assert condition is not None
        earlier = self.definition.question(condition.question)
        label = earlier.label if earlier else condition.question
        if isinstance(condition.equals, bool):
            answer = gettext("Sì") if condition.equals else gettext("No")
        else:
            answer = str(condition.equals)
        return gettext("Da compilare solo se hai risposto «%(answer)s» a «%(question)s».") % {
            "answer": answer,
            "question": label,
        }


def _condition_text(value: Any) -> str:
    """How a condition's value reads in the posted form (the JS compares strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# The enrollment's steps (issue #15); step 5, the riepilogo, is the summary page.
# Italian names, translated where they are shown (gettext_noop marks them for the catalogue).
STEPS: tuple[str, ...] = (
    gettext_noop("Informativa privacy"),
    gettext_noop("Dati dell'alunno"),
    gettext_noop("Dati del genitore/tutore"),
    gettext_noop("Servizi"),
    gettext_noop("Riepilogo"),
)
FORM_STEPS = 4


def step_of(name: str | None) -> int:
    """The form step (1-4) a field, or a form-wide error (None / __all__), belongs to."""
    if name == "privacy":
        return 1
    if name and name.startswith("pupil_"):
        return 2
    if name and name.startswith("guardian_"):
        return 3
    return 4


class EnrollmentForm(forms.Form):
    """One form for one pupil; `services` None means the services are fixed
    (a renewal, or a form already submitted) and are not asked again."""

    pupil_first_name = _column(_("Nome dell'alunno"), Pupil, "first_name")
    pupil_last_name = _column(_("Cognome dell'alunno"), Pupil, "last_name")
    pupil_codice_fiscale = _column(_("Codice fiscale dell'alunno"), Pupil, "codice_fiscale")
    pupil_birth_date = forms.DateField(
        label=_("Data di nascita dell'alunno"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Compila il campo «Data di nascita dell'alunno»."),
            "invalid": _("Inserisci la data di nascita nel formato gg/mm/aaaa."),
        },
    )
    pupil_birth_place = _column(_("Luogo di nascita dell'alunno"), Pupil, "birth_place")
    pupil_school = forms.ChoiceField(
        label=_("Scuola frequentata nell'anno scolastico"),
        choices=[("", _("Scegli la scuola")), *((value, _(label)) for value, label in Pupil.School.choices)],
        error_messages={"required": _("Scegli la scuola che l'alunno frequenterà.")},
    )
    pupil_class_section = _column(
        _("Classe e sezione"), Pupil, "class_section", help_text=_("Ad esempio: 2ª A")
    )

    guardian_first_name = _column(_("Nome del genitore/tutore"), Guardian, "first_name")
    guardian_last_name = _column(_("Cognome del genitore/tutore"), Guardian, "last_name")
    guardian_codice_fiscale = _column(_("Codice fiscale del genitore/tutore"), Guardian, "codice_fiscale")
    guardian_email = _column(
        _("Email del genitore/tutore"),
        Guardian,
        "email",
        field=forms.EmailField,
        error_messages={"invalid": _("Inserisci un indirizzo email valido, ad esempio nome@esempio.it.")},
    )
    guardian_phone = _column(_("Telefono del genitore/tutore"), Guardian, "phone")
    guardian_address = _column(
        _("Indirizzo di residenza"), Guardian, "address", help_text=_("Via e numero civico")
    )
    guardian_cap = _column(pgettext_lazy("codice di avviamento postale", "CAP"), Guardian, "cap")
    guardian_city = _column(_("Comune di residenza"), Guardian, "city")

    services = forms.ModelMultipleChoiceField(
        label=_("Servizi richiesti"),
        queryset=Service.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Scegli almeno un servizio.")},
    )
    privacy = forms.BooleanField(
        label=_(PRIVACY_TEXT),
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        services: QuerySet[Service] | None,
        fixed_services: list[Service] | None = None,
        school_year: str | None = None,
        lock_pupil_cf: bool = False,
        full: bool = True,
        account: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The signed-in parent: a file carried between steps must be theirs (None: the API's
        # form, which names uploads by id instead).
        self.account = account
        # Field name → the reference each carried file rides on, and its upload once checked.
        self.carried_tokens: dict[str, str] = {}
        self.carried_uploads: dict[str, Any] = {}
        if self.is_bound:
            self._birth_prefill()
        self.full = full
        self.fixed_services = fixed_services or []
        self.school_year = school_year
        if services is None:
            del self.fields["services"]
            offered = list(self.fixed_services)
        else:
            services_field = cast(forms.ModelMultipleChoiceField, self.fields["services"])
            services_field.queryset = services
            offered = list(services)
        if lock_pupil_cf:
            self.fields["pupil_codice_fiscale"].disabled = True
            self.fields["pupil_codice_fiscale"].help_text = _(
                "È il codice fiscale con cui hai effettuato l'accesso e non può essere cambiato."
            )
        self.service_questions: list[ServiceQuestions] = []
        # What answers_clean accepted, by service code, as JSON (files: the checked file).
        self.answers: dict[str, dict[str, Any]] = {}
        for service in offered:
            group = ServiceQuestions(self, service)
            for q in group.definition.questions:
                self.fields[group.names[q.id]] = _question_field(q)
            if group.names:
                self.service_questions.append(group)
        if self.is_bound and account is not None:
            for group in self.service_questions:
                for q in group.definition.questions:
                    token = self.data.get(group.names[q.id] + CARRIED_SUFFIX) if q.type == "file" else None
                    if isinstance(token, str) and token:
                        self.carried_tokens[group.names[q.id]] = token

    def _birth_prefill(self) -> None:
        """Birth date and place left empty come from the pupil's codice fiscale (the riepilogo shows them)."""
        cf = self.data.get(self.add_prefix("pupil_codice_fiscale")) or self.initial.get(
            "pupil_codice_fiscale"
        )
        birth = birth_from_codice_fiscale(str(cf or ""))
        if birth is None:
            return
        encoded = {"pupil_birth_date": birth.date.isoformat(), "pupil_birth_place": birth.place or ""}
        missing = {
            k: v for k, v in encoded.items() if v and not str(self.data.get(self.add_prefix(k)) or "").strip()
        }
        if missing:
            data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
            data.update({self.add_prefix(k): v for k, v in missing.items()})
            self.data = data

    step = 1

    def step_errors_only(self, step: int) -> None:
        """Keep the errors of `step` only (each step is validated on its own)."""
        for name in list(self.errors):
            if step_of(None if name == NON_FIELD_ERRORS else name) != step:
                del self.errors[name]

    def errors_clear(self) -> None:
        self._errors = ErrorDict()

    def first_invalid_step(self) -> int | None:
        steps = [step_of(None if n == NON_FIELD_ERRORS else n) for n in self.errors]
        return min(steps) if steps else None

    @property
    def other_steps_hidden(self) -> list[forms.BoundField]:
        """The fields of the other steps, carried as hidden inputs (files stay on step 4)."""
        return [
            self[n]
            for n, f in self.fields.items()
            if step_of(n) != self.step and not isinstance(f, forms.FileField)
        ]

    @property
    def other_steps_hidden_html(self) -> SafeString:
        """`other_steps_hidden` as `<input type="hidden">`s, without a template per input."""
        return hidden_inputs(self.other_steps_hidden)

    def section(self, prefix: str, names: tuple[str, ...]) -> list[forms.BoundField]:
        return [self[f"{prefix}_{n}"] for n in names]

    @property
    def pupil_fields(self) -> list[forms.BoundField]:
        return self.section("pupil", PUPIL_FIELDS)

    @property
    def guardian_fields(self) -> list[forms.BoundField]:
        return self.section("guardian", GUARDIAN_FIELDS)

    def _clean_cf(self, name: str) -> str:
        return codice_fiscale_clean(self.cleaned_data[name])

    def clean_pupil_codice_fiscale(self) -> str:
        value = self._clean_cf("pupil_codice_fiscale")
        if self.fields["pupil_codice_fiscale"].disabled:
            # A disabled field ignores what is posted; a different value is
            # refused rather than silently replaced, so a client sees why.
            posted = str(self.data.get(self.add_prefix("pupil_codice_fiscale")) or "").strip().upper()
            if posted and posted != value:
                raise forms.ValidationError(
                    gettext(
                        "Il codice fiscale dell'alunno è %(cf)s, quello con cui hai effettuato "
                        "l'accesso, e non può essere cambiato."
                    )
                    % {"cf": value}
                )
        return value

    def clean_guardian_codice_fiscale(self) -> str:
        return self._clean_cf("guardian_codice_fiscale")

    def clean_guardian_phone(self) -> str:
        value = self.cleaned_data["guardian_phone"].strip()
        if not PHONE_RE.match(value):
            raise forms.ValidationError(
                gettext("Inserisci un numero di telefono di sole cifre, ad esempio 035 123456.")
            )
        return value

    def clean_guardian_cap(self) -> str:
        value = self.cleaned_data["guardian_cap"].strip()
        if not CAP_RE.match(value):
            raise forms.ValidationError(gettext("Il CAP è formato da 5 cifre."))
        return value

    def clean_privacy(self) -> bool:
        if not self.cleaned_data.get("privacy"):
            raise forms.ValidationError(
                gettext("Per proseguire è necessario autorizzare il trattamento dei dati personali.")
            )
        return True

    def chosen_services(self) -> list[Service]:
        if "services" in self.fields:
            return list(self.cleaned_data.get("services") or [])
        return self.fixed_services

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        birth, school, cf = (
            data.get("pupil_birth_date"),
            data.get("pupil_school"),
            data.get("pupil_codice_fiscale"),
        )
        chosen = self.chosen_services()
        year = self.school_year or (chosen[0].school_year if chosen else None)
        if birth and cf and codicefiscale.get_birth_date(cf) != birth:
            self.add_error(
                "pupil_birth_date",
                gettext("La data di nascita non corrisponde al codice fiscale dell'alunno."),
            )
        place, encoded = data.get("pupil_birth_place"), birth_from_codice_fiscale(cf or "")
        if place and encoded and encoded.place and not birth_place_matches(encoded, place):
            self.add_error(
                "pupil_birth_place",
                gettext(
                    "Il luogo di nascita non corrisponde al codice fiscale dell'alunno, "
                    "che indica %(place)s: correggi il luogo o il codice fiscale."
                )
                % {"place": encoded.place},
            )
        if birth and school and year:
            if birth > timezone.localdate():
                self.add_error("pupil_birth_date", gettext("La data di nascita non può essere nel futuro."))
            else:
                problem = birth_date_problem(birth_date=birth, school=school, school_year=year)
                if problem:
                    self.add_error("pupil_birth_date", problem)
        self._clean_eligibility(chosen, school)
        for group in self.service_questions:
            if group.service in chosen:
                self._clean_answers(group)
        return data

    def _clean_eligibility(self, chosen: list[Service], school: str | None) -> None:
        """A service open only to some schools refuses the others (`schools` in its definition)."""
        if not school:
            return
        for service in chosen:
            schools = service_definition(service).schools
            if schools is not None and school not in schools:
                names = ", ".join(gettext(SCHOOL_LABELS[s]).lower() for s in schools)
                message = gettext(
                    "%(service)s %(year)s è riservato agli alunni della %(schools)s: "
                    "non è disponibile per la %(school)s."
                ) % {
                    "service": service.name,
                    "year": service.school_year,
                    "schools": names,
                    "school": gettext(SCHOOL_LABELS[school]).lower(),
                }
                self.add_error("services" if "services" in self.fields else None, message)

    def stored_file(self, name: str) -> Any:
        """The upload of a file question: carried from an earlier step, or already attached
        (editing a saved form), if any."""
        return self.carried_uploads.get(name) or self.stored_uploads.get(str(self.initial.get(name) or ""))

    def files_carry(self) -> None:
        """Store the files this POST brought that passed their checks, unattached, so the
        page can carry them to other steps by reference (a move between steps saves nothing)."""
        if self.account is None:
            return
        for group in self.service_questions:
            values = self.answers.get(group.service.code, {})
            for qid, value in values.items():
                if isinstance(value, CheckedFile):
                    upload, token = upload_carry(checked=value, account=self.account, question_id=qid)
                    name = group.names[qid]
                    values[qid] = str(upload.id)
                    self.carried_tokens[name] = token
                    self.carried_uploads[name] = upload

    @property
    def stored_uploads(self) -> dict[str, Any]:
        cached = getattr(self, "_stored_uploads", None)
        if cached is None:
            ids = [
                str(self.initial.get(group.names[q.id]) or "")
                for group in self.service_questions
                for q in group.definition.questions
                if q.type == "file"
            ]
            cached = uploads_by_id([i for i in ids if i])
            self._stored_uploads = cached
        return cached

    def _clean_answers(self, group: ServiceQuestions) -> None:
        raw: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for q in group.definition.questions:
            name = group.names[q.id]
            value = self.cleaned_data.get(name)
            if q.type == "file":
                # FileField.clean hands back the initial value (the stored upload's id)
                # when no new file is sent: only a file received now is checked and stored.
                if isinstance(value, UploadedFile):
                    try:
                        files[q.id] = upload_check(file=value, max_bytes=upload_max_bytes())
                    except UploadRefused as refused:
                        self.add_error(name, str(refused))
                        continue
                    raw[q.id] = files[q.id]
                    self.carried_tokens.pop(name, None)  # a new file replaces the carried one
                elif name in self.carried_tokens:
                    upload = self._carried(name, q.id)
                    if upload is None:
                        continue
                    raw[q.id] = str(upload.id)
                else:
                    # The API names an upload by its id; the web page keeps the one already attached.
                    posted = self.data.get(name)
                    raw[q.id] = (posted if isinstance(posted, str) and posted else None) or (
                        self.initial.get(name) or None
                    )
                continue
            raw[q.id] = value
        result = answers_clean(questions=group.definition.questions, answers=raw)
        for qid, message in result.errors.items():
            name = group.names[qid]
            if name in self.errors:
                continue
            if not self.full and not raw.get(qid):
                continue  # "Salva Bozza" keeps what is there; required answers are asked at the end
            self.add_error(name, message)
        values = answers_to_json(values={k: v for k, v in result.values.items() if k not in files})
        values.update({k: v for k, v in files.items() if k in result.values})
        self.answers[group.service.code] = values

    def _carried(self, name: str, question_id: str) -> Any:
        """The upload a carried reference names, or None with the field's Italian refusal."""
        try:
            upload = upload_carried(
                token=self.carried_tokens[name], account=self.account, question_id=question_id
            )
        except UploadRefused as refused:
            del self.carried_tokens[name]
            self.add_error(name, str(refused))
            return None
        # Unattached, or already this form's own answer (a save sent twice): never another enrollment's.
        if upload.enrollment_id is not None and str(upload.id) != str(self.initial.get(name) or ""):
            del self.carried_tokens[name]
            self.add_error(name, gettext(CARRIED_GONE))
            return None
        self.carried_uploads[name] = upload
        return upload

    def guardian_data(self) -> dict[str, Any]:
        return {n: self.cleaned_data[f"guardian_{n}"] for n in GUARDIAN_FIELDS}

    def pupil_data(self) -> dict[str, Any]:
        return {n: self.cleaned_data[f"pupil_{n}"] for n in PUPIL_FIELDS}

    def extra_data(self) -> dict[str, dict[str, Any]]:
        """The answers by service code: JSON values, and the checked files still to be stored."""
        return {code: dict(values) for code, values in self.answers.items()}


def initial_from(
    *, guardian: Any = None, pupil: Any = None, enrollments: list[Any] | None = None
) -> dict[str, Any]:
    """Form values from stored records (renewal prefill, editing a saved form)."""
    initial: dict[str, Any] = {}
    if guardian is not None:
        initial.update({f"guardian_{n}": getattr(guardian, n) for n in GUARDIAN_FIELDS})
    if pupil is not None:
        initial.update({f"pupil_{n}": getattr(pupil, n) for n in PUPIL_FIELDS})
    for e in enrollments or []:
        for key, value in e.extra.items():
            initial[question_field_name(e.service, key)] = value
    if enrollments:
        initial["services"] = [e.service for e in enrollments]
        initial["privacy"] = True
    return initial


def renewal_initial_answers(*, previous: Any, target: Service) -> dict[str, Any]:
    """Last year's answers as this year's form values, where the same question is still asked
    and the answer still fits it (an option still offered, a number still in range).

    Files are not carried over: a renewal asks for this year's document.
    """
    stored = previous.extra or {}
    initial: dict[str, Any] = {}
    for q in service_definition(target).questions:
        if q.id not in stored or q.type == "file":
            continue
        alone = q.model_copy(update={"required_if": None, "required": False})
        checked = answers_clean(questions=[alone], answers={q.id: stored[q.id]})
        if q.id in checked.values:
            value = answers_to_json(values=checked.values)[q.id]
            initial[question_field_name(target, q.id)] = value
    return initial


def hidden_inputs(fields: list[forms.BoundField]) -> SafeString:
    """What `{{ field.as_hidden }}` renders for each field: its name and values, posted back as typed.

    The form's steps carry every other step's fields (60 of them with a
    service's questions) on each page; through Django's widget templates
    they were about 40 % of a step's rendering (bench/form.py). A disabled
    field is left out: the browser would not send it, and the form reads
    its initial value instead.
    """
    parts: list[str] = []
    for bound in fields:
        field = bound.field
        if field.disabled:
            continue
        widget = field.hidden_widget()
        value = bound.value()
        values: list[Any]
        if isinstance(widget, forms.MultipleHiddenInput):
            # One plain hidden input per value, as MultipleHiddenInput renders them.
            values, widget = list(value or ()), forms.HiddenInput()
        else:
            widget.is_localized, values = bool(field.localize), [value]
        for item in values:
            shown = widget.format_value(item)
            if shown is None:
                parts.append(format_html('<input type="hidden" name="{}">', bound.html_name))
            else:
                parts.append(
                    format_html('<input type="hidden" name="{}" value="{}">', bound.html_name, shown)
                )
    return mark_safe("".join(parts))  # noqa: S308 (each part escaped by format_html)
