"""Forms of the back office: list filters, decisions, catalogue, staff accounts."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms

from enrollment.backoffice.roles import ROLES
from enrollment.backoffice.selectors import ORDERINGS, EnrollmentFilters, filterable_questions, school_years
from enrollment.models import Enrollment, Service
from tenants.service_definition import Question

STATUS_CHOICES = [("", "Tutti gli stati")] + [
    (v, label) for v, label in Enrollment.Status.choices if v != Enrollment.Status.BOZZA
]
ORDER_LABELS = {
    "recenti": "Data di invio, più recenti prima",
    "meno_recenti": "Data di invio, meno recenti prima",
    "alunno": "Cognome dell'alunno",
    "riferimento": "Numero di riferimento",
    "stato": "Stato",
}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


# A filter's dates: beyond these no enrollment exists, and 31/12/9999 has no next day to end on.
DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2100, 12, 31)


def _date(label: str) -> forms.DateField:
    def in_range(value: date) -> None:
        if not DATE_MIN <= value <= DATE_MAX:
            raise forms.ValidationError(
                f"«{label}»: inserisci una data tra il {DATE_MIN:%d/%m/%Y} e il {DATE_MAX:%d/%m/%Y}."
            )

    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": f"«{label}»: inserisci una data nel formato gg/mm/aaaa."},
        validators=[in_range],
    )


class EnrollmentFilterForm(forms.Form):
    servizio = forms.ModelChoiceField(
        label="Servizio",
        queryset=Service.objects.none(),
        required=False,
        empty_label="Tutti i servizi",
        error_messages={"invalid_choice": "Scegli un servizio dell'elenco."},
    )
    anno = forms.ChoiceField(label="Anno scolastico", required=False)
    stato = forms.ChoiceField(label="Stato", choices=STATUS_CHOICES, required=False)
    tipo = forms.ChoiceField(
        label="Tipo", choices=[("", "Nuove e rinnovi"), *Enrollment.Kind.choices], required=False
    )
    canale = forms.ChoiceField(
        label="Inserita da",
        choices=[
            ("", "Portale e sportello"),
            ("portale", "Genitore nel portale"),
            ("sportello", "Ufficio allo sportello"),
        ],
        required=False,
    )
    dal = _date("Inviata dal")
    al = _date("Inviata fino al")
    q = forms.CharField(
        label="Cerca",
        required=False,
        max_length=100,
        help_text="Cognome o nome di alunno o genitore, codice fiscale, numero di riferimento.",
    )
    ordina = forms.ChoiceField(
        label="Ordina per", choices=[(k, ORDER_LABELS[k]) for k in ORDERINGS], required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        servizio = cast(forms.ModelChoiceField, self.fields["servizio"])
        servizio.queryset = Service.objects.order_by("-school_year", "name")
        anno = cast(forms.ChoiceField, self.fields["anno"])
        anno.choices = [("", "Tutti gli anni")] + [(y, y) for y in school_years()]
        for name in ("anno", "stato", "tipo", "canale", "ordina"):
            self.fields[name].error_messages["invalid_choice"] = "Scegli un valore dell'elenco."
        self.answer_questions = self._answer_fields()

    def _answer_fields(self) -> list[Question]:
        """A filter per yes/no or choice question of the chosen service (`r_<question id>`)."""
        chosen = str(self.data.get("servizio") or "") if self.is_bound else ""
        # ASCII digits only: isdigit() also takes "²", which int() refuses (a 500).
        service = (
            Service.objects.filter(pk=chosen).first() if chosen.isascii() and chosen.isdecimal() else None
        )
        if service is None:
            return []
        questions = filterable_questions(service)
        for q in questions:
            if q.type == "boolean":
                options = [("", "Tutte le risposte"), ("si", "sì"), ("no", "no")]
            else:
                options = [("", "Tutte le risposte"), *((o, o) for o in q.options or [])]
            self.fields[f"r_{q.id}"] = forms.ChoiceField(
                label=q.label,
                choices=options,
                required=False,
                error_messages={"invalid_choice": f"«{q.label}»: scegli una risposta dell'elenco."},
            )
        return questions

    def _answers(self, d: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        out: list[tuple[str, Any]] = []
        for q in self.answer_questions:
            value = d.get(f"r_{q.id}") or ""
            if value:
                out.append((q.id, value == "si" if q.type == "boolean" else value))
        return tuple(out)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("dal") and data.get("al") and data["al"] < data["dal"]:
            self.add_error("al", "La data finale deve essere uguale o successiva a quella iniziale.")
        return data

    def filters(self) -> EnrollmentFilters:
        d = self.cleaned_data if self.is_valid() else {}
        return EnrollmentFilters(
            service=d.get("servizio"),
            school_year=d.get("anno") or "",
            status=d.get("stato") or "",
            kind=d.get("tipo") or "",
            date_from=d.get("dal"),
            date_to=d.get("al"),
            q=(d.get("q") or "").strip(),
            via_sportello={"portale": False, "sportello": True}.get(d.get("canale") or ""),
            ordering=d.get("ordina") or "recenti",
            answers=self._answers(d),
        )


class ConfirmForm(forms.Form):
    note = forms.CharField(
        label="Note per il genitore (facoltative)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(forms.Form):
    motivo = forms.CharField(
        label="Motivo del rifiuto",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Il motivo è mostrato al genitore nel portale e nell'e-mail.",
        error_messages={"required": "Indica il motivo del rifiuto: sarà mostrato al genitore."},
    )


def _datetime(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=DATETIME_FORMATS,
        # Seconds shown (step 1) so 23:59:59 from the YAML survives an unrelated edit.
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
        error_messages={
            "required": f"Compila il campo «{label}».",
            "invalid": f"«{label}»: inserisci data e ora, ad esempio 05/05/2026 09:00.",
        },
    )


# Far above any school service, and within the column (a PostgreSQL integer).
CAPACITY_MAX = 100_000


class ServiceForm(forms.Form):
    """The operational fields of a service (the office's decisions)."""

    opens_at = _datetime("Apertura iscrizioni")
    closes_at = _datetime("Chiusura iscrizioni")
    capacity = forms.IntegerField(
        label="Posti disponibili",
        required=False,
        min_value=1,
        max_value=CAPACITY_MAX,
        help_text="Lascia vuoto se il servizio non ha un limite di posti.",
        error_messages={
            "min_value": "I posti disponibili devono essere almeno 1.",
            "max_value": f"I posti disponibili possono essere al più {CAPACITY_MAX:,}.".replace(",", "."),
            "invalid": "Inserisci un numero intero.",
        },
    )
    fee_note = forms.CharField(
        label="Note sulle tariffe", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    new_enrollments = forms.BooleanField(label="Accetta nuove iscrizioni", required=False)
    renewals = forms.BooleanField(label="Accetta rinnovi", required=False)


class ServiceCreateForm(ServiceForm):
    code = forms.RegexField(
        label="Codice",
        regex=r"^[A-Z][A-Z0-9_]{1,19}$",
        help_text="Lettere maiuscole e cifre, ad esempio PRE o MENSA.",
        error_messages={
            "required": "Compila il campo «Codice».",
            "invalid": "Il codice è fatto di lettere maiuscole, cifre o _ (da 2 a 20), ad esempio PRE.",
        },
    )
    name = forms.CharField(
        label="Nome", max_length=120, error_messages={"required": "Compila il campo «Nome»."}
    )
    description = forms.CharField(
        label="Descrizione", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    school_year = forms.RegexField(
        label="Anno scolastico",
        regex=r"^\d{4}/\d{4}$",
        help_text="Ad esempio 2026/2027.",
        error_messages={
            "required": "Compila il campo «Anno scolastico».",
            "invalid": "Scrivi l'anno scolastico come 2026/2027.",
        },
    )
    field_order = ["code", "name", "description", "school_year"]

    def clean_school_year(self) -> str:
        value = self.cleaned_data["school_year"]
        first, second = (int(x) for x in value.split("/"))
        if second != first + 1:
            raise forms.ValidationError("L'anno scolastico è fatto di due anni consecutivi, come 2026/2027.")
        return value


ROLE_CHOICES = [("", "Scegli il ruolo")] + [(r, r) for r in ROLES]


class StaffCreateForm(forms.Form):
    username = forms.RegexField(
        label="Nome utente",
        regex=r"^[a-zA-Z0-9._-]{3,150}$",
        help_text="Ad esempio mario.rossi: lettere, cifre, punto, trattino.",
        error_messages={
            "required": "Compila il campo «Nome utente».",
            "invalid": "Il nome utente può contenere solo lettere, cifre, punto e trattino (almeno 3).",
        },
    )
    first_name = forms.CharField(
        label="Nome", max_length=150, error_messages={"required": "Compila il campo «Nome»."}
    )
    last_name = forms.CharField(
        label="Cognome", max_length=150, error_messages={"required": "Compila il campo «Cognome»."}
    )
    email = forms.EmailField(
        label="Email",
        error_messages={
            "required": "Compila il campo «Email».",
            "invalid": "Inserisci un indirizzo email valido, ad esempio nome@comune.it.",
        },
    )
    role = forms.ChoiceField(
        label="Ruolo", choices=ROLE_CHOICES, error_messages={"required": "Scegli il ruolo dell'account."}
    )
    password1 = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=(
            "Almeno 8 caratteri, non solo cifre, non simile al nome utente né comune. "
            "Lascia vuoto per inviare all'interessato un'e-mail con il collegamento per sceglierla."
        ),
    )
    password2 = forms.CharField(
        label="Ripeti la password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (data.get("password1") or data.get("password2")) and data.get("password1") != data.get(
            "password2"
        ):
            self.add_error("password2", "Le due password non coincidono.")
        return data


class PasswordSetForm(forms.Form):
    password1 = forms.CharField(
        label="Nuova password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Almeno 8 caratteri, non solo cifre, non simile al nome utente né comune.",
        error_messages={"required": "Compila il campo «Nuova password»."},
    )
    password2 = forms.CharField(
        label="Ripeti la nuova password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Ripeti la nuova password."},
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "Le due password non coincidono.")
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        label="Ruolo", choices=ROLE_CHOICES, error_messages={"required": "Scegli il ruolo dell'account."}
    )


