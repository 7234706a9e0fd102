"""Input and output shapes of the API (English field names, Italian descriptions).

Input serializers only check the shape and types of the JSON; the rules of an
enrollment (codice fiscale check digits, plausible birth date, required
answers, privacy consent, the length of every field) are the portal's own
`EnrollmentForm`, run by the views on the same data, so the app and the web
can never disagree. Fields that no form checks take their length from the
column they are stored in (core.limits).
"""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.models import ApiToken
from core.limits import column_max_length
from enrollment.definitions import service_definition
from enrollment.models import Enrollment, Guardian, Pupil, Service
from identity.models import Account, EmailVerification

DEVICE_NAME_MAX_LENGTH = column_max_length(ApiToken, "device_name")

_MODEL_FIELDS: dict[type[serializers.ModelSerializer], dict[str, serializers.Field]] = {}


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, its fields built from the model once per class.

    DRF reads the model again for every instance (field mapping, extra kwargs,
    uniqueness validators): serializing one form took 1.52 ms of CPU, 1.00 ms
    with the fields kept. They depend only on the class and its Meta, never
    on the instance or its context. Each instance gets its own copies, as DRF
    gives each its declared fields, since a field is bound to the serializer
    that holds it.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        built = _MODEL_FIELDS.get(type(self))
        if built is None:
            built = _MODEL_FIELDS[type(self)] = super().get_fields()
        return copy.deepcopy(built)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Codice dell'errore, stabile, per la logica dell'app.")
    message = serializers.CharField(help_text="Messaggio in italiano da mostrare al genitore.")
    # A declared field named like a Serializer/Field attribute does not shadow it at run time
    # (DRF's metaclass moves declared fields out of the class); the stubs cannot see that.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Solo per gli errori di validazione: campo (percorso puntato nel JSON) → messaggi.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# Public profile and catalogue


class ContactsSerializer(serializers.Serializer):
    office = serializers.CharField(allow_null=True, help_text="Ufficio di riferimento.")
    phone = serializers.CharField(allow_null=True, help_text="Telefono.")
    email = serializers.CharField(allow_null=True, help_text="Email.")
    pec = serializers.CharField(allow_null=True, help_text="PEC.")
    website = serializers.CharField(allow_null=True, help_text="Sito web.")
    address = serializers.CharField(allow_null=True, help_text="Indirizzo.")


class ComuneSerializer(serializers.Serializer):
    slug = serializers.CharField(help_text="Identificativo del comune sulla piattaforma.")
    name = serializers.CharField(help_text="Nome del comune.")
    display_name = serializers.CharField(help_text="Nome completo, es. 'Comune di Palosco'.")
    province = serializers.CharField(help_text="Provincia.")
    contacts = ContactsSerializer(help_text="Recapiti dell'ufficio.")
    primary_color = serializers.CharField(help_text="Colore principale del comune (#rrggbb).")
    header_text = serializers.CharField(help_text="Titolo del portale.")
    login_methods = serializers.ListField(
        child=serializers.CharField(),
        help_text="Modalità di accesso abilitate, in ordine: credentials, codice_fiscale, spid, cie.",
    )
    privacy_text = serializers.CharField(help_text="Testo del consenso al trattamento dei dati (art. 13).")
    privacy_notice = serializers.CharField(help_text="Informativa privacy del comune.")
    siblings_note = serializers.CharField(help_text="Nota sull'iscrizione di più fratelli.")
    draft_note = serializers.CharField(help_text="Avviso: una bozza non è un'iscrizione inviata.")


# One answer in `answers`, by the question's type: text, textarea, email, phone
# and choice a string; boolean true/false; choices a list of options; date
# "AAAA-MM-GG"; number a decimal string ("8000.50", never a float); file the
# id of an upload (POST /api/v1/uploads/).
ANSWER_SCHEMA = {
    "description": (
        "Risposta secondo il tipo della domanda: text, textarea, email, phone, choice → stringa; "
        "boolean → true/false; choices → elenco di opzioni; date → 'AAAA-MM-GG'; number → numero "
        "decimale come stringa ('8000.50'); file → id dell'allegato caricato con POST /api/v1/uploads/."
    ),
    "oneOf": [
        {"type": "string"},
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string"}},
    ],
    "nullable": True,
}


@extend_schema_field(ANSWER_SCHEMA)
class AnswerField(serializers.JSONField):
    """An answer as stored (enrollment.answers.answers_to_json); checked by the form, not here."""


class RequiredIfSerializer(serializers.Serializer):
    question = serializers.CharField(help_text="Id della domanda precedente da cui dipende.")
    equals = AnswerField(help_text="Valore della risposta che rende la domanda visibile e obbligatoria.")


class ServiceQuestionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Chiave della risposta in `answers.<codice servizio>`.")
    # Not Field's own label/required: see ErrorDetailSerializer.fields.
    label = serializers.CharField(help_text="Domanda.")  # type: ignore[assignment]
    type = serializers.ChoiceField(
        choices=[
            "text", "textarea", "boolean", "choice", "choices", "date", "number", "email", "phone", "file",
        ],
        help_text="Tipo della domanda: decide il controllo da mostrare e il formato della risposta.",
    )  # fmt: skip
    options = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="Opzioni (solo choice e choices)."
    )
    required = serializers.BooleanField(help_text="Risposta obbligatoria.")  # type: ignore[assignment]
    help = serializers.CharField(allow_blank=True, help_text="Suggerimento da mostrare sotto la domanda.")
    required_if = RequiredIfSerializer(
        allow_null=True, help_text="Se presente, la domanda vale (ed è obbligatoria) solo in questo caso."
    )
    min = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, coerce_to_string=True, help_text="Minimo (number)."
    )
    max = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, coerce_to_string=True, help_text="Massimo (number)."
    )


class FeeBandSerializer(serializers.Serializer):
    up_to = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="ISEE fino a (incluso); null: oltre."
    )
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="Quota annuale in euro.")


class FeesSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["flat", "isee_bands"], help_text="Quota fissa o per fasce ISEE.")
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text="Quota fissa (flat)."
    )
    isee_question = serializers.CharField(allow_null=True, help_text="Domanda che chiede l'ISEE.")
    bands = FeeBandSerializer(many=True, help_text="Fasce ISEE in ordine crescente.")
    sibling_discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text="Sconto dal secondo figlio, in percentuale."
    )


class ServiceDefinitionSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="Versione della definizione, salvata con le risposte.")
    schools = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="Scuole ammesse (null: tutte)."
    )
    questions = ServiceQuestionSerializer(many=True, help_text="Domande del servizio, in ordine.")
    documents = serializers.ListField(child=serializers.CharField(), help_text="Cosa serve.")
    fees = FeesSerializer(allow_null=True, help_text="Tariffe (null: nessuna quota).")


def definition_data(service: Service) -> dict[str, Any]:
    definition = service_definition(service)
    return {
        "version": service.definition_version,
        "schools": definition.schools,
        "questions": [q.model_dump(mode="json") for q in definition.questions],
        "documents": definition.documents,
        "fees": definition.fees.model_dump(mode="json") if definition.fees else None,
    }


class ServiceSerializer(ModelSerializer):
    is_open = serializers.SerializerMethodField(help_text="Finestra d'iscrizione aperta adesso.")
    questions = serializers.SerializerMethodField(
        help_text="Domande del servizio (come in .../definition/), da cui l'app costruisce il modulo."
    )

    class Meta:
        model = Service
        fields = [
            "id", "code", "name", "description", "school_year", "opens_at", "closes_at",
            "capacity", "fee_note", "new_enrollments", "renewals", "is_open", "questions",
        ]  # fmt: skip
        extra_kwargs = {
            "id": {"help_text": "Identificativo del servizio."},
            "code": {"help_text": "Codice del servizio (PRE, POST, MENSA, TRASPORTO...)."},
            "name": {"help_text": "Nome del servizio."},
            "description": {"help_text": "Descrizione."},
            "school_year": {"help_text": "Anno scolastico, es. 2025/2026."},
            "opens_at": {"help_text": "Apertura delle iscrizioni."},
            "closes_at": {"help_text": "Chiusura delle iscrizioni."},
            "capacity": {"help_text": "Posti disponibili (null: senza limite)."},
            "fee_note": {"help_text": "Note sulle tariffe."},
            "new_enrollments": {"help_text": "Accetta nuove iscrizioni."},
            "renewals": {"help_text": "Accetta rinnovi."},
        }

    def get_is_open(self, obj: Service) -> bool:
        return obj.is_open()

    @extend_schema_field(ServiceQuestionSerializer(many=True))
    def get_questions(self, obj: Service) -> list[dict[str, Any]]:
        return ServiceDefinitionSerializer(definition_data(obj)).data["questions"]


class ServiceRefSerializer(ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "code", "name", "school_year"]


# Authentication


class TokenObtainSerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=["credentials", "codice_fiscale"],
        help_text="credentials: codice utente e password; codice_fiscale: 'Sono un nuovo iscritto'.",
    )
    codice_utente = serializers.CharField(
        required=False,
        max_length=column_max_length(Account, "codice_utente"),
        help_text="Codice utente (solo per credentials), es. ROM-000001.",
    )
    codice_fiscale = serializers.CharField(
        required=False, max_length=24, help_text="Codice fiscale dell'alunno (solo per codice_fiscale)."
    )
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=128,
        trim_whitespace=False,
        help_text="Password; con codice_fiscale si omette al primo accesso.",
    )
    device_name = serializers.CharField(
        max_length=DEVICE_NAME_MAX_LENGTH,
        help_text="Nome del dispositivo, mostrato nell'elenco dei dispositivi.",
    )


class ExchangeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=100, help_text="Codice monouso ricevuto nel redirect dell'app.")
    code_verifier = serializers.CharField(
        min_length=43,
        max_length=128,
        help_text="PKCE (RFC 7636): il segreto di cui l'app ha passato lo SHA-256 come code_challenge.",
    )
    device_name = serializers.CharField(max_length=DEVICE_NAME_MAX_LENGTH, help_text="Nome del dispositivo.")


class AccountSerializer(ModelSerializer):
    email_verified = serializers.SerializerMethodField(help_text="Email verificata.")
    next_step = serializers.SerializerMethodField(
        help_text="Passo obbligatorio da completare: password_change, email_verification o null."
    )

    class Meta:
        model = Account
        fields = [
            "id", "codice_utente", "codice_fiscale", "first_name", "last_name", "email",
            "email_verified", "must_change_password", "next_step",
        ]  # fmt: skip

    def get_email_verified(self, obj: Account) -> bool:
        return obj.email_verified_at is not None

    def get_next_step(self, obj: Account) -> str | None:
        from api.auth import next_step

        return next_step(obj)


class DeviceSerializer(ModelSerializer):
    current = serializers.SerializerMethodField(help_text="È il dispositivo che sta chiamando.")

    class Meta:
        model = ApiToken
        fields = ["id", "device_name", "backend", "created_at", "last_used_at", "expires_at", "current"]

    def get_current(self, obj: ApiToken) -> bool:
        request = self.context.get("request")
        return bool(request is not None and isinstance(request.auth, ApiToken) and request.auth.pk == obj.pk)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Il token: inviarlo come 'Authorization: Bearer <token>'.")
    expires_at = serializers.DateTimeField(help_text="Scadenza (30 giorni dal rilascio, fissa).")
    device = DeviceSerializer(help_text="Il dispositivo registrato.")
    account = AccountSerializer(help_text="L'account del genitore.")


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=128,
        help_text="Password attuale (non richiesta quando il cambio è obbligatorio).",
    )
    new_password1 = serializers.CharField(trim_whitespace=False, max_length=128, help_text="Nuova password.")
    new_password2 = serializers.CharField(
        trim_whitespace=False, max_length=128, help_text="Conferma nuova password."
    )


class EmailSendSerializer(serializers.Serializer):
    email = serializers.CharField(
        max_length=column_max_length(EmailVerification, "email"),
        help_text="Indirizzo a cui inviare il codice sicurezza.",
    )


class EmailConfirmSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=12, help_text="Codice sicurezza di 6 cifre ricevuto via email.")


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="Esito in italiano.")


# Guardian, pupils, enrollments


class GuardianSerializer(ModelSerializer):
    class Meta:
        model = Guardian
        fields = [
            "id",
            "first_name",
            "last_name",
            "codice_fiscale",
            "email",
            "phone",
            "address",
            "cap",
            "city",
        ]


class ProfileSerializer(serializers.Serializer):
    account = AccountSerializer(help_text="L'account.")
    guardian = GuardianSerializer(
        allow_null=True, help_text="Anagrafica del genitore/tutore (null se assente)."
    )


class PupilSerializer(ModelSerializer):
    class Meta:
        model = Pupil
        fields = [
            "id", "first_name", "last_name", "codice_fiscale", "birth_date", "birth_place",
            "school", "class_section",
        ]  # fmt: skip


class EnrollmentItemSerializer(ModelSerializer):
    service = ServiceRefSerializer(help_text="Il servizio.")
    status_label = serializers.CharField(source="get_status_display", help_text="Stato Iscrizione.")
    answers = serializers.DictField(
        source="extra",
        child=AnswerField(),
        help_text="Risposte alle domande del servizio, per id della domanda, tipizzate (vedi AnswerField).",
    )
    definition_version = serializers.CharField(
        help_text="Versione della definizione del servizio con cui le risposte sono state date."
    )
    can_withdraw = serializers.SerializerMethodField(help_text="Può essere annullata dal genitore.")

    class Meta:
        model = Enrollment
        fields = [
            "id", "reference", "service", "status", "status_label", "waiting_position", "answers",
            "definition_version", "first_saved_at", "updated_at", "submitted_at", "decided_at",
            "outcome_note", "can_withdraw",
        ]  # fmt: skip
        extra_kwargs = {
            "reference": {"help_text": "Numero di riferimento."},
            "status": {"help_text": "Stato Iscrizione."},
            "waiting_position": {"help_text": "Posizione in lista d'attesa (null: posto assegnato)."},
            "first_saved_at": {"help_text": "Data primo salvataggio."},
            "updated_at": {"help_text": "Data ultima modifica."},
            "submitted_at": {"help_text": "Data inserimento iscrizione (invio)."},
            "decided_at": {"help_text": "Data dell'esito dell'ufficio."},
            "outcome_note": {"help_text": "Note sull'esito."},
        }

    def get_can_withdraw(self, obj: Enrollment) -> bool:
        return obj.status in (Enrollment.Status.BOZZA, Enrollment.Status.INVIATA)


