"""The typed configuration of one comune, read from `tenant_configs/<slug>.yaml`.

Everything about a comune that is not its users' data lives here: identity,
hosts, contacts, branding, login methods and service catalogue. The same
model validates YAML files, the operators' console form and the JSON stored
on `Comune.config`.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import threading
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from stdnum.it import iva

from tenants.definition_reasons import reason_in_italian, refusal_order
from tenants.service_definition import (
    Fees,
    Question,
    Ranking,
    School,
    ServiceDefinition,
    definition_validated,
)

LOGIN_BACKENDS = ("codice_fiscale", "credentials", "spid", "cie")
SCHOOL_YEAR_RE = re.compile(r"^(\d{4})/(\d{4})$")
HOST_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
HEX_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
ROME = ZoneInfo("Europe/Rome")
AGID_FORM_SITE = "https://form.agid.gov.it/"
# WCAG 2.1 AA for normal text.
MIN_CONTRAST = 4.5

HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://\S+$", max_length=500)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,40}$")]


def _relative_luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((_relative_luminance(a), _relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Contacts(_Strict):
    email: EmailStr | None = None
    pec: EmailStr | None = None
    website: str | None = None
    phone: str | None = None
    office: str | None = Field(default=None, description="e.g. 'Servizi scolastici e culturali'")
    address: str | None = None


class Branding(_Strict):
    primary_color: str = "#0066cc"
    emblem: str | None = Field(default=None, description="path under tenant_configs/assets/")
    header_text: str = "Portale Iscrizioni Online"

    @field_validator("primary_color")
    @classmethod
    def _accessible_colour(cls, value: str) -> str:
        if not HEX_COLOUR_RE.match(value):
            raise ValueError("deve essere un colore come #1a2b3c")
        ratio = contrast_ratio(value, "#ffffff")
        if ratio < MIN_CONTRAST:
            raise ValueError(
                f"il testo bianco su {value} ha contrasto {ratio:.2f}:1, sotto il minimo "
                f"{MIN_CONTRAST}:1 delle WCAG 2.1 AA: scegli un colore più scuro"
            )
        return value.lower()

    @field_validator("emblem")
    @classmethod
    def _safe_emblem_path(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.startswith("/") or ".." in Path(value).parts:
            raise ValueError("deve essere un percorso relativo dentro tenant_configs/assets/")
        if Path(value).suffix.lower() not in {".svg", ".png"}:
            raise ValueError("deve essere un file .svg o .png")
        return value


class Dpo(_Strict):
    """The comune's data protection officer (art. 37 GDPR), named in the privacy notice."""

    name: str = Field(min_length=2, max_length=200)
    email: EmailStr


class Identity(_Strict):
    backends: list[Literal["codice_fiscale", "credentials", "spid", "cie"]] = Field(min_length=1)
    spid_level: Literal[1, 2, 3] = 2

    @field_validator("backends")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("un metodo di accesso è indicato due volte")
        return value


EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,80}$")]


class AppIo(_Strict):
    """The comune's App IO service; its API key is read from the environment, never from here."""

    service_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{6,40}$")]
    api_key_env: EnvName
    base_url: str = "https://api.io.pagopa.it/api/v1"


