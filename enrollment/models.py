"""Services, pupils, guardians and enrollments of one comune (tenant schema)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_noop

from enrollment.rules import GUARDIAN_FIELDS


class Service(models.Model):
    """A service of the catalogue for one school year (e.g. PRE SCUOLA 2025/2026)."""

    code = models.CharField("codice", max_length=20)
    name = models.CharField("nome", max_length=120)
    description = models.TextField("descrizione", blank=True)
    school_year = models.CharField("anno scolastico", max_length=9)
    opens_at = models.DateTimeField("apertura iscrizioni")
    closes_at = models.DateTimeField("chiusura iscrizioni")
    capacity = models.PositiveIntegerField("posti disponibili", null=True, blank=True)
    fee_note = models.TextField("note sulle tariffe", blank=True)
    new_enrollments = models.BooleanField("nuove iscrizioni", default=True)
    renewals = models.BooleanField("rinnovi", default=True)
    # The service's definition (tenants.service_definition.ServiceDefinition
    # as JSON): questions, who may apply, documents, graduatoria, fees. Read
    # it through enrollment.definitions.service_definition().
    definition = models.JSONField("definizione del servizio", default=dict, blank=True)
    definition_version = models.CharField("versione della definizione", max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["school_year", "name"]
        verbose_name = "servizio"
        verbose_name_plural = "servizi"
        constraints = [
            models.UniqueConstraint(fields=["code", "school_year"], name="service_code_year_unique"),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="service_window_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.school_year}"

    @property
    def year_in_url(self) -> str:
        """The school year as its public page's URL writes it: 2025-2026."""
        return self.school_year.replace("/", "-")

    def is_open(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.opens_at <= at < self.closes_at


class Guardian(models.Model):
    """A genitore/tutore. Siblings are several pupils under the same guardian."""

    # A parent's own anagrafica; staff may create one at the counter without an account.
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guardian",
    )
    first_name = models.CharField("nome", max_length=100)
    last_name = models.CharField("cognome", max_length=100)
    codice_fiscale = models.CharField("codice fiscale", max_length=16, db_index=True)
    email = models.EmailField("email")
    phone = models.CharField("telefono", max_length=30)
    address = models.CharField("indirizzo di residenza", max_length=200)
    cap = models.CharField("CAP", max_length=5)
    city = models.CharField("comune di residenza", max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = "genitore/tutore"
        verbose_name_plural = "genitori/tutori"

    def __str__(self) -> str:
        return f"{self.last_name} {self.first_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def snapshot(self) -> dict[str, str]:
        """The data a submitted enrollment keeps (Enrollment.guardian_snapshot)."""
        return {f: getattr(self, f) for f in GUARDIAN_FIELDS}


@dataclass(frozen=True)
class GuardianSnapshot:
    """A guardian as a submitted enrollment recorded it, read like a Guardian."""

    id: int
    first_name: str
    last_name: str
    codice_fiscale: str
    email: str
    phone: str
    address: str
    cap: str
    city: str

    def __str__(self) -> str:
        return f"{self.last_name} {self.first_name}"

    @property
    def pk(self) -> int:
        return self.id

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Pupil(models.Model):
    """An alunno, belonging to one guardian."""

    class School(models.TextChoices):
        INFANZIA = "infanzia", gettext_noop("Scuola dell'infanzia")
        PRIMARIA = "primaria", gettext_noop("Scuola primaria")
        SECONDARIA = "secondaria", gettext_noop("Scuola secondaria di primo grado")

    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="pupils")
    first_name = models.CharField("nome", max_length=100)
    last_name = models.CharField("cognome", max_length=100)
    codice_fiscale = models.CharField("codice fiscale", max_length=16, unique=True)
    birth_date = models.DateField("data di nascita")
    birth_place = models.CharField("luogo di nascita", max_length=100)
    school = models.CharField("scuola", max_length=12, choices=School.choices)
    class_section = models.CharField("classe e sezione", max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = "alunno"
        verbose_name_plural = "alunni"

    def __str__(self) -> str:
        return f"{self.last_name} {self.first_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Enrollment(models.Model):
    """One pupil in one service for one school year.

    One form ("domanda") may request several services for the same pupil:
    it creates one row per service, sharing `domanda`.
    """

    class Kind(models.TextChoices):
        NUOVA = "nuova", gettext_noop("Nuova iscrizione")
        RINNOVO = "rinnovo", gettext_noop("Rinnovo")

    class Status(models.TextChoices):
        BOZZA = "bozza", gettext_noop("Bozza")
        INVIATA = "inviata", gettext_noop("Inviata")
        CONFERMATA = "confermata", gettext_noop("Confermata")
        RESPINTA = "respinta", gettext_noop("Respinta")
        ANNULLATA = "annullata", gettext_noop("Annullata")

    domanda = models.UUIDField("domanda", default=uuid.uuid4, db_index=True)
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="enrollments")
    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="enrollments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="enrollments")
    # Copied from the service so the one-per-year rule is a plain constraint.
    school_year = models.CharField("anno scolastico", max_length=9)
    kind = models.CharField("tipo", max_length=10, choices=Kind.choices, default=Kind.NUOVA)
    status = models.CharField("stato", max_length=12, choices=Status.choices, default=Status.BOZZA)
    reference = models.CharField("numero di riferimento", max_length=20, unique=True)
    renewal_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewals"
    )
    # Answers to the service's questions (enrollment.answers, as JSON), and
    # the definition version they were answered under (Service.definition_version).
    extra = models.JSONField("dati del servizio", default=dict, blank=True)
    definition_version = models.CharField("versione della definizione", max_length=12, blank=True)
    # The guardian's data when the form left `bozza`: one guardian serves all
    # the family's forms, and a later form must not rewrite what an earlier,
    # submitted or decided one was sent with.
    guardian_snapshot = models.JSONField("dati del genitore/tutore all'invio", default=dict, blank=True)
    waiting_position = models.PositiveIntegerField("posizione in lista d'attesa", null=True, blank=True)
    outcome_note = models.TextField("note sull'esito", blank=True)
    via_sportello = models.BooleanField("inserita allo sportello", default=False)
    # The language of the portal when the parent submitted: later e-mails and PDFs speak it.
    language = models.CharField("lingua del genitore", max_length=8, default=settings.LANGUAGE_CODE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_saved_at = models.DateTimeField("data primo salvataggio", default=timezone.now)
    updated_at = models.DateTimeField("data ultima modifica", default=timezone.now)
    submitted_at = models.DateTimeField("data inserimento iscrizione", null=True, blank=True)
    decided_at = models.DateTimeField("data esito", null=True, blank=True)

    class Meta:
        ordering = ["-first_saved_at", "id"]
        verbose_name = "iscrizione"
        verbose_name_plural = "iscrizioni"
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "service", "school_year"], name="enrollment_pupil_service_year_unique"
            ),
        ]
        indexes = [
            # With the waiting position, the place count under the service lock reads the
            # index alone (enrollment.services._place_or_queue): 1.8 → 0.6 ms at 5,000 rows.
            models.Index(
                fields=["service", "status"], include=["waiting_position"], name="enrollment_service_places"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.pupil} {self.service}"

    @property
    def is_editable(self) -> bool:
        """The parent may change the data until staff act (comune's rule)."""
        return self.status in (self.Status.BOZZA, self.Status.INVIATA)

    @property
    def guardian_shown(self) -> Guardian | GuardianSnapshot:
        """The guardian to show and mail for this enrollment: a draft shows the
        live anagrafica, anything later the data it was submitted with."""
        if self.status == self.Status.BOZZA or not self.guardian_snapshot:
            return self.guardian
        data = {f: self.guardian_snapshot.get(f, "") for f in GUARDIAN_FIELDS}
        return GuardianSnapshot(id=self.guardian_id, **data)

    @property
    def on_waiting_list(self) -> bool:
        return self.waiting_position is not None and self.status == self.Status.INVIATA


# Statuses that hold a place in a service (unless on the waiting list).
HOLDS_PLACE = (Enrollment.Status.INVIATA, Enrollment.Status.CONFERMATA)


class ReferenceCounter(models.Model):
    """Last reference number handed out per year (`2025-000123`)."""

    year = models.PositiveIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "contatore numeri di riferimento"
        verbose_name_plural = "contatori numeri di riferimento"

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class PrivacyConsent(models.Model):
    """Evidence of the art. 13 GDPR consent: which text, when, by whom."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="consents")
    domanda = models.UUIDField("domanda", null=True, blank=True)
    text_version = models.CharField("versione del testo", max_length=64)
    text = models.TextField("testo")
    given_at = models.DateTimeField("data consenso", default=timezone.now)

    class Meta:
        ordering = ["-given_at"]
        verbose_name = "consenso privacy"
        verbose_name_plural = "consensi privacy"

    def __str__(self) -> str:
        return f"{self.guardian} {self.text_version} {self.given_at:%Y-%m-%d}"


class Feedback(models.Model):
    """A parent's rating of a page of the service (Designers Italia's rating component).

    One per account and page; the free text is the parent's, so erasing the
    family (enrollment.gdpr) removes it and keeps only the stars.
    """

    class Page(models.TextChoices):
        RIEPILOGO = "riepilogo", "Riepilogo e stato dell'iscrizione"

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    page = models.CharField("pagina", max_length=30, choices=Page.choices)
    rating = models.PositiveSmallIntegerField("stelle")
    aspect = models.CharField("aspetto", max_length=40, blank=True)
    details = models.CharField("dettagli", max_length=200, blank=True)
    created_at = models.DateTimeField("data", default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "valutazione"
        verbose_name_plural = "valutazioni"
        constraints = [
            models.UniqueConstraint(fields=["account", "page"], name="feedback_one_per_account_page"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_page_display()}: {self.rating}/5"


class Upload(models.Model):
    """A file a parent attached to a file question (enrollment.uploads).

    The bytes live under `UPLOADS_DIR/<schema>/<id>`, never under a URL; the
    name shown and sent back is the sanitised one kept here.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Who uploaded it: the only parent who may download it (staff of the comune also may).
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The enrollment whose answer names it, set when the form is saved; the
    # file goes with the enrollment (retention, erasure).
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.CASCADE, related_name="uploads"
    )
    question_id = models.CharField("domanda", max_length=40)
    name = models.CharField("nome del file", max_length=120)
    content_type = models.CharField("tipo", max_length=40)
    size = models.PositiveIntegerField("dimensione in byte")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "allegato"
        verbose_name_plural = "allegati"

    def __str__(self) -> str:
        return self.name