class DomandaSerializer(serializers.Serializer):
    """One enrollment form: a pupil and one item per requested service."""

    id = serializers.UUIDField(help_text="Identificativo dell'iscrizione (domanda).")
    kind = serializers.ChoiceField(choices=Enrollment.Kind.choices, help_text="nuova o rinnovo.")
    school_year = serializers.CharField(help_text="Anno scolastico.")
    pupil = PupilSerializer(help_text="Dati dell'alunno.")
    guardian = GuardianSerializer(help_text="Dati del genitore/tutore.")
    items = EnrollmentItemSerializer(many=True, help_text="Un elemento per servizio richiesto.")
    editable = serializers.BooleanField(help_text="Modificabile (finché l'ufficio non interviene).")
    draft = serializers.BooleanField(help_text="Tutti gli elementi sono in bozza: va ancora inviata.")
    etag = serializers.CharField(
        help_text="Versione: da rimandare in If-Match per modificare, inviare, annullare."
    )


class PupilInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(allow_blank=True, help_text="Nome dell'alunno.")
    last_name = serializers.CharField(allow_blank=True, help_text="Cognome dell'alunno.")
    codice_fiscale = serializers.CharField(allow_blank=True, help_text="Codice fiscale dell'alunno.")
    birth_date = serializers.DateField(help_text="Data di nascita (AAAA-MM-GG).")
    birth_place = serializers.CharField(allow_blank=True, help_text="Luogo di nascita.")
    school = serializers.ChoiceField(choices=Pupil.School.choices, help_text="Scuola frequentata.")
    class_section = serializers.CharField(allow_blank=True, help_text="Classe e sezione, es. 2ª A.")


class GuardianInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(allow_blank=True, help_text="Nome del genitore/tutore.")
    last_name = serializers.CharField(allow_blank=True, help_text="Cognome del genitore/tutore.")
    codice_fiscale = serializers.CharField(allow_blank=True, help_text="Codice fiscale del genitore/tutore.")
    email = serializers.CharField(allow_blank=True, help_text="Email del genitore/tutore.")
    phone = serializers.CharField(allow_blank=True, help_text="Telefono.")
    address = serializers.CharField(allow_blank=True, help_text="Indirizzo di residenza (via e civico).")
    cap = serializers.CharField(allow_blank=True, help_text="CAP.")
    city = serializers.CharField(allow_blank=True, help_text="Comune di residenza.")


class EnrollmentInputSerializer(serializers.Serializer):
    """Validated with `partial=True`: a missing field gets the form's own Italian message."""

    pupil = PupilInputSerializer(help_text="Dati dell'alunno.")
    guardian = GuardianInputSerializer(help_text="Dati del genitore/tutore.")
    services = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Servizi richiesti (id) tra quelli aperti alle nuove iscrizioni; ignorato per i rinnovi "
        "e dopo l'invio.",
    )
    answers = serializers.DictField(
        child=serializers.DictField(child=AnswerField(allow_null=True)),
        required=False,
        help_text="Risposte alle domande dei servizi: {codice servizio: {id domanda: risposta}}, "
        "controllate come nel modulo web (stessi messaggi).",
    )
    privacy_consent = serializers.BooleanField(
        help_text="Autorizzo il trattamento dei miei dati personali ai sensi dell'art. 13 del regolamento "
        "(UE) n. 2016/679."
    )


class EnrollmentCreateSerializer(EnrollmentInputSerializer):
    draft = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: 'Salva Bozza' (servono comunque alunno, genitore/tutore e consenso); "
        "false: 'Vai al riepilogo iscrizione' (tutti i dati).",
    )


class EnrollmentUpdateSerializer(EnrollmentInputSerializer):
    draft = serializers.BooleanField(
        required=False, default=False, help_text="true: 'Salva Bozza' (solo nuove iscrizioni non inviate)."
    )


class WithdrawSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Elementi (id) da annullare; se omesso, tutti quelli non ancora annullati.",
    )


class RenewalSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Identificativo del rinnovo (l'iscrizione dell'anno scorso).")
    pupil = PupilSerializer(help_text="L'alunno.")
    previous = EnrollmentItemSerializer(help_text="L'iscrizione dell'anno scorso.")
    service = ServiceRefSerializer(help_text="Il servizio di quest'anno da rinnovare.")
    guardian = GuardianSerializer(help_text="Dati del genitore/tutore per precompilare il modulo.")