class Payments(_Strict):
    """How the comune is paid (payments app): pagoPA identity, adapter, secrets' names.

    Secrets (the GPD subscription key, the receipts' shared secret, the App IO
    key) are named here and read from the environment.
    """

    adapter: Literal["gpd", "local"] = "local"
    ente_codice_fiscale: str
    # Assigned by PagoPA to the comune's intermediary (SACI: 00-49).
    segregation_code: Annotated[str, StringConstraints(pattern=r"^[0-4]\d$")]
    aux_digit: Literal[3] = 3
    tassonomia: Annotated[str, StringConstraints(pattern=r"^\d/[0-9A-Z]{9,}/$")]
    iban: Annotated[str, StringConstraints(pattern=r"^IT\d{2}[A-Z]\d{10}[0-9A-Z]{12}$")] | None = None
    # The comune's conto corrente postale: with it the avviso carries the
    # Bollettino Postale PA with Poste's Data Matrix (payments.poste).
    postal_account: str | None = None
    # "Intestato a" on the bollettino (default: the comune's name) and Poste's
    # authorisation to print bollettini in proprio, printed as given.
    postal_account_holder: str | None = Field(default=None, min_length=2, max_length=60)
    postal_authorization: str | None = Field(default=None, min_length=2, max_length=120)
    gpd_base_url: str = "https://api.platform.pagopa.it/gpd/debt-positions-service/v1"
    gpd_subscription_key_env: EnvName = "GPD_SUBSCRIPTION_KEY"
    callback_secret_env: EnvName = "PAGOPA_CALLBACK_SECRET"  # noqa: S105 (a variable name, not a secret)
    checkout_url: str = "https://checkout.pagopa.it"
    # Automatic reminder e-mail this many days after an unpaid due date (none: manual only).
    reminder_days_after_due: int | None = Field(default=None, ge=1, le=365)
    app_io: AppIo | None = None

    @field_validator("ente_codice_fiscale")
    @classmethod
    def _ente(cls, value: str) -> str:
        if not iva.is_valid(value):
            raise ValueError(f"{value!r} is not a valid 11-digit codice fiscale of an ente")
        return value

    @field_validator("postal_account", mode="before")
    @classmethod
    def _postal_account(cls, value: object) -> object:
        # Poste's codeline and Data Matrix carry exactly 12 digits; a shorter
        # number is padded by whoever writes the YAML, not guessed here. An
        # unquoted number in the YAML arrives as an int, its zeros already lost.
        if value is not None and not (isinstance(value, str) and re.fullmatch(r"\d{12}", value)):
            raise ValueError(
                f"il conto corrente postale {value!r} deve essere di 12 cifre, "
                "senza spazi (un numero più corto va completato con zeri a sinistra: "
                '12345678 diventa "000012345678", tra virgolette)'
            )
        return value


