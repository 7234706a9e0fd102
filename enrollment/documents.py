"""The PDF documents of an enrollment, one renderer class per document type.

Each document is an HTML template rendered by WeasyPrint: A4, tagged PDF
with title and language, branded with the comune's name, emblem and
contacts. Italian by default; a parent's document is in the language they
read the portal in (`language`, carried by the download and by the spec a
job renders; stored apart from the Italian file).

Rendering a page takes 30-50 ms of CPU (bench/pdf.py), so it stays off the request path:
a rendered PDF is stored as a file under `DOCUMENTS_DIR/<schema>/`, named by
the document and the version of the data it shows, and the job queue renders
it (`document_prepare` below, or the mail job that attaches it). A
download serves the stored file, or asks the parent to wait a moment while
the job runs; it never renders in the request. Files are shared by web and
worker processes; an older version of the same document is deleted when a
newer one is stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.template.loader import select_template
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from django_tenants.utils import schema_context
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued
from weasyprint import HTML

from core import attachments
from core.languages import language_params, language_supported
from core.pdf import font_configuration, pdf_store
from core.tenancy import current_schema
from enrollment.credentials import LetterCredentials, letter_credentials
from enrollment.definitions import service_definition
from enrollment.models import Enrollment, Graduatoria
from enrollment.rules import PRIVACY_TEXT
from enrollment.selectors import comune_current, enrollments_with_answers
from identity.models import Account
from tenants.models import Comune


class PdfDocument:
    """Base of every PDF: subclasses give the template, title, file name and data."""

    template_name: ClassVar[str]
    title: ClassVar[StrOrPromise]

    def __init__(self, *, comune: Comune, language: str = settings.LANGUAGE_CODE) -> None:
        self.comune = comune
        self.language = language_supported(language)

    def filename(self) -> str:
        raise NotImplementedError

    def context(self) -> dict[str, Any]:
        return {}

    def version(self) -> str:
        """What the content depends on; part of the cache key."""
        return self.comune.config_hash

    def templates(self) -> list[str]:
        return [self.template_name]

    def html(self) -> str:
        cfg = self.comune.settings
        emblem = None
        if cfg.branding.emblem:
            emblem = (Path(settings.TENANT_CONFIG_DIR) / "assets" / cfg.branding.emblem).as_uri()
        with translation.override(self.language):
            context = {
                "comune": self.comune,
                "cfg": cfg,
                "emblem_url": emblem,
                "title": str(self.title),
                "generated_at": timezone.localtime(),
            } | self.context()
            return select_template(self.templates()).render(context)

    def render(self) -> bytes:
        return HTML(string=self.html(), base_url=str(settings.BASE_DIR)).write_pdf(
            pdf_tags=True, font_config=font_configuration()
        )

    # Name of this document in the attachment registry (core.attachments),
    # with the params that rebuild it: what a job needs to prepare it.
    attachment_name: ClassVar[str]

    def attachment_params(self) -> dict[str, Any]:
        return {}

    def spec(self) -> dict[str, Any]:
        return {
            "document": self.attachment_name,
            "params": self.attachment_params() | language_params(self.language),
        }

    def _stem(self) -> str:
        # Italian keeps the stem it always had; another language is a file of its own.
        language = "" if self.language == settings.LANGUAGE_CODE else f"|{self.language}"
        ident = hashlib.sha256(f"{type(self).__name__}|{self.cache_id()}{language}".encode()).hexdigest()[:24]
        return f"{type(self).__name__.lower()}-{ident}"

    def stored_path(self) -> Path:
        """Where this version is stored: per comune schema, named by document and data version."""
        version = hashlib.sha256(self.version().encode()).hexdigest()[:24]
        return Path(settings.DOCUMENTS_DIR) / current_schema() / f"{self._stem()}-{version}.pdf"

    def stored(self) -> bytes | None:
        path = self.stored_path()
        return path.read_bytes() if path.is_file() else None

    def pdf(self) -> bytes:
        """The stored PDF, rendering and storing it first if needed (jobs, attachments)."""
        content = self.stored()
        if content is None:
            content = self.render()
            self._store(content)
        return content

    def _store(self, content: bytes) -> None:
        pdf_store(self.stored_path(), content, stem=self._stem())

    def cache_id(self) -> str:
        return ""


class Riepilogo(PdfDocument):
    """ "Riepilogo della domanda d'iscrizione": all data, status, reference, dates."""

    template_name = "enrollment/pdf/riepilogo.html"
    title = _("Riepilogo della domanda d'iscrizione")

    def __init__(
        self, *, comune: Comune, domanda: uuid.UUID | str, language: str = settings.LANGUAGE_CODE
    ) -> None:
        super().__init__(comune=comune, language=language)
        self.domanda = uuid.UUID(str(domanda))
        self.rows = list(
            Enrollment.objects.filter(domanda=self.domanda)
            .select_related("pupil", "guardian", "service")
            .order_by("service__name", "pk")
        )
        if not self.rows:
            raise LookupError(f"domanda {self.domanda} not found")

    attachment_name = "enrollment.riepilogo"

    def attachment_params(self) -> dict[str, Any]:
        return {"domanda": str(self.domanda)}

    def cache_id(self) -> str:
        return str(self.domanda)

    def version(self) -> str:
        first = self.rows[0]
        # A submitted form shows its snapshot, which later guardian changes leave alone.
        guardian = first.guardian_snapshot if first.status != Enrollment.Status.BOZZA else None
        parts = [str(first.pupil.updated_at), str(guardian or first.guardian.updated_at)]
        parts += [
            f"{e.pk}:{e.status}:{e.updated_at}:{e.waiting_position}:{e.service.definition_version}"
            for e in self.rows
        ]
        return super().version() + "|".join(parts)

    def filename(self) -> str:
        return f"riepilogo-iscrizione-{self.rows[0].reference}.pdf"

    def context(self) -> dict[str, Any]:
        first = self.rows[0]
        return {
            "enrollments": enrollments_with_answers(self.rows),
            "pupil": first.pupil,
            "guardian": first.guardian_shown,
            "privacy_text": PRIVACY_TEXT,
        }


class ManualeInformativo(PdfDocument):
    """The comune's guide to the portal and the app; a template per comune,
    falling back to the generic one."""

    template_name = "enrollment/pdf/manuale.html"
    title = _("Manuale informativo del Portale Iscrizioni")

    attachment_name = "enrollment.manuale"

    def templates(self) -> list[str]:
        return [f"enrollment/pdf/manuale_{self.comune.slug}.html", self.template_name]

    def filename(self) -> str:
        return f"manuale-informativo-{self.comune.slug}.pdf"

    def context(self) -> dict[str, Any]:
        return {"backends": self.comune.settings.identity.backends}


class LetteraCredenziali(PdfDocument):
    """The credentials letter: codice utente and how to sign in; a password
    only when one was issued in the same step (never stored in clear)."""

    template_name = "enrollment/pdf/lettera_credenziali.html"
    title = _("Lettera credenziali di accesso")

    def __init__(
        self,
        *,
        comune: Comune,
        account: Account,
        credentials: LetterCredentials | None = None,
        language: str = settings.LANGUAGE_CODE,
    ) -> None:
        super().__init__(comune=comune, language=language)
        self.account = account
        self.credentials = credentials or letter_credentials(account=account)

    attachment_name = "enrollment.lettera_credenziali"

    def attachment_params(self) -> dict[str, Any]:
        return {"account_id": self.account.pk}

    def cache_id(self) -> str:
        c = self.credentials
        return f"{self.account.pk}:{c.codice_utente}:{c.password_state}:{c.email_masked}"

    def pdf(self) -> bytes:
        # A letter carrying a password is rendered once and never stored.
        return self.render() if self.credentials.password else super().pdf()

    def filename(self) -> str:
        return "lettera-credenziali.pdf"

    def context(self) -> dict[str, Any]:
        return {"account": self.account, "credentials": self.credentials}


class GraduatoriaAlbo(PdfDocument):
    """The published graduatoria for the albo pretorio: reference numbers, points
    and outcome only, never a name or a codice fiscale (GDPR: data minimisation)."""

    template_name = "enrollment/pdf/graduatoria.html"
    title = "Graduatoria"

    def __init__(self, *, comune: Comune, service_id: int) -> None:
        super().__init__(comune=comune)
        self.graduatoria = Graduatoria.objects.select_related("service").get(
            service_id=service_id, status=Graduatoria.Status.PUBBLICATA
        )

    attachment_name = "enrollment.graduatoria"

    def attachment_params(self) -> dict[str, Any]:
        return {"service_id": self.graduatoria.service_id}

    def cache_id(self) -> str:
        return str(self.graduatoria.service_id)

    def version(self) -> str:
        g = self.graduatoria
        return super().version() + f"|{g.computed_at.isoformat()}|{g.published_at}"

    def filename(self) -> str:
        s = self.graduatoria.service
        return f"graduatoria-{s.code.lower()}-{s.school_year.replace('/', '-')}.pdf"

    def context(self) -> dict[str, Any]:
        service = self.graduatoria.service
        ranking = service_definition(service).ranking
        criteria = [c for c in ranking.criteria if c.active] if ranking else []
        entries = list(
            self.graduatoria.entries.select_related("enrollment").only(
                "rank", "points", "adjustment", "total", "enrollment__reference",
                "enrollment__status", "enrollment__waiting_position",
            )
        )  # fmt: skip
        rows = [
            {
                "rank": e.rank,
                "reference": e.enrollment.reference,
                "points": [e.points.get(c.id, "0") for c in criteria],
                "adjustment": e.adjustment,
                "total": e.total,
                "outcome": _albo_outcome(e.enrollment),
            }
            for e in entries
        ]
        return {"graduatoria": self.graduatoria, "service": service, "criteria": criteria, "rows": rows}


def _albo_outcome(enrollment: Enrollment) -> str:
    if enrollment.status not in (Enrollment.Status.INVIATA, Enrollment.Status.CONFERMATA):
        return enrollment.get_status_display()
    if enrollment.waiting_position is not None:
        return f"Lista d'attesa ({enrollment.waiting_position})"
    return "Ammessa"


def _attachment(doc: PdfDocument) -> tuple[str, bytes, str]:
    return doc.filename(), doc.pdf(), "application/pdf"


@attachments.register("enrollment.riepilogo")
def riepilogo_attachment(*, domanda: str, language: str = settings.LANGUAGE_CODE) -> tuple[str, bytes, str]:
    return _attachment(Riepilogo(comune=comune_current(), domanda=domanda, language=language))


@attachments.register("enrollment.lettera_credenziali")
def lettera_attachment(*, account_id: int, language: str = settings.LANGUAGE_CODE) -> tuple[str, bytes, str]:
    account = Account.objects.get(pk=account_id)
    return _attachment(LetteraCredenziali(comune=comune_current(), account=account, language=language))


@attachments.register("enrollment.graduatoria")
def graduatoria_attachment(*, service_id: int) -> tuple[str, bytes, str]:
    return _attachment(GraduatoriaAlbo(comune=comune_current(), service_id=service_id))


@attachments.register("enrollment.manuale")
def manuale_attachment(*, language: str = settings.LANGUAGE_CODE) -> tuple[str, bytes, str]:
    return _attachment(ManualeInformativo(comune=comune_current(), language=language))


# A download that finds no stored file asks the client to come back after this.
PREPARE_RETRY_SECONDS = 3


# The job lives here, with the files it fills, rather than in enrollment/tasks.py:
# the retention jobs there use enrollment.gdpr, which uses these documents.
@app.task(queue="documents", retry=RetryStrategy(max_attempts=3, wait=5), name="enrollment.document_prepare")
def document_prepare(*, schema_name: str, spec: dict[str, Any]) -> None:
    """Render and store one PDF off the request path."""
    with schema_context(schema_name):
        attachments.render(spec)


def document_prepare_defer(*, spec: dict[str, Any]) -> None:
    """Queue the preparation once: repeated clicks while it waits add nothing."""
    lock = f"{current_schema()}:{spec['document']}:{sorted(spec.get('params', {}).items())}"
    # The savepoint keeps a surrounding transaction usable after the refusal.
    with contextlib.suppress(AlreadyEnqueued), transaction.atomic():
        document_prepare.configure(queueing_lock=lock).defer(schema_name=current_schema(), spec=spec)


def stored_or_prepare(doc: PdfDocument) -> bytes | None:
    """The stored PDF, or None after queueing the job that prepares it."""
    content = doc.stored()
    if content is None:
        document_prepare_defer(spec=doc.spec())
    return content