class SportelloKindForm(forms.Form):
    kind = forms.ChoiceField(
        label="Tipo di iscrizione",
        choices=Enrollment.Kind.choices,
        initial=Enrollment.Kind.NUOVA,
        error_messages={"required": "Scegli il tipo di iscrizione."},
    )


class FamilySearchForm(forms.Form):
    codice = forms.CharField(
        label="Codice fiscale del genitore o codice utente",
        max_length=150,
        error_messages={"required": "Scrivi il codice fiscale del genitore o il suo codice utente."},
    )


class FamilyEraseForm(forms.Form):
    conferma = forms.CharField(
        label="Per confermare scrivi il codice fiscale del genitore",
        max_length=16,
        error_messages={"required": "Scrivi il codice fiscale del genitore per confermare la cancellazione."},
    )


class AdjustmentForm(forms.Form):
    """A staff adjustment of one request's points in a draft graduatoria."""

    enrollment = forms.IntegerField(widget=forms.HiddenInput)
    rettifica = forms.DecimalField(
        label="Rettifica (punti)",
        max_digits=7,
        decimal_places=2,
        help_text="Punti da aggiungere; con il segno meno, da togliere. 0 annulla la rettifica.",
        error_messages={"required": "Indica i punti della rettifica (0 per annullarla).",
                        "invalid": "Scrivi un numero, ad esempio 2 oppure -1,5."},
        localize=True,
    )  # fmt: skip
    motivo = forms.CharField(
        label="Motivo della rettifica",
        max_length=500,
        help_text="Obbligatorio: resta nel registro attività ed è mostrato al genitore.",
        error_messages={"required": "Indica il motivo della rettifica."},
    )


class DefinitionForm(forms.Form):
    """A service's definition as YAML: questions, documents, schools, ranking, fees."""

    definizione = forms.CharField(
        label="Definizione del servizio (YAML)",
        required=False,
        strip=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "font-monospace"}),
        help_text=(
            "Le stesse chiavi del file di configurazione del comune: questions (id, label, type, options, "
            "required, help, required_if, min, max, active), documents, schools, ranking (criteria, "
            "tie_break), fees. Per disattivare una domanda o un criterio scrivi «active: false»; "
            "l'ordine delle domande è quello del testo."
        ),
    )