class ServiceConfig(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,19}$")]
    name: str = Field(min_length=2, max_length=120)
    description: str = ""
    school_year: str
    opens_at: datetime
    closes_at: datetime
    capacity: int | None = Field(default=None, ge=1)
    fee_note: str = ""
    new_enrollments: bool = True
    renewals: bool = True
    # The service's definition (tenants.service_definition): who may apply,
    # what the form asks, what to bring, the graduatoria and the fees.
    schools: list[School] | None = None
    questions: list[Question] = []
    documents: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = []
    ranking: Ranking | None = None
    fees: Fees | None = None

    @field_validator("school_year")
    @classmethod
    def _school_year(cls, value: str) -> str:
        m = SCHOOL_YEAR_RE.match(value)
        if not m or int(m.group(2)) != int(m.group(1)) + 1:
            raise ValueError("deve essere come 2025/2026 (due anni consecutivi)")
        return value

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _local_time(cls, value: datetime) -> datetime:
        # Dates in the YAML are the comune's wall-clock time.
        return value if value.tzinfo else value.replace(tzinfo=ROME)

    @model_validator(mode="after")
    def _window(self) -> ServiceConfig:
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at deve essere dopo opens_at")
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _definition(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> ServiceConfig:
        # Wrapped: a refused field elsewhere in the service (or in one of its
        # questions) must not hide the definition's broken references.
        return definition_validated(data, handler)

    @property
    def definition(self) -> ServiceDefinition:
        """The service's definition as one value (what the catalogue stores)."""
        return ServiceDefinition(
            schools=self.schools,
            questions=self.questions,
            documents=self.documents,
            ranking=self.ranking,
            fees=self.fees,
        )

    @property
    def definition_version(self) -> str:
        """Stored with each enrollment's answers: the definition they were answered under."""
        return self.definition.version


class WaitingRoom(_Strict):
    """The "sala d'attesa" at a window opening (tenants.waiting_room); off unless turned on."""

    enabled: bool = False
    # Parents' requests this comune's portal serves at the same instant before
    # new arrivals wait their turn (parents already inside never wait).
    capacity: int = Field(default=50, ge=1, le=10_000)
    # How often the waiting page reloads itself, and so how often a turn moves.
    refresh_seconds: int = Field(default=15, ge=5, le=120)
    # An admitted parent keeps the pass while active: it lapses only after
    # this long without a request.
    pass_minutes: int = Field(default=30, ge=5, le=480)


class ComuneConfig(_Strict):
    slug: Slug
    kind: Literal["Comune", "Città"] = "Comune"
    name: str = Field(min_length=2, max_length=120)
    province: str = Field(min_length=2)
    province_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    cap: Annotated[str, StringConstraints(pattern=r"^\d{5}$")] | None = None
    codice_fiscale: str | None = None
    partita_iva: str | None = None
    ipa_code: str | None = None
    hosts: list[str] = Field(min_length=1)
    contacts: Contacts = Contacts()
    branding: Branding = Branding()
    identity: Identity
    privacy_notice: str = Field(
        default="",
        description="The comune's informativa (art. 13 GDPR) shown by 'Leggi Dettaglio Condizioni'",
    )
    dpo: Dpo | None = None
    legal_notes: str = Field(default="", description="The comune's 'Note legali'; a standard text when empty")
    # The comune's own accessibility statement, published on AgID's form site
    # (form.agid.gov.it, a "view/<id>" page per ente); the site's home until
    # the comune pastes its page here.
    accessibility_statement_url: HttpsUrl = AGID_FORM_SITE
    services: list[ServiceConfig] = []
    # Years after the end of a school year (31 August) before its enrollments
    # and the families left without one are erased (enrollment.gdpr).
    retention_years: int = Field(default=10, ge=1, le=100)
    # Largest file a parent may upload for a file question, in megabytes.
    upload_max_mb: int = Field(default=10, ge=1, le=100)
    waiting_room: WaitingRoom = WaitingRoom()
    # pagoPA debt positions for confirmed enrollments with a fee (payments).
    payments: Payments | None = None

    @property
    def schema_name(self) -> str:
        return self.slug

    @property
    def display_name(self) -> str:
        return f"{self.kind} di {self.name}"

    @field_validator("codice_fiscale")
    @classmethod
    def _ente_codice_fiscale(cls, value: str | None) -> str | None:
        # An ente's codice fiscale is 11 digits (same check as a partita IVA).
        if value is not None and not iva.is_valid(value):
            raise ValueError(f"{value!r} non è un codice fiscale valido di un ente (11 cifre)")
        return value

    @field_validator("partita_iva")
    @classmethod
    def _partita_iva(cls, value: str | None) -> str | None:
        if value is not None and not iva.is_valid(value):
            raise ValueError(f"{value!r} non è una partita IVA valida")
        return value

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        cleaned = [h.strip().lower() for h in value]
        for host in cleaned:
            if not HOST_RE.match(host):
                raise ValueError(f"{host!r} non è un nome host valido")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("un host è indicato due volte")
        return cleaned

    @model_validator(mode="after")
    def _unique_services(self) -> ComuneConfig:
        seen = set()
        for s in self.services:
            key = (s.code, s.school_year)
            if key in seen:
                raise ValueError(f"il servizio {s.code} {s.school_year} è indicato due volte")
            seen.add(key)
        return self


class ConfigError(Exception):
    """One or more tenant configs are invalid. `problems` holds one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# pydantic's own messages, in Italian for the operators (our validators already speak it).
PYDANTIC_MESSAGES = {
    "missing": "campo obbligatorio",
    "extra_forbidden": "campo non previsto (controlla il nome)",
    "string_type": "deve essere un testo",
    "int_type": "deve essere un numero intero",
    "int_parsing": "deve essere un numero intero",
    "bool_type": "deve essere true o false",
    "bool_parsing": "deve essere true o false",
    "list_type": "deve essere un elenco",
    "dict_type": "deve essere un insieme di campi (chiave: valore)",
    "model_type": "deve essere un insieme di campi (chiave: valore)",
    "datetime_type": "deve essere una data e ora come 2025-05-05T09:00:00",
    "datetime_parsing": "deve essere una data e ora come 2025-05-05T09:00:00",
    "datetime_from_date_parsing": "deve essere una data e ora come 2025-05-05T09:00:00",
    "value_error": "{error}",
    "assertion_error": "{error}",
}


def _italian(err: Any) -> str:
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind in PYDANTIC_MESSAGES:
        text = PYDANTIC_MESSAGES[kind].format(error=ctx.get("error", err["msg"]))
        return reason_in_italian(text) or text
    if kind == "string_pattern_mismatch":
        return f"formato non valido (atteso: {ctx.get('pattern')})"
    if kind in ("string_too_short", "too_short"):
        return f"troppo corto: almeno {ctx.get('min_length')}"
    if kind in ("string_too_long", "too_long"):
        return f"troppo lungo: al massimo {ctx.get('max_length')}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"deve essere almeno {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"deve essere al massimo {ctx.get('le', ctx.get('lt'))}"
    if kind == "literal_error":
        return f"deve essere uno tra {ctx.get('expected')}"
    message = str(err["msg"]).removeprefix("Value error, ")
    # A service definition's reasons are English in the validator (they name YAML keys).
    return reason_in_italian(message) or message


def _item(items: Any, index: Any) -> Any:
    return items[index] if isinstance(items, list) and isinstance(index, int) and index < len(items) else None


def _named(item: Any, key: str) -> str | None:
    value = item.get(key) if isinstance(item, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """The service code and question or criterion id a location is in, as the operator wrote them."""
    if len(loc) < 2 or loc[0] != "services" or not isinstance(data, dict):
        return ""
    service = _item(data.get("services"), loc[1])
    names = [f"servizio {_named(service, 'code') or loc[1] + 1}"]
    rest = loc[2:]
    if len(rest) >= 2 and rest[0] == "questions" and isinstance(service, dict):
        question = _item(service.get("questions"), rest[1])
        qid = _named(question, "id")
        names.append(f"domanda «{qid}»" if qid else f"domanda {rest[1] + 1}")
    elif len(rest) >= 3 and rest[:2] == ("ranking", "criteria") and isinstance(service, dict):
        ranking = service.get("ranking")
        criterion = _item(ranking.get("criteria") if isinstance(ranking, dict) else None, rest[2])
        cid = _named(criterion, "id")
        names.append(f"criterio «{cid}»" if cid else f"criterio {rest[2] + 1}")
    return f" ({', '.join(names)})"


def _format_validation_error(source: str, exc: ValidationError, data: Any) -> list[str]:
    lines = []
    for err in sorted(exc.errors(), key=lambda e: refusal_order(tuple(e["loc"]), items=2)):
        loc = tuple(err["loc"])
        path = ".".join(str(p) for p in loc) or "(file)"
        lines.append(f"{source}: {path}{_where(loc, data)}: {_italian(err)}")
    return lines


# PyYAML builds dates and numbers while parsing, and raises ValueError, not YAMLError, for one
# that cannot be (2026-02-30): named in Italian, not a 500.
YAML_VALUE_INVALID = (
    "contiene un valore che non si può leggere, ad esempio una data che non esiste (30 febbraio)"
)


def config_parse(text: str, *, source: str) -> ComuneConfig:
    """Parse and validate one config; raise ConfigError naming source and field."""
    try:
        # libyaml's safe loader (same types as yaml.safe_load) parses a file
        # five times faster: a definition of 30 questions per service is long.
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: (file): non è YAML valido: {exc}"]) from exc
    except (ValueError, TypeError) as exc:  # a value YAML's types cannot build: 30 February, say
        raise ConfigError([f"{source}: (file): {YAML_VALUE_INVALID} ({exc})"]) from exc
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: (file): deve essere un elenco di campi (chiave: valore)"])
    try:
        return ComuneConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc, data)) from exc


# From this many files and bytes on, `config_load_files` parses them in worker
# processes, one per core: building PyYAML's objects is pure Python (~10 ms for
# a file of 3 services x 30 questions), so 1,000 such comuni take ~10 s on one
# core. Less is parsed in this process: starting the workers (each imports the
# validator, ~0.5 s) costs more than they save on a few seconds' work.
PARALLEL_MIN_FILES = 64
PARALLEL_MIN_BYTES = 4 * 1024 * 1024


def config_read(path: Path) -> str:
    """A config file's text, or a ConfigError naming the file and why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        reason = "il file non esiste (controlla il percorso)"
    except IsADirectoryError:
        reason = "è una cartella, non un file YAML"
    except PermissionError:
        reason = "il file non si può leggere: permesso negato (controlla i permessi)"
    except UnicodeDecodeError as exc:
        reason = (
            f"il file non è testo UTF-8 (byte non valido alla posizione {exc.start}): "
            "salvalo con la codifica UTF-8"
        )
    except OSError as exc:
        reason = f"il file non si può leggere ({exc.strerror or exc})"
    raise ConfigError([f"{path}: (file): {reason}"])


def _parse_file(path: Path) -> tuple[ComuneConfig | None, list[str]]:
    """One file's config, or its problems (a worker's unit: both travel back pickled)."""
    try:
        return config_parse(config_read(path), source=path.name), []
    except ConfigError as exc:
        return None, exc.problems


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _size(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except OSError:
            continue  # reported by _parse_file, as any unreadable file
    return total


def _parse_files(paths: list[Path]) -> list[tuple[ComuneConfig | None, list[str]]]:
    """Every file parsed and validated, in the order given: the same result whichever way."""
    workers = min(_cores(), len(paths) // (PARALLEL_MIN_FILES // 2))
    if len(paths) < PARALLEL_MIN_FILES or workers < 2 or _size(paths) < PARALLEL_MIN_BYTES:
        return [_parse_file(path) for path in paths]
    # `spawn`: a worker never inherits the caller's threads, locks or database connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_parse_file, paths, chunksize=max(1, len(paths) // (workers * 8))))


def config_load_files(paths: list[Path]) -> list[tuple[Path, ComuneConfig]]:
    """Validate every file, and the files together, before anything is written.

    Many files (`PARALLEL_MIN_FILES` and `PARALLEL_MIN_BYTES` or more) are parsed on every core."""
    problems: list[str] = []
    loaded: list[tuple[Path, ComuneConfig]] = []
    for path, (cfg, refused) in zip(paths, _parse_files(paths), strict=True):
        if cfg is None:
            problems.extend(refused)
            continue
        if path.stem != cfg.slug:
            problems.append(
                f"{path.name}: slug: {cfg.slug!r} deve coincidere con il nome del file {path.stem!r}"
            )
        loaded.append((path, cfg))
    host_owner: dict[str, str] = {}
    for path, cfg in loaded:
        for host in cfg.hosts:
            other = host_owner.setdefault(host, path.name)
            if other != path.name:
                problems.append(f"{path.name}: hosts: {host!r} è già usato da {other}")
    if problems:
        raise ConfigError(problems)
    return loaded


def config_dump(cfg: ComuneConfig) -> str:
    """The YAML text of a config (operators export a comune back to a file)."""
    return yaml.safe_dump(cfg.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False)


# Validated stored configs of this process, keyed by schema and a digest of
# the stored JSON. The entry is a pure function of what the row holds, so it
# can never be stale: a config changed by any process has another digest and
# is validated again on first use. LRU-bounded, so a worker that serves every
# one of 1,000 comuni keeps at most this many.
STORED_CACHE_SIZE = 1024
_stored: OrderedDict[tuple[str, str], ComuneConfig] = OrderedDict()
_stored_lock = threading.Lock()


def config_digest(stored: dict[str, Any]) -> str:
    """A digest of a stored config: equal digests, equal configs."""
    return hashlib.sha256(json.dumps(stored, separators=(",", ":")).encode()).hexdigest()


def config_from_stored(
    stored: dict[str, Any], *, schema_name: str, digest: str | None = None
) -> ComuneConfig:
    """The validated model of a config stored on `Comune.config`, validated once per process.

    Shared between the requests of one comune: read it, never change it.
    `digest`: config_digest(stored), when the caller already has it.
    """
    key = (schema_name, digest or config_digest(stored))
    with _stored_lock:
        cached = _stored.get(key)
        if cached is not None:
            _stored.move_to_end(key)
            return cached
    cfg = ComuneConfig.model_validate(stored)
    with _stored_lock:
        _stored[key] = cfg
        while len(_stored) > STORED_CACHE_SIZE:
            _stored.popitem(last=False)
    return cfg