class Graduatoria(models.Model):
    """The ranking of one service's requests (enrollment.ranking), as stored.

    Computed when the window closes (a periodic job) or when staff ask, while
    `bozza`; staff may adjust a request's points with a reason, then publish:
    publishing admits requests in rank order up to the capacity and puts the
    rest on the waiting list in rank order. Once published it no longer changes.
    """

    class Status(models.TextChoices):
        BOZZA = "bozza", gettext_noop("Bozza")
        PUBBLICATA = "pubblicata", "Pubblicata"

    service = models.OneToOneField(Service, on_delete=models.PROTECT, related_name="graduatoria")
    status = models.CharField("stato", max_length=12, choices=Status.choices, default=Status.BOZZA)
    # The definition version whose criteria gave the points.
    definition_version = models.CharField("versione della definizione", max_length=12, blank=True)
    computed_at = models.DateTimeField("data calcolo")
    published_at = models.DateTimeField("data pubblicazione", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "graduatoria"
        verbose_name_plural = "graduatorie"

    def __str__(self) -> str:
        return f"Graduatoria {self.service}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBBLICATA


class GraduatoriaEntry(models.Model):
    """One request's place in a graduatoria: points per criterion, total and rank."""

    graduatoria = models.ForeignKey(Graduatoria, on_delete=models.CASCADE, related_name="entries")
    enrollment = models.OneToOneField(Enrollment, on_delete=models.CASCADE, related_name="graduatoria_entry")
    # Points earned by criterion id, as decimal strings ({"residenti": "10"}).
    points = models.JSONField("punti per criterio", default=dict)
    adjustment = models.DecimalField("rettifica dei punti", max_digits=8, decimal_places=2, default=0)
    adjustment_reason = models.TextField("motivo della rettifica", blank=True)
    total = models.DecimalField("punteggio totale", max_digits=8, decimal_places=2)
    rank = models.PositiveIntegerField("posizione in graduatoria")

    class Meta:
        ordering = ["graduatoria", "rank"]
        verbose_name = "posizione in graduatoria"
        verbose_name_plural = "posizioni in graduatoria"
        constraints = [
            models.UniqueConstraint(fields=["graduatoria", "rank"], name="graduatoria_rank_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.enrollment.reference} ({self.total})"
