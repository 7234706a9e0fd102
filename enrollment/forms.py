"""The enrollment form: pupil, guardian, services, service questions, privacy."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from stdnum.it import codicefiscale

from core.limits import column_max_length
from enrollment.birth import birth_from_codice_fiscale, birth_place_matches
from enrollment.models import Guardian, Pupil, Service
from enrollment.rules import (
    GUARDIAN_FIELDS,
    PRIVACY_TEXT,
    PUPIL_FIELDS,
    birth_date_problem,
    codice_fiscale_clean,
    service_fields,
)

PHONE_RE = re.compile(r"^\+?[0-9 ]{6,20}$")
CAP_RE = re.compile(r"^\d{5}$")


def _text(
    label: str, *, max_length: int, field: type[forms.CharField] = forms.CharField, **kwargs: Any
) -> forms.CharField:
    messages = {
        "required": f"Compila il campo «{label}».",
        "max_length": f"«{label}» può avere al massimo {max_length} caratteri.",
    }
    messages.update(kwargs.pop("error_messages", {}))
    return field(label=label, max_length=max_length, error_messages=messages, **kwargs)


def _column(label: str, model: type[Guardian | Pupil], name: str, **kwargs: Any) -> forms.CharField:
    """A text field as long as the column it is stored in."""
    return _text(label, max_length=column_max_length(model, name), **kwargs)


# The answers to a service's questions are kept in a JSON field: the bound is
# ours, not a column's.
ANSWER_MAX_LENGTH = 300


class EnrollmentForm(forms.Form):
    """One form for one pupil; `services` None means the services are fixed
    (a renewal, or a form already submitted) and are not asked again."""

    pupil_first_name = _column("Nome dell'alunno", Pupil, "first_name")
    pupil_last_name = _column("Cognome dell'alunno", Pupil, "last_name")
    pupil_codice_fiscale = _column("Codice fiscale dell'alunno", Pupil, "codice_fiscale")
    pupil_birth_date = forms.DateField(
        label="Data di nascita dell'alunno",
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Compila il campo «Data di nascita dell'alunno».",
            "invalid": "Inserisci la data di nascita nel formato gg/mm/aaaa.",
        },
    )
    pupil_birth_place = _column("Luogo di nascita dell'alunno", Pupil, "birth_place")
    pupil_school = forms.ChoiceField(
        label="Scuola frequentata nell'anno scolastico",
        choices=[("", "Scegli la scuola"), *Pupil.School.choices],
        error_messages={"required": "Scegli la scuola che l'alunno frequenterà."},
    )
    pupil_class_section = _column("Classe e sezione", Pupil, "class_section", help_text="Ad esempio: 2ª A")

    guardian_first_name = _column("Nome del genitore/tutore", Guardian, "first_name")
    guardian_last_name = _column("Cognome del genitore/tutore", Guardian, "last_name")
    guardian_codice_fiscale = _column("Codice fiscale del genitore/tutore", Guardian, "codice_fiscale")
    guardian_email = _column(
        "Email del genitore/tutore",
        Guardian,
        "email",
        field=forms.EmailField,
        error_messages={"invalid": "Inserisci un indirizzo email valido, ad esempio nome@esempio.it."},
    )
    guardian_phone = _column("Telefono del genitore/tutore", Guardian, "phone")
    guardian_address = _column("Indirizzo di residenza", Guardian, "address", help_text="Via e numero civico")
    guardian_cap = _column("CAP", Guardian, "cap")
    guardian_city = _column("Comune di residenza", Guardian, "city")

    services = forms.ModelMultipleChoiceField(
        label="Servizi richiesti",
        queryset=Service.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Scegli almeno un servizio."},
    )
    privacy = forms.BooleanField(
        label=PRIVACY_TEXT,
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
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
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
            self.fields[
                "pupil_codice_fiscale"
            ].help_text = "È il codice fiscale con cui hai effettuato l'accesso e non può essere cambiato."
        self.service_questions: list[tuple[Service, list[str]]] = []
        for service in offered:
            names = []
            for q in service_fields(service.code):
                name = f"extra_{service.code}_{q.name}"
                self.fields[name] = _text(
                    f"{q.label} ({service.name})", max_length=ANSWER_MAX_LENGTH, required=False
                )
                self.fields[name].help_text = q.help_text
                self.fields[name].widget = forms.Textarea(attrs={"rows": 2})
                names.append(name)
            if names:
                self.service_questions.append((service, names))

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
                    f"Il codice fiscale dell'alunno è {value}, quello con cui hai effettuato "
                    "l'accesso, e non può essere cambiato."
                )
        return value

    def clean_guardian_codice_fiscale(self) -> str:
        return self._clean_cf("guardian_codice_fiscale")

    def clean_guardian_phone(self) -> str:
        value = self.cleaned_data["guardian_phone"].strip()
        if not PHONE_RE.match(value):
            raise forms.ValidationError(
                "Inserisci un numero di telefono di sole cifre, ad esempio 035 123456."
            )
        return value

    def clean_guardian_cap(self) -> str:
        value = self.cleaned_data["guardian_cap"].strip()
        if not CAP_RE.match(value):
            raise forms.ValidationError("Il CAP è formato da 5 cifre.")
        return value

    def clean_privacy(self) -> bool:
        if not self.cleaned_data.get("privacy"):
            raise forms.ValidationError(
                "Per proseguire è necessario autorizzare il trattamento dei dati personali."
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
                "pupil_birth_date", "La data di nascita non corrisponde al codice fiscale dell'alunno."
            )
        place, encoded = data.get("pupil_birth_place"), birth_from_codice_fiscale(cf or "")
        if place and encoded and encoded.place and not birth_place_matches(encoded, place):
            self.add_error(
                "pupil_birth_place",
                "Il luogo di nascita non corrisponde al codice fiscale dell'alunno, "
                f"che indica {encoded.place}: "
                "correggi il luogo o il codice fiscale.",
            )
        if birth and school and year:
            if birth > timezone.localdate():
                self.add_error("pupil_birth_date", "La data di nascita non può essere nel futuro.")
            else:
                problem = birth_date_problem(birth_date=birth, school=school, school_year=year)
                if problem:
                    self.add_error("pupil_birth_date", problem)
        if self.full:
            for service, names in self.service_questions:
                if service not in chosen:
                    continue
                for q, name in zip(service_fields(service.code), names, strict=True):
                    if q.required and not (data.get(name) or "").strip():
                        self.add_error(name, f"Compila il campo «{q.label}» richiesto da {service.name}.")
        return data

    def guardian_data(self) -> dict[str, Any]:
        return {n: self.cleaned_data[f"guardian_{n}"] for n in GUARDIAN_FIELDS}

    def pupil_data(self) -> dict[str, Any]:
        return {n: self.cleaned_data[f"pupil_{n}"] for n in PUPIL_FIELDS}

    def extra_data(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for service, names in self.service_questions:
            for q, name in zip(service_fields(service.code), names, strict=True):
                out.setdefault(service.code, {})[q.name] = (self.cleaned_data.get(name) or "").strip()
        return out


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
            initial[f"extra_{e.service.code}_{key}"] = value
    if enrollments:
        initial["services"] = [e.service for e in enrollments]
        initial["privacy"] = True
    return initial
